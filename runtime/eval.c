/* eval.c: evaluates tokens of a language model: validates them, splits a prefill into chunks of
 * at most max_batch tokens (the size the generated code planned its scratch for), calls the
 * forward entry once per chunk and delivers the logits the caller asked for. */
#include <string.h>

#include "runtime/internal.h"

/* @forward_last (targets/passes/LastRowLogits.cpp): @forward with the logits of the last row
 * only, for evals that want no other row. Used when it has forward's inputs and states, logits
 * f32 [1, vocab] and needs no more scratch than forward (sessions size it for forward);
 * otherwise -1 and forward serves every mode. */
int64_t bitnet_rt_last_row_function(const bitnet_model_desc* d) {
  if (!d->is_lm || d->num_functions < 2) return -1;
  const bitnet_function_desc* f = &d->functions[0];
  for (int64_t i = 1; i < d->num_functions; ++i) {
    const bitnet_function_desc* g = &d->functions[i];
    if (!g->name || strcmp(g->name, "forward_last") != 0) continue;
    const bitnet_tensor_desc* out = g->num_outputs == 1 ? &g->outputs[0] : NULL;
    int ok = g->entry && g->num_inputs == f->num_inputs && g->num_states == f->num_states &&
             g->scratch_bytes <= f->scratch_bytes && out && out->dtype == BITNET_F32 &&
             out->rank == 2 && out->dims[0] == 1 && out->dims[1] == d->vocab_size;
    for (int64_t k = 0; ok && k < g->num_inputs; ++k)
      ok = g->inputs[k].dtype == f->inputs[k].dtype && g->inputs[k].rank == f->inputs[k].rank;
    for (int64_t k = 0; ok && k < g->num_states; ++k)
      ok = g->states[k].dtype == f->states[k].dtype && g->states[k].rank == f->states[k].rank &&
           memcmp(g->states[k].dims, f->states[k].dims, (size_t)f->states[k].rank * sizeof(int64_t)) == 0;
    return ok ? i : -1;
  }
  return -1;
}

/* Calls function fn (forward: count rows of logits; forward_last: the last row's) on tokens
 * [0, count) at position pos. */
static bitnet_status run_chunk(bitnet_session* s, int64_t fn, const int32_t* tokens, int64_t count,
                               int64_t pos, float* logits) {
  const bitnet_model* m = s->model;
  const bitnet_function_desc* f = &m->desc->functions[fn];
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
  /* Unless every row is wanted, the last row's logits come from @forward_last (the LM head
   * on one row) when the model has it. The rows land in the caller's buffer when they are
   * exactly what it asked for, else in the session's, and the last row is copied from there. */
  const int64_t fn = mode != BITNET_LOGITS_ALL && s->model->last_row_fn > 0 ? s->model->last_row_fn : 0;
  for (int64_t done = 0; done < n;) {
    const int64_t count = n - done < d->max_batch ? n - done : d->max_batch;
    const int last = done + count == n;
    const int64_t rows = fn ? 1 : count;
    float* out = mode == BITNET_LOGITS_ALL                       ? logits + done * vocab
                 : last && mode == BITNET_LOGITS_LAST && rows == 1 ? logits
                                                                   : s->logits;
    bitnet_status status = run_chunk(s, fn, tokens + done, count, s->n_past + done, out);
    if (status != BITNET_OK) return status;
    done += count;
    if (last && mode == BITNET_LOGITS_LAST && out != logits)
      memcpy(logits, s->logits + (rows - 1) * vocab, (size_t)vocab * sizeof(float));
  }
  s->n_past += n;
  return BITNET_OK;
}
