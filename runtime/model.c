/* model.c: model_open / model_close / model_error / model_info, and the descriptor checks that
 * let the rest of the runtime trust what generated code describes. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/internal.h"

int64_t bitnet_rt_dtype_size(int64_t dtype) { return bitnet_dtype_size(dtype); }

static const char* name_of(const bitnet_model_desc* desc) {
  return desc->name ? desc->name : "(unnamed)";
}

/* A tensor's rank and dims: static sizes >= 0, or -1 - i for an existing dynamic dim i. */
static int tensor_ok(const bitnet_model_desc* desc, const bitnet_tensor_desc* t, const char* what,
                     int64_t index, char* error, size_t error_size) {
  if (t->rank < 0 || t->rank > BITNET_MAX_RANK) {
    bitnet_rt_message(error, error_size, "%s %lld has rank %lld", what, (long long)index,
                      (long long)t->rank);
    return 0;
  }
  for (int64_t i = 0; i < t->rank; ++i) {
    if (t->dims[i] < -desc->num_dims) {
      bitnet_rt_message(error, error_size, "%s %lld dim %lld is %lld (the module has %lld dynamic dims)",
                        what, (long long)index, (long long)i, (long long)t->dims[i],
                        (long long)desc->num_dims);
      return 0;
    }
  }
  return 1;
}

static int tensors_ok(const bitnet_model_desc* desc, const bitnet_tensor_desc* list, int64_t n,
                      const char* what, char* error, size_t error_size) {
  if (n < 0 || (n > 0 && !list)) {
    bitnet_rt_message(error, error_size, "%lld %ss but no list", (long long)n, what);
    return 0;
  }
  for (int64_t i = 0; i < n; ++i)
    if (!tensor_ok(desc, &list[i], what, i, error, error_size)) return 0;
  return 1;
}

/* The language-model contract (docs/IR.md): function 0 is forward(tokens: i32 [?seq],
 * pos: i64 []) -> logits f32 [?seq, vocab], states static with the context as leading dim.
 * Sets *max_context (also bounded by every state's capacity) and *seq_dim. */
static int language_model_ok(const bitnet_model_desc* desc, int64_t* max_context,
                             int64_t* seq_dim, char* error, size_t error_size) {
  if (desc->num_functions < 1) {
    bitnet_rt_message(error, error_size, "a language model without functions");
    return 0;
  }
  const bitnet_function_desc* f = &desc->functions[0];
  if (!f->entry) {
    bitnet_rt_message(error, error_size, "function 0 has no entry point");
    return 0;
  }
  if (f->num_inputs != 2 || f->num_outputs != 1) {
    bitnet_rt_message(error, error_size, "forward has %lld inputs and %lld outputs, expected 2 and 1",
                      (long long)f->num_inputs, (long long)f->num_outputs);
    return 0;
  }
  const bitnet_tensor_desc* tokens = &f->inputs[0];
  const bitnet_tensor_desc* pos = &f->inputs[1];
  const bitnet_tensor_desc* logits = &f->outputs[0];
  if (tokens->dtype != BITNET_I32 || tokens->rank != 1 || tokens->dims[0] >= 0) {
    bitnet_rt_message(error, error_size, "forward input 0 is not tokens: i32 [?seq]");
    return 0;
  }
  if (pos->dtype != BITNET_I64 || pos->rank != 0) {
    bitnet_rt_message(error, error_size, "forward input 1 is not pos: i64 []");
    return 0;
  }
  if (desc->vocab_size <= 0 || desc->max_context <= 0 || desc->max_batch <= 0) {
    bitnet_rt_message(error, error_size, "vocab_size %lld, max_context %lld, max_batch %lld (must be > 0)",
                      (long long)desc->vocab_size, (long long)desc->max_context,
                      (long long)desc->max_batch);
    return 0;
  }
  if (logits->dtype != BITNET_F32 || logits->rank != 2 || logits->dims[0] != tokens->dims[0] ||
      logits->dims[1] != desc->vocab_size) {
    bitnet_rt_message(error, error_size, "forward output 0 is not logits: f32 [?seq, %lld]",
                      (long long)desc->vocab_size);
    return 0;
  }
  if (f->scratch_bytes < 0) {
    bitnet_rt_message(error, error_size, "forward needs %lld scratch bytes", (long long)f->scratch_bytes);
    return 0;
  }
  int64_t context = desc->max_context;
  for (int64_t i = 0; i < f->num_states; ++i) {
    const bitnet_tensor_desc* s = &f->states[i];
    int dims_ok = s->rank >= 1;
    for (int64_t d = 0; d < s->rank; ++d) dims_ok = dims_ok && s->dims[d] >= 0;
    if (!dims_ok || s->dims[0] == 0 || bitnet_rt_dtype_size(s->dtype) == 0) {
      bitnet_rt_message(error, error_size, "state %lld (%s) is not a static tensor with context rows",
                        (long long)i, s->name ? s->name : "?");
      return 0;
    }
    if (s->dims[0] < context) context = s->dims[0];
  }
  *max_context = context;
  *seq_dim = -1 - tokens->dims[0];
  return 1;
}

