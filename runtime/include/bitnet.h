/* bitnet.h: the C API of a library compiled by bitnetc.
 *
 * A compiled model is one shared library (or static archive) plus a generated header, MODEL.h,
 * that includes this file and declares the model's functions with its prefix (bitnetc --name,
 * default: the output file's name), e.g. for `bitnetc model -o tiny.so`:
 *
 *     #include "tiny.h"
 *     bitnet_model* m; bitnet_session* s;
 *     char err[256];
 *     if (tiny_model_open(NULL, &m, err, sizeof err) != BITNET_OK) { puts(err); return 1; }
 *     tiny_session_create(m, NULL, &s);
 *     tiny_eval(s, ids, n, logits, BITNET_LOGITS_LAST);
 *
 * Every exported function carries the prefix, so several models link into one application.
 * The same functions are reachable through one table, PREFIX_bitnet_api(), for programs that
 * dlopen() a model without knowing its prefix at build time (bitnet-run does this).
 *
 * Rules: every function that can fail returns a bitnet_status; a message for the last failure is
 * kept by the object the call acted on (PREFIX_session_error, PREFIX_model_error) or written to
 * the caller's buffer (model_open). No function exits, aborts or keeps global mutable state.
 * Sessions are independent: different sessions of one model may run on different threads at
 * once; one session must not be used by two threads at once. Model-level calls (tokenize,
 * session_create, ...) are thread-safe.
 */
#ifndef BITNET_H
#define BITNET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BITNET_API_VERSION 1

typedef enum bitnet_status {
  BITNET_OK = 0,
  BITNET_ERR_INVALID_ARGUMENT = 1, /* NULL pointer, bad option value, n <= 0, ... */
  BITNET_ERR_TOKEN_OUT_OF_RANGE = 2, /* a token id outside [0, vocab_size) */
  BITNET_ERR_CONTEXT_FULL = 3,     /* the tokens do not fit in the session's context */
  BITNET_ERR_WEIGHTS = 4,          /* weights file missing, truncated or not this model's */
  BITNET_ERR_NO_MEMORY = 5,
  BITNET_ERR_UNSUPPORTED = 6,      /* e.g. tokenize on a library without a tokenizer */
  BITNET_ERR_BUFFER_TOO_SMALL = 7, /* the result did not fit; *needed says how much it needs */
  BITNET_ERR_INTERNAL = 8
} bitnet_status;

typedef struct bitnet_model bitnet_model;
typedef struct bitnet_session bitnet_session;

/* Options; a NULL pointer means all defaults. Set struct_size = sizeof(the struct) so that
 * later versions can grow the structs without breaking existing callers. */
typedef struct bitnet_model_options {
  size_t struct_size;
  const char* weights_path; /* --weights=external: the .weights file; NULL = beside the library */
  int32_t verify_weights;   /* 1: hash every weight byte at open (slow); 0: size + header check */
} bitnet_model_options;

typedef struct bitnet_session_options {
  size_t struct_size;
  int64_t n_ctx;     /* context length in tokens; 0 = the model's maximum */
  int32_t n_threads; /* threads for this session's evaluations; 0 = one per online CPU */
} bitnet_session_options;

typedef enum bitnet_logits_mode {
  BITNET_LOGITS_LAST = 0, /* logits receives vocab_size floats: the last token's */
  BITNET_LOGITS_ALL = 1,  /* logits receives n * vocab_size floats: every token's */
  BITNET_LOGITS_NONE = 2  /* logits may be NULL: only the cache is filled */
} bitnet_logits_mode;

/* Facts about a compiled model. */
typedef struct bitnet_model_info {
  size_t struct_size;
  const char* name;         /* the symbol prefix */
  const char* target;       /* e.g. "x86_64-unknown-linux-gnu, cpu znver4, +avx2,..." */
  const char* architecture; /* e.g. "BitNetForCausalLM"; "" for a generic graph */
  int64_t vocab_size;
  int64_t max_context;
  int32_t bos_token_id; /* -1 when none */
  int32_t eos_token_id; /* -1 when none */
  int32_t has_tokenizer;
  int64_t weight_bytes; /* bytes of weights (embedded or in the .weights file) */
  int32_t weights_external;
  /* Every id generation should stop at, as Hugging Face's generate() does: a config.json or
   * generation_config.json eos list (it may repeat eos_token_id). 0 ids: stop at eos_token_id. */
  int64_t num_eos_ids;
  const int64_t* eos_ids; /* owned by the model */
} bitnet_model_info;

