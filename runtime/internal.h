/* internal.h: what the runtime's files share (not installed, not part of any API).
 *
 * The runtime implements runtime/include/bitnet.h over the model descriptor (bitnet_abi.h).
 * Public functions are named bitnet__public_<name>; the backend renames them to PREFIX_<name>
 * and internalizes everything else, so the bitnet_rt_* names below never leave a library.
 * Every function that works on a descriptor takes it as a parameter: only the public
 * model_open reads `bitnet__model`, so unit tests can open hand-written descriptors. */
#ifndef BITNET_RUNTIME_INTERNAL_H
#define BITNET_RUNTIME_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/abi/bitnet_abi.h"
#include "runtime/include/bitnet.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The public functions under their pre-rename names (bitnet__public_model_open, ...). */
BITNET_DECLARE_MODEL_API(bitnet__public)

/* Defined by generated code (a unit test's fake model in the native library's tests). */
extern const bitnet_model_desc bitnet__model;

#define BITNET_RT_ERROR_SIZE 1024
/* Bounds that catch garbage in option structs (uninitialized struct_size, n_threads). */
#define BITNET_RT_MAX_STRUCT_SIZE 4096
#define BITNET_RT_MAX_THREADS 1024

struct bitnet_model {
  const bitnet_model_desc* desc;
  int64_t max_context;     /* min(desc->max_context, every state's capacity); 0 if not an LM */
  int64_t seq_dim;         /* index of the tokens' dynamic dim in desc->dim_names (LM only) */
  int64_t last_row_fn;     /* @forward_last's index (eval.c), or -1: forward serves every mode */
  const uint8_t* weights;  /* the blob: embedded, or inside weights_map */
  void* weights_map;       /* mmap of the external weights file, or NULL */
  size_t weights_map_bytes;
  pthread_mutex_t lock;    /* guards error and tokenizer */
  char error[BITNET_RT_ERROR_SIZE];
  bitnet_tokenizer* tokenizer; /* created on first use */
  /* The generic API's graph function (@main, else function 0; -1 without functions) and its
   * signatures as JSON, built at open (read-only afterwards: no lock needed). */
  int64_t graph;
  char* input_signature;
  char* output_signature;
};

struct bitnet_session {
  bitnet_model* model;
  int64_t n_ctx;
  int64_t n_past;
  int64_t* dims;        /* desc->num_dims values for bitnet_call.dims */
  void** states;        /* function 0's states, n_ctx rows each, inside state_memory */
  void* state_memory;   /* one anonymous mapping (zero pages until touched) */
  size_t state_memory_bytes;
  uint8_t* scratch;     /* function 0's scratch, 64-byte aligned */
  float* logits;        /* max_batch * vocab_size floats for LOGITS_LAST / NONE */
  bitnet_pool* pool;
  /* run (generic graphs): the graph's scratch is `scratch`; per input a pointer for the call,
   * per output a session-owned buffer of output_capacity bytes (grown as shapes need). */
  void** input_data;
  void** output_data;
  size_t* output_capacity;
  int64_t* dim_source;  /* per dynamic dim: the input that bound it in this run, or -1 */
  char error[BITNET_RT_ERROR_SIZE];
};

/* message.c: snprintf into an error buffer (never more than size bytes, always terminated). */
void bitnet_rt_message(char* buffer, size_t size, const char* format, ...)
    __attribute__((format(printf, 3, 4)));
void bitnet_rt_vmessage(char* buffer, size_t size, const char* format, va_list args);
/* Writes the model's error under its lock and returns status. */
bitnet_status bitnet_rt_model_fail(bitnet_model* model, bitnet_status status, const char* format,
                                   ...) __attribute__((format(printf, 3, 4)));
/* Writes the session's error and returns status. */
bitnet_status bitnet_rt_session_fail(bitnet_session* session, bitnet_status status,
                                     const char* format, ...) __attribute__((format(printf, 3, 4)));
/* Checks an options/info struct_size: 0 and garbage are errors, smaller than version 1 too. */
int bitnet_rt_struct_size_ok(size_t struct_size, size_t version1_size);

/* eval.c: the index of @forward_last when it can stand in for forward's last row, else -1. */
int64_t bitnet_rt_last_row_function(const bitnet_model_desc* desc);

/* model.c: model_open over any descriptor (the public one passes &bitnet__model). */
bitnet_status bitnet_rt_model_open(const bitnet_model_desc* desc,
                                   const bitnet_model_options* options, bitnet_model** model,
                                   char* error, size_t error_size);
/* Bytes of one element of a bitnet_dtype; 0 for TERNARY and unknown values. */
int64_t bitnet_rt_dtype_size(int64_t dtype);

/* graph.c: the generic API's graph function (its index, chosen at open), the name of an
 * element type ("f32"; "?" for unknown codes), and the signatures (malloc'd JSON; NULL when out
 * of memory). */
int64_t bitnet_rt_graph_function(const bitnet_model_desc* desc);
const char* bitnet_rt_type_name(int64_t dtype);
char* bitnet_rt_signature_json(const bitnet_model_desc* desc, const bitnet_tensor_desc* list,
                               int64_t n);
/* Writes "[1, ?seq]" (a declared shape) into buffer. */
void bitnet_rt_declared_shape(const bitnet_model_desc* desc, const bitnet_tensor_desc* t,
                              char* buffer, size_t size);

/* weights.c: points model->weights at the blob (embedded or a mapped external file) after
 * checking it; writes error on failure. */
bitnet_status bitnet_rt_weights_open(bitnet_model* model, const bitnet_model_options* options,
                                     char* error, size_t error_size);
void bitnet_rt_weights_close(bitnet_model* model);

/* pool.c: a pool of n_threads - 1 workers plus the calling thread (NULL when out of memory). */
bitnet_pool* bitnet_rt_pool_create(int64_t n_threads);
void bitnet_rt_pool_free(bitnet_pool* pool);

/* tokenizer.c: whether this library carries the tokenizer shim; frees model->tokenizer. */
int bitnet_rt_has_tokenizer_shim(void);
void bitnet_rt_tokenizer_close(bitnet_model* model);

#ifdef __cplusplus
}
#endif

#endif /* BITNET_RUNTIME_INTERNAL_H */