static bitnet_status check_descriptor(const bitnet_model_desc* desc, int64_t* max_context,
                                      int64_t* seq_dim, char* error, size_t error_size) {
  if (desc->abi_version != BITNET_ABI_VERSION) {
    bitnet_rt_message(error, error_size,
                      "model '%s' was generated for runtime ABI version %lld, this runtime has "
                      "version %d (recompile the model with a matching bitnetc)",
                      name_of(desc), (long long)desc->abi_version, BITNET_ABI_VERSION);
    return BITNET_ERR_INTERNAL;
  }
  char why[512] = "";
  int ok = desc->num_dims >= 0 && (desc->num_dims == 0 || (desc->dim_names && desc->dim_max)) &&
           desc->num_functions >= 0 && (desc->num_functions == 0 || desc->functions) &&
           desc->weight_bytes >= 0;
  for (int64_t i = 0; ok && i < desc->num_dims; ++i) ok = desc->dim_names[i] != NULL;
  if (!ok) bitnet_rt_message(why, sizeof why, "bad dims, functions or weight_bytes");
  for (int64_t i = 0; ok && i < desc->num_functions; ++i) {
    const bitnet_function_desc* f = &desc->functions[i];
    ok = tensors_ok(desc, f->inputs, f->num_inputs, "input", why, sizeof why) &&
         tensors_ok(desc, f->outputs, f->num_outputs, "output", why, sizeof why) &&
         tensors_ok(desc, f->states, f->num_states, "state", why, sizeof why);
    if (ok && f->scratch_bytes < 0) {
      bitnet_rt_message(why, sizeof why, "function %lld needs %lld scratch bytes", (long long)i,
                        (long long)f->scratch_bytes);
      ok = 0;
    }
  }
  *max_context = 0;
  *seq_dim = -1;
  if (ok && desc->is_lm) ok = language_model_ok(desc, max_context, seq_dim, why, sizeof why);
  if (!ok) {
    bitnet_rt_message(error, error_size, "the descriptor of model '%s' is inconsistent: %s",
                      name_of(desc), why);
    return BITNET_ERR_INTERNAL;
  }
  return BITNET_OK;
}

bitnet_status bitnet_rt_model_open(const bitnet_model_desc* desc,
                                   const bitnet_model_options* options, bitnet_model** model,
                                   char* error, size_t error_size) {
  if (error && error_size > 0) error[0] = '\0';
  if (!model) {
    bitnet_rt_message(error, error_size, "model_open: model (the result pointer) is NULL");
    return BITNET_ERR_INVALID_ARGUMENT;
  }
  *model = NULL;
  if (options && !bitnet_rt_struct_size_ok(options->struct_size, sizeof(bitnet_model_options))) {
    bitnet_rt_message(error, error_size,
                      "model_open: options->struct_size is %zu, expected sizeof(bitnet_model_options) "
                      "= %zu",
                      options->struct_size, sizeof(bitnet_model_options));
    return BITNET_ERR_INVALID_ARGUMENT;
  }
  if (options && options->verify_weights != 0 && options->verify_weights != 1) {
    bitnet_rt_message(error, error_size, "model_open: options->verify_weights is %d, expected 0 or 1",
                      (int)options->verify_weights);
    return BITNET_ERR_INVALID_ARGUMENT;
  }
  int64_t max_context, seq_dim;
  bitnet_status status = check_descriptor(desc, &max_context, &seq_dim, error, error_size);
  if (status != BITNET_OK) return status;

  bitnet_model* m = calloc(1, sizeof *m);
  if (!m) {
    bitnet_rt_message(error, error_size, "model_open: out of memory");
    return BITNET_ERR_NO_MEMORY;
  }
  m->desc = desc;
  m->max_context = max_context;
  m->seq_dim = seq_dim;
  m->last_row_fn = bitnet_rt_last_row_function(desc);
  if (pthread_mutex_init(&m->lock, NULL) != 0) {
    free(m);
    bitnet_rt_message(error, error_size, "model_open: cannot create a mutex");
    return BITNET_ERR_INTERNAL;
  }
  m->graph = bitnet_rt_graph_function(desc);
  const bitnet_function_desc* g = m->graph >= 0 ? &desc->functions[m->graph] : NULL;
  m->input_signature = bitnet_rt_signature_json(desc, g ? g->inputs : NULL, g ? g->num_inputs : 0);
  m->output_signature =
      bitnet_rt_signature_json(desc, g ? g->outputs : NULL, g ? g->num_outputs : 0);
  if (!m->input_signature || !m->output_signature) {
    bitnet_rt_message(error, error_size, "model_open: out of memory");
    status = BITNET_ERR_NO_MEMORY;
  } else {
    status = bitnet_rt_weights_open(m, options, error, error_size);
  }
  if (status != BITNET_OK) {
    free(m->input_signature);
    free(m->output_signature);
    pthread_mutex_destroy(&m->lock);
    free(m);
    return status;
  }
  *model = m;
  return BITNET_OK;
}

