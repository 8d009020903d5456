/* eval.c: evaluates tokens of a language model: validates them, splits a prefill into chunks of
 * at most max_batch tokens (the size the generated code planned its scratch for), calls the
 * forward entry once per chunk and delivers the logits the caller asked for. */
#include <string.h>

#include "runtime/internal.h"

/* Calls forward on tokens [0, count) at position pos, logits into `logits` (count rows). */
static bitnet_status run_chunk(bitnet_session* s, const int32_t* tokens, int64_t count,
                               int64_t pos, float* logits) {
  const bitnet_model* m = s->model;
  const bitnet_function_desc* f = &m->desc->functions[0];
  s->dims[m->seq_dim] = count;
  void* inputs[2] = {(void*)tokens, &pos}; /* generated code never writes its inputs */
  void* outputs[1] = {logits};
  char error[BITNET_RT_ERROR_SIZE] = "";
  const bitnet_call call = {
      .dims = s->dims,
      .inputs = inputs,
      .outputs = outputs,
      .states = s->states,
      .state_rows = s->n_ctx,
      .scratch = s->scratch,
      .weights = m->weights,
      .pool = s->pool,
      .error = error,
      .error_size = (int64_t)sizeof error,
  };
  const int64_t result = f->entry(&call);
  if (result == BITNET_OK) return BITNET_OK;
  error[sizeof error - 1] = '\0';
  if (result < 0 || result > BITNET_ERR_INTERNAL)
    return bitnet_rt_session_fail(s, BITNET_ERR_INTERNAL,
                                  "eval: %s returned the unknown status %lld%s%s",
                                  f->name ? f->name : "forward", (long long)result,
                                  error[0] ? ": " : "", error);
  return bitnet_rt_session_fail(s, (bitnet_status)result, "eval: %s at position %lld: %s",
                                f->name ? f->name : "forward", (long long)pos,
                                error[0] ? error : "failed without a message");
}

bitnet_status bitnet__public_eval(bitnet_session* s, const int32_t* tokens, int64_t n,
                                  float* logits, bitnet_logits_mode mode) {
  if (!s) return BITNET_ERR_INVALID_ARGUMENT;
  const bitnet_model_desc* d = s->model->desc;
  if (!d->is_lm)
    return bitnet_rt_session_fail(s, BITNET_ERR_UNSUPPORTED,
                                  "eval: model '%s' is a generic graph, not a language model: "
                                  "run it with named tensors (run)",
                                  d->name ? d->name : "");
  if (!tokens) return bitnet_rt_session_fail(s, BITNET_ERR_INVALID_ARGUMENT, "eval: tokens is NULL");
  if (n <= 0)
    return bitnet_rt_session_fail(s, BITNET_ERR_INVALID_ARGUMENT,
                                  "eval: n is %lld, expected at least 1 token", (long long)n);
  if (mode != BITNET_LOGITS_LAST && mode != BITNET_LOGITS_ALL && mode != BITNET_LOGITS_NONE)
    return bitnet_rt_session_fail(s, BITNET_ERR_INVALID_ARGUMENT,
                                  "eval: logits mode %d is not LAST (0), ALL (1) or NONE (2)",
                                  (int)mode);
  if (!logits && mode != BITNET_LOGITS_NONE)
    return bitnet_rt_session_fail(s, BITNET_ERR_INVALID_ARGUMENT,
                                  "eval: logits is NULL (only BITNET_LOGITS_NONE allows that)");
  /* The context before the ids: a count that cannot fit (a capacity passed for a count, say)
   * must not make the scan below read past the caller's buffer. */
  if (n > s->n_ctx - s->n_past)
    return bitnet_rt_session_fail(s, BITNET_ERR_CONTEXT_FULL,
                                  "eval: %lld tokens after the %lld in the cache exceed the "
                                  "session's context of %lld tokens",
                                  (long long)n, (long long)s->n_past, (long long)s->n_ctx);
  const int64_t vocab = d->vocab_size;
  for (int64_t i = 0; i < n; ++i)
    if (tokens[i] < 0 || tokens[i] >= vocab)
      return bitnet_rt_session_fail(s, BITNET_ERR_TOKEN_OUT_OF_RANGE,
                                    "eval: token id %d at index %lld is outside [0, %lld)",
                                    (int)tokens[i], (long long)i, (long long)vocab);

  /* n_past moves only when every chunk succeeded: a failed eval leaves the session as it was
   * (rows written past n_past are overwritten by the next eval). */
  for (int64_t done = 0; done < n;) {
    const int64_t count = n - done < d->max_batch ? n - done : d->max_batch;
    float* out = mode == BITNET_LOGITS_ALL ? logits + done * vocab : s->logits;
    bitnet_status status = run_chunk(s, tokens + done, count, s->n_past + done, out);
    if (status != BITNET_OK) return status;
    done += count;
    if (done == n && mode == BITNET_LOGITS_LAST)
      memcpy(logits, s->logits + (count - 1) * vocab, (size_t)vocab * sizeof(float));
  }
  s->n_past += n;
  return BITNET_OK;
}
