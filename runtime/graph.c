/* graph.c: what the generic API says about a model's graph function: its signatures as JSON
 * (built once at model_open), the counts and per-tensor infos. run is in run.c. */
#include <stdlib.h>
#include <string.h>

#include "runtime/internal.h"

_Static_assert(BITNET_MAX_DIMS == BITNET_MAX_RANK, "public and ABI ranks differ");
_Static_assert((int)BITNET_TYPE_BOOL == (int)BITNET_BOOL && (int)BITNET_TYPE_U64 == (int)BITNET_U64 &&
                   (int)BITNET_TYPE_U8 == (int)BITNET_U8 && (int)BITNET_TYPE_F64 == (int)BITNET_F64,
               "public element types and ABI dtypes differ");

int64_t bitnet_rt_graph_function(const bitnet_model_desc* desc) {
  for (int64_t i = 0; i < desc->num_functions; ++i)
    if (desc->functions[i].name && strcmp(desc->functions[i].name, "main") == 0) return i;
  return desc->num_functions > 0 ? 0 : -1;
}

const char* bitnet_rt_type_name(int64_t dtype) {
  static const char* const names[] = {"f32", "bf16", "f16", "i8",  "i32", "i64", "u8",
                                      "ternary", "bool", "f64", "i16", "u16", "u32", "u64"};
  return dtype >= 0 && dtype < (int64_t)(sizeof names / sizeof names[0]) ? names[dtype] : "?";
}

void bitnet_rt_declared_shape(const bitnet_model_desc* desc, const bitnet_tensor_desc* t,
                              char* buffer, size_t size) {
  size_t used = 0;
  bitnet_rt_message(buffer, size, "[");
  for (int64_t i = 0; i < t->rank; ++i) {
    used = strlen(buffer);
    const int64_t d = t->dims[i];
    const char* sep = i ? ", " : "";
    if (d >= 0)
      bitnet_rt_message(buffer + used, size - used, "%s%lld", sep, (long long)d);
    else
      bitnet_rt_message(buffer + used, size - used, "%s?%s", sep, desc->dim_names[-1 - d]);
  }
  used = strlen(buffer);
  bitnet_rt_message(buffer + used, size - used, "]");
}

/* A growing string; `failed` once an allocation failed (then every append is a no-op). */
typedef struct text {
  char* data;
  size_t size, capacity;
  int failed;
} text;

static void append_bytes(text* t, const char* s, size_t n) {
  if (t->failed) return;
  if (t->size + n + 1 > t->capacity) {
    size_t capacity = t->capacity ? t->capacity : 256;
    while (t->size + n + 1 > capacity) capacity *= 2;
    char* grown = realloc(t->data, capacity);
    if (!grown) {
      t->failed = 1;
      return;
    }
    t->data = grown;
    t->capacity = capacity;
  }
  memcpy(t->data + t->size, s, n);
  t->size += n;
  t->data[t->size] = '\0';
}

static void append(text* t, const char* s) { append_bytes(t, s, strlen(s)); }

static void append_int(text* t, int64_t v) {
  char buffer[32];
  bitnet_rt_message(buffer, sizeof buffer, "%lld", (long long)v);
  append(t, buffer);
}

/* A JSON string: quotes, backslashes and control bytes escaped; other bytes as they are (names
 * come from ONNX files as UTF-8). */
static void append_json_string(text* t, const char* s) {
  append(t, "\"");
  for (const unsigned char* p = (const unsigned char*)s; *p; ++p) {
    char escaped[8];
    if (*p == '"' || *p == '\\') {
      escaped[0] = '\\';
      escaped[1] = (char)*p;
      append_bytes(t, escaped, 2);
    } else if (*p < 0x20) {
      bitnet_rt_message(escaped, sizeof escaped, "\\u%04x", *p);
      append(t, escaped);
    } else {
      append_bytes(t, (const char*)p, 1);
    }
  }
  append(t, "\"");
}