bitnet_status bitnet__public_model_open(const bitnet_model_options* options, bitnet_model** model,
                                        char* error, size_t error_size) {
  return bitnet_rt_model_open(&bitnet__model, options, model, error, error_size);
}

void bitnet__public_model_close(bitnet_model* model) {
  if (!model) return;
  bitnet_rt_tokenizer_close(model);
  bitnet_rt_weights_close(model);
  free(model->input_signature);
  free(model->output_signature);
  pthread_mutex_destroy(&model->lock);
  free(model);
}

const char* bitnet__public_model_error(const bitnet_model* model) {
  if (!model) return "model is NULL";
  bitnet_model* m = (bitnet_model*)model; /* the lock is not part of the model's value */
  pthread_mutex_lock(&m->lock);
  const char* text = m->error;
  pthread_mutex_unlock(&m->lock);
  return text;
}

/* Bytes of every state's row (the leading dim is the context). */
static int64_t state_bytes_per_token(const bitnet_function_desc* f) {
  int64_t total = 0;
  for (int64_t i = 0; i < f->num_states; ++i) {
    int64_t bytes = bitnet_rt_dtype_size(f->states[i].dtype);
    for (int64_t d = 1; d < f->states[i].rank; ++d) bytes *= f->states[i].dims[d];
    total += bytes;
  }
  return total;
}

bitnet_status bitnet__public_model_info(const bitnet_model* model, bitnet_model_info* info) {
  if (!model) return BITNET_ERR_INVALID_ARGUMENT;
  bitnet_model* m = (bitnet_model*)model;
  if (!info) return bitnet_rt_model_fail(m, BITNET_ERR_INVALID_ARGUMENT, "model_info: info is NULL");
  /* The first version ended at eos_ids; later fields are filled when struct_size covers them. */
  const size_t version1 = offsetof(bitnet_model_info, decode_weight_bytes);
  if (!bitnet_rt_struct_size_ok(info->struct_size, version1))
    return bitnet_rt_model_fail(m, BITNET_ERR_INVALID_ARGUMENT,
                                "model_info: info->struct_size is %zu, expected "
                                "sizeof(bitnet_model_info) = %zu (or %zu, its first version)",
                                info->struct_size, sizeof(bitnet_model_info), version1);
  const bitnet_model_desc* d = m->desc;
  info->name = d->name ? d->name : "";
  info->target = d->target ? d->target : "";
  info->architecture = d->is_lm && d->architecture ? d->architecture : "";
  info->vocab_size = d->is_lm ? d->vocab_size : 0;
  info->max_context = m->max_context;
  info->bos_token_id = d->is_lm ? (int32_t)d->bos_token_id : -1;
  info->eos_token_id = d->is_lm ? (int32_t)d->eos_token_id : -1;
  info->has_tokenizer =
      d->tokenizer_json && d->tokenizer_json_bytes > 0 && bitnet_rt_has_tokenizer_shim();
  info->weight_bytes = d->weight_bytes;
  info->weights_external = d->weights_embedded == NULL && d->weight_bytes > 0;
  info->num_eos_ids = d->is_lm ? d->num_eos_ids : 0;
  info->eos_ids = d->is_lm && d->num_eos_ids > 0 ? d->eos_ids : NULL;
  if (info->struct_size >= offsetof(bitnet_model_info, decode_weight_bytes) + sizeof(int64_t))
    info->decode_weight_bytes = d->is_lm ? d->decode_weight_bytes : 0;
  if (info->struct_size >= offsetof(bitnet_model_info, state_bytes_per_token) + sizeof(int64_t))
    info->state_bytes_per_token = d->is_lm ? state_bytes_per_token(&d->functions[0]) : 0;
  return BITNET_OK;
}
