/* tokenizer.c: tokenize / detokenize through the tokenizer shim (tokenizer_shim.cpp, C++).
 * The shim is linked only into host-target libraries, so its functions are weak here: in a
 * library built without it they are NULL and these calls report BITNET_ERR_UNSUPPORTED. They are
 * hidden too, so a missing shim is resolved at link time, never by another object at load time. */
#include "runtime/internal.h"

#define SHIM __attribute__((weak, visibility("hidden")))
SHIM bitnet_tokenizer* bitnet_tokenizer_create(const char* json, size_t json_bytes, char* error,
                                               size_t error_size);
SHIM void bitnet_tokenizer_free(bitnet_tokenizer* t);
SHIM int64_t bitnet_tokenizer_encode(const bitnet_tokenizer* t, const char* text, size_t text_len,
                                     int32_t* tokens, int64_t capacity, int64_t* n_tokens,
                                     char* error, size_t error_size);
SHIM int64_t bitnet_tokenizer_decode(const bitnet_tokenizer* t, const int32_t* tokens, int64_t n,
                                     int32_t skip_special, char* text, size_t capacity,
                                     size_t* n_bytes, char* error, size_t error_size);

int bitnet_rt_has_tokenizer_shim(void) {
  return bitnet_tokenizer_create && bitnet_tokenizer_free && bitnet_tokenizer_encode &&
         bitnet_tokenizer_decode;
}

void bitnet_rt_tokenizer_close(bitnet_model* m) {
  if (m->tokenizer && bitnet_tokenizer_free) bitnet_tokenizer_free(m->tokenizer);
  m->tokenizer = NULL;
}

/* The model's tokenizer, created on first use (parsing a large tokenizer.json takes a while:
 * applications that only evaluate never pay for it). Fails with the model's error set. */
static bitnet_status get_tokenizer(bitnet_model* m, const char* call, const bitnet_tokenizer** out) {
  const bitnet_model_desc* d = m->desc;
  /* The model's own lack first: the backend links the shim only for models with a tokenizer,
   * so a checkpoint without tokenizer.json also lacks the shim, on every target. */
  if (!d->tokenizer_json || d->tokenizer_json_bytes <= 0)
    return bitnet_rt_model_fail(m, BITNET_ERR_UNSUPPORTED,
                                "%s: model '%s' was compiled without a tokenizer (its checkpoint "
                                "has no tokenizer.json)",
                                call, d->name ? d->name : "");
  if (!bitnet_rt_has_tokenizer_shim())
    return bitnet_rt_model_fail(m, BITNET_ERR_UNSUPPORTED,
                                "%s: this library was built without the tokenizer (target %s)",
                                call, d->target ? d->target : "?");
  char error[BITNET_RT_ERROR_SIZE] = "";
  pthread_mutex_lock(&m->lock);
  if (!m->tokenizer)
    m->tokenizer = bitnet_tokenizer_create((const char*)d->tokenizer_json,
                                           (size_t)d->tokenizer_json_bytes, error, sizeof error);
  *out = m->tokenizer;
  pthread_mutex_unlock(&m->lock);
  if (!*out)
    return bitnet_rt_model_fail(m, BITNET_ERR_UNSUPPORTED,
                                "%s: the embedded tokenizer.json of model '%s' cannot be loaded: %s",
                                call, d->name ? d->name : "", error);
  return BITNET_OK;
}

/* A shim status: 0 or a bitnet_status with the message in error. */
static bitnet_status shim_result(bitnet_model* m, int64_t result, const char* call,
                                 const char* error) {
  if (result == BITNET_OK) return BITNET_OK;
  if (result < 0 || result > BITNET_ERR_INTERNAL)
    return bitnet_rt_model_fail(m, BITNET_ERR_INTERNAL, "%s: unknown status %lld: %s", call,
                                (long long)result, error);
  return bitnet_rt_model_fail(m, (bitnet_status)result, "%s: %s", call, error);
}

bitnet_status bitnet__public_tokenize(bitnet_model* m, const char* text, size_t text_len,
                                      int32_t* tokens, int64_t capacity, int64_t* n_tokens) {
  if (!m) return BITNET_ERR_INVALID_ARGUMENT;
  if (!n_tokens)
    return bitnet_rt_model_fail(m, BITNET_ERR_INVALID_ARGUMENT, "tokenize: n_tokens is NULL");
  *n_tokens = 0;
  if (!text && text_len > 0)
    return bitnet_rt_model_fail(m, BITNET_ERR_INVALID_ARGUMENT,
                                "tokenize: text is NULL but text_len is %zu", text_len);
  if (capacity < 0 || (!tokens && capacity > 0))
    return bitnet_rt_model_fail(m, BITNET_ERR_INVALID_ARGUMENT,
                                "tokenize: capacity %lld with tokens %s", (long long)capacity,
                                tokens ? "set" : "NULL");
  const bitnet_tokenizer* t;
  bitnet_status status = get_tokenizer(m, "tokenize", &t);
  if (status != BITNET_OK) return status;
  char error[BITNET_RT_ERROR_SIZE] = "";
  int64_t result = bitnet_tokenizer_encode(t, text ? text : "", text_len, tokens, capacity,
                                           n_tokens, error, sizeof error);
  return shim_result(m, result, "tokenize", error);
}

bitnet_status bitnet__public_detokenize(bitnet_model* m, const int32_t* tokens, int64_t n,
                                        int32_t skip_special, char* text, size_t capacity,
                                        size_t* n_bytes) {
  if (!m) return BITNET_ERR_INVALID_ARGUMENT;
  if (!n_bytes)
    return bitnet_rt_model_fail(m, BITNET_ERR_INVALID_ARGUMENT, "detokenize: n_bytes is NULL");
  *n_bytes = 0;
  if (n < 0 || (!tokens && n > 0))
    return bitnet_rt_model_fail(m, BITNET_ERR_INVALID_ARGUMENT, "detokenize: n is %lld with tokens %s",
                                (long long)n, tokens ? "set" : "NULL");
  if (!text && capacity > 0)
    return bitnet_rt_model_fail(m, BITNET_ERR_INVALID_ARGUMENT,
                                "detokenize: text is NULL but capacity is %zu", capacity);
  if (skip_special != 0 && skip_special != 1)
    return bitnet_rt_model_fail(m, BITNET_ERR_INVALID_ARGUMENT,
                                "detokenize: skip_special is %d, expected 0 or 1", (int)skip_special);
  const bitnet_tokenizer* t;
  bitnet_status status = get_tokenizer(m, "detokenize", &t);
  if (status != BITNET_OK) return status;
  char error[BITNET_RT_ERROR_SIZE] = "";
  int64_t result = bitnet_tokenizer_decode(t, tokens, n, skip_special, text, capacity, n_bytes,
                                           error, sizeof error);
  return shim_result(m, result, "detokenize", error);
}