char* bitnet_rt_signature_json(const bitnet_model_desc* desc, const bitnet_tensor_desc* list,
                               int64_t n) {
  text t = {0};
  append(&t, "[");
  for (int64_t i = 0; i < n; ++i) {
    const bitnet_tensor_desc* v = &list[i];
    append(&t, i ? ",{\"type\":" : "{\"type\":");
    append_json_string(&t, bitnet_rt_type_name(v->dtype));
    append(&t, ",\"dims\":[");
    for (int64_t d = 0; d < v->rank; ++d) {
      if (d) append(&t, ",");
      append_int(&t, v->dims[d] >= 0 ? v->dims[d] : -1);
    }
    append(&t, "],\"name\":");
    append_json_string(&t, v->name ? v->name : "");
    append(&t, ",\"dim_names\":[");
    for (int64_t d = 0; d < v->rank; ++d) {
      if (d) append(&t, ",");
      if (v->dims[d] >= 0) append(&t, "null");
      else append_json_string(&t, desc->dim_names[-1 - v->dims[d]]);
    }
    append(&t, "],\"dim_max\":[");
    for (int64_t d = 0; d < v->rank; ++d) {
      if (d) append(&t, ",");
      append_int(&t, v->dims[d] >= 0 ? v->dims[d] : desc->dim_max[-1 - v->dims[d]]);
    }
    append(&t, "]}");
  }
  append(&t, "]");
  if (t.failed) {
    free(t.data);
    return NULL;
  }
  return t.data;
}

static const bitnet_function_desc* graph_of(const bitnet_model* m) {
  return m->graph >= 0 ? &m->desc->functions[m->graph] : NULL;
}

const char* bitnet__public_input_signature(const bitnet_model* model) {
  return model ? model->input_signature : NULL;
}

const char* bitnet__public_output_signature(const bitnet_model* model) {
  return model ? model->output_signature : NULL;
}

int64_t bitnet__public_num_inputs(const bitnet_model* model) {
  if (!model) return -1;
  const bitnet_function_desc* f = graph_of(model);
  return f ? f->num_inputs : 0;
}

int64_t bitnet__public_num_outputs(const bitnet_model* model) {
  if (!model) return -1;
  const bitnet_function_desc* f = graph_of(model);
  return f ? f->num_outputs : 0;
}

static bitnet_status tensor_info(const bitnet_model* model, int64_t index, bitnet_tensor_info* info,
                                 int outputs) {
  if (!model) return BITNET_ERR_INVALID_ARGUMENT;
  bitnet_model* m = (bitnet_model*)model; /* the error and its lock are not the model's value */
  const char* call = outputs ? "output_info" : "input_info";
  if (!info) return bitnet_rt_model_fail(m, BITNET_ERR_INVALID_ARGUMENT, "%s: info is NULL", call);
  if (!bitnet_rt_struct_size_ok(info->struct_size, sizeof(bitnet_tensor_info)))
    return bitnet_rt_model_fail(m, BITNET_ERR_INVALID_ARGUMENT,
                                "%s: info->struct_size is %zu, expected sizeof(bitnet_tensor_info) "
                                "= %zu",
                                call, info->struct_size, sizeof(bitnet_tensor_info));
  const bitnet_function_desc* f = graph_of(m);
  const int64_t n = !f ? 0 : outputs ? f->num_outputs : f->num_inputs;
  if (index < 0 || index >= n)
    return bitnet_rt_model_fail(m, BITNET_ERR_INVALID_ARGUMENT,
                                "%s: index %lld is outside [0, %lld) (the graph has %lld %s)", call,
                                (long long)index, (long long)n, (long long)n,
                                outputs ? "outputs" : "inputs");
  const bitnet_tensor_desc* t = outputs ? &f->outputs[index] : &f->inputs[index];
  const bitnet_model_desc* d = m->desc;
  info->name = t->name ? t->name : "";
  info->type = (int32_t)t->dtype;
  info->rank = (int32_t)t->rank;
  for (int64_t i = 0; i < BITNET_MAX_DIMS; ++i) {
    const int64_t dim = i < t->rank ? t->dims[i] : 0;
    info->dims[i] = dim >= 0 ? dim : -1;
    info->dim_names[i] = dim >= 0 ? NULL : d->dim_names[-1 - dim];
    info->dim_max[i] = dim >= 0 ? dim : d->dim_max[-1 - dim];
  }
  return BITNET_OK;
}

bitnet_status bitnet__public_input_info(const bitnet_model* model, int64_t index,
                                        bitnet_tensor_info* info) {
  return tensor_info(model, index, info, 0);
}

bitnet_status bitnet__public_output_info(const bitnet_model* model, int64_t index,
                                         bitnet_tensor_info* info) {
  return tensor_info(model, index, info, 1);
}