/* The model's functions as a table (see PREFIX_bitnet_api). Declared here with the names the
 * prefixed functions have after the prefix. */
typedef struct bitnet_api {
  size_t struct_size;
  int32_t api_version;
  bitnet_status (*model_open)(const bitnet_model_options* options, bitnet_model** model,
                              char* error, size_t error_size);
  void (*model_close)(bitnet_model* model);
  const char* (*model_error)(const bitnet_model* model);
  bitnet_status (*model_info)(const bitnet_model* model, bitnet_model_info* info);

  bitnet_status (*session_create)(bitnet_model* model, const bitnet_session_options* options,
                                  bitnet_session** session);
  void (*session_free)(bitnet_session* session);
  const char* (*session_error)(const bitnet_session* session);
  /* Evaluates n tokens at positions n_past.. (prefill when n > 1, decode when n == 1),
   * appending them to the session's KV cache. */
  bitnet_status (*eval)(bitnet_session* session, const int32_t* tokens, int64_t n, float* logits,
                        bitnet_logits_mode mode);
  int64_t (*session_n_past)(const bitnet_session* session); /* tokens in the cache */
  bitnet_status (*session_reset)(bitnet_session* session);  /* empties the cache */
  /* Keeps the first n_keep tokens of the cache (n_keep <= n_past). */
  bitnet_status (*session_truncate)(bitnet_session* session, int64_t n_keep);

  /* Text -> ids with the embedded tokenizer (no bos added: prepend it yourself). Writes at most
   * capacity ids; *n_tokens receives the count (BITNET_ERR_BUFFER_TOO_SMALL when > capacity). */
  bitnet_status (*tokenize)(bitnet_model* model, const char* text, size_t text_len,
                            int32_t* tokens, int64_t capacity, int64_t* n_tokens);
  /* ids -> UTF-8 text (special tokens skipped when skip_special). Writes at most capacity bytes
   * plus no terminator; *n_bytes receives the length. */
  bitnet_status (*detokenize)(bitnet_model* model, const int32_t* tokens, int64_t n,
                              int32_t skip_special, char* text, size_t capacity, size_t* n_bytes);

  /* Reserved for the generic named-tensor API of non-language-model graphs (ONNX): signature
   * introspection and run with named inputs/outputs. NULL in this version. */
  void* reserved_generic[8];
} bitnet_api;

/* The prefixed declarations of one model, as the generated header writes them. */
#define BITNET_DECLARE_MODEL_API(prefix)                                                        \
  const bitnet_api* prefix##_bitnet_api(void);                                                  \
  bitnet_status prefix##_model_open(const bitnet_model_options* options, bitnet_model** model,  \
                                    char* error, size_t error_size);                            \
  void prefix##_model_close(bitnet_model* model);                                               \
  const char* prefix##_model_error(const bitnet_model* model);                                  \
  bitnet_status prefix##_model_info(const bitnet_model* model, bitnet_model_info* info);        \
  bitnet_status prefix##_session_create(bitnet_model* model,                                    \
                                        const bitnet_session_options* options,                  \
                                        bitnet_session** session);                              \
  void prefix##_session_free(bitnet_session* session);                                          \
  const char* prefix##_session_error(const bitnet_session* session);                            \
  bitnet_status prefix##_eval(bitnet_session* session, const int32_t* tokens, int64_t n,       \
                              float* logits, bitnet_logits_mode mode);                          \
  int64_t prefix##_session_n_past(const bitnet_session* session);                               \
  bitnet_status prefix##_session_reset(bitnet_session* session);                                \
  bitnet_status prefix##_session_truncate(bitnet_session* session, int64_t n_keep);             \
  bitnet_status prefix##_tokenize(bitnet_model* model, const char* text, size_t text_len,       \
                                  int32_t* tokens, int64_t capacity, int64_t* n_tokens);        \
  bitnet_status prefix##_detokenize(bitnet_model* model, const int32_t* tokens, int64_t n,      \
                                    int32_t skip_special, char* text, size_t capacity,          \
                                    size_t* n_bytes);

#ifdef __cplusplus
}
#endif

#endif /* BITNET_H */
