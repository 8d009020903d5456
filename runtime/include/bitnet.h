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
 * A generic graph (an ONNX model, bitnetc model.onnx -o net.so) is run with named tensors:
 *
 *     bitnet_value in = {"input", BITNET_TYPE_F32, 2, {1, 3}, data, sizeof data};
 *         (net_input_signature / net_input_info say what the graph takes)
 *     bitnet_value out = {0};
 *     net_run(s, &in, 1, &out, 1);  -> out.dims, out.data (owned by s until its next run)
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
 * session_create, the signatures, ...) are thread-safe; run is a session call, like eval.
 */
#ifndef BITNET_H
#define BITNET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 2: the generic named-tensor API (input_signature ... run) in the slots version 1 reserved. */
#define BITNET_API_VERSION 2

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
  /* Added after the first version (filled when struct_size covers it): the weight bytes one
   * decode token reads (every weight once, the embedding table one row): the roofline's
   * denominator. 0 for a generic graph. */
  int64_t decode_weight_bytes;
  /* Added with it: bytes of state (the KV cache) per cached token, summed over the states: a
   * decode token at position p reads about p times this besides the weights. 0 for a generic
   * graph. */
  int64_t state_bytes_per_token;
} bitnet_model_info;

/* ---- Generic graphs (ONNX models and any IR @main without state): named tensors ----
 *
 * Element types of tensors, with the codes of the IR's dtypes (7 is the weights-only ternary). */
typedef enum bitnet_element_type {
  BITNET_TYPE_F32 = 0, BITNET_TYPE_BF16 = 1, BITNET_TYPE_F16 = 2, BITNET_TYPE_I8 = 3,
  BITNET_TYPE_I32 = 4, BITNET_TYPE_I64 = 5, BITNET_TYPE_U8 = 6,
  BITNET_TYPE_BOOL = 8, /* one byte, 0 or 1 */
  BITNET_TYPE_F64 = 9, BITNET_TYPE_I16 = 10, BITNET_TYPE_U16 = 11, BITNET_TYPE_U32 = 12,
  BITNET_TYPE_U64 = 13
} bitnet_element_type;

#define BITNET_MAX_DIMS 8

/* What one input or output of the graph is (input_info / output_info). Strings belong to the
 * model and live until model_close. */
typedef struct bitnet_tensor_info {
  size_t struct_size;
  const char* name;    /* the ONNX name (or the IR value's name) */
  int32_t type;        /* bitnet_element_type */
  int32_t rank;
  int64_t dims[BITNET_MAX_DIMS];          /* static size, or -1 for a dynamic dim */
  const char* dim_names[BITNET_MAX_DIMS]; /* a dynamic dim's name ("seq", "batch"), else NULL */
  int64_t dim_max[BITNET_MAX_DIMS];       /* a dynamic dim's bound, a static dim's size */
} bitnet_tensor_info;

/* A tensor value passed to or returned by run: dense, row-major, native-endian.
 * Input:  name (NULL = the input at this entry's position), type, rank, dims, data, bytes
 *         (= product of dims * element size); the data is only read, during the call.
 * Output: the caller may set name to choose an output (NULL = the output at this position);
 *         run sets every field. data points into memory the session owns, valid until the
 *         next run or session_free of that session: copy what you keep. */
typedef struct bitnet_value {
  const char* name;
  int32_t type; /* bitnet_element_type */
  int32_t rank;
  int64_t dims[BITNET_MAX_DIMS];
  const void* data;
  size_t bytes;
} bitnet_value;

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

  /* Generic graphs (version 2; in the slots version 1 reserved). They describe the model's
   * graph function (@main, else its first function); run needs one without state (language
   * models use eval), the others also describe a language model's forward.
   * The signatures as JSON, as onnx-mlir's omInputSignature / omOutputSignature, one object per
   * tensor: [{"type":"f32","dims":[1,-1],"name":"input","dim_names":[null,"seq"],
   * "dim_max":[1,512]}] (dims -1 = dynamic). Owned by the model, valid until model_close. */
  const char* (*input_signature)(const bitnet_model* model);
  const char* (*output_signature)(const bitnet_model* model);
  int64_t (*num_inputs)(const bitnet_model* model);  /* -1 when model is NULL */
  int64_t (*num_outputs)(const bitnet_model* model);
  /* info->struct_size must be set; index in [0, num_inputs) / [0, num_outputs). */
  bitnet_status (*input_info)(const bitnet_model* model, int64_t index, bitnet_tensor_info* info);
  bitnet_status (*output_info)(const bitnet_model* model, int64_t index, bitnet_tensor_info* info);
  /* Runs the graph once: n_inputs == num_inputs tensors (by name or position, each input once),
   * n_outputs in [1, num_outputs] entries receive outputs (by name or position). Dynamic dims
   * are bound from the inputs' dims (the same dim must have the same size in every input and
   * stay within its bound). On failure (a wrong type, rank, shape or byte count names the input)
   * the outputs are untouched and session_error says why. */
  bitnet_status (*run)(bitnet_session* session, const bitnet_value* inputs, int64_t n_inputs,
                       bitnet_value* outputs, int64_t n_outputs);
  void* reserved_generic[1]; /* NULL */
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
                                    size_t* n_bytes);                                          \
  const char* prefix##_input_signature(const bitnet_model* model);                              \
  const char* prefix##_output_signature(const bitnet_model* model);                             \
  int64_t prefix##_num_inputs(const bitnet_model* model);                                       \
  int64_t prefix##_num_outputs(const bitnet_model* model);                                      \
  bitnet_status prefix##_input_info(const bitnet_model* model, int64_t index,                   \
                                    bitnet_tensor_info* info);                                  \
  bitnet_status prefix##_output_info(const bitnet_model* model, int64_t index,                  \
                                     bitnet_tensor_info* info);                                 \
  bitnet_status prefix##_run(bitnet_session* session, const bitnet_value* inputs,             \
                             int64_t n_inputs, bitnet_value* outputs, int64_t n_outputs);

#ifdef __cplusplus
}
#endif

#endif /* BITNET_H */
