/* run.c: run of a generic graph (bitnet.h): matches the caller's tensors to the graph's inputs
 * and outputs (by name or position), checks every input's type, rank, dims and byte count
 * against its declaration, binds the dynamic dims from the inputs' dims, sizes the session's
 * output buffers for the outputs' actual shapes and calls the graph's entry once. Every check
 * happens before the call: a failed run leaves the caller's outputs untouched. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* posix_memalign under -std=c11 */
#endif
#include <stdlib.h>
#include <string.h>

#include "runtime/internal.h"

#define TEXT 256 /* room for a shape or a list of names in a message */

static const char* name_of(const bitnet_tensor_desc* t) { return t->name ? t->name : "?"; }

static int64_t find(const bitnet_tensor_desc* list, int64_t n, const char* name) {
  for (int64_t i = 0; i < n; ++i)
    if (list[i].name && strcmp(list[i].name, name) == 0) return i;
  return -1;
}

/* "'a', 'b', 'c'" (cut short with "..." when long). */
static void names_text(const bitnet_tensor_desc* list, int64_t n, char* buffer, size_t size) {
  buffer[0] = '\0';
  for (int64_t i = 0; i < n; ++i) {
    const size_t used = strlen(buffer);
    if (used + 8 >= size) {
      bitnet_rt_message(buffer + used, size - used, "...");
      return;
    }
    bitnet_rt_message(buffer + used, size - used, "%s'%s'", i ? ", " : "", name_of(&list[i]));
  }
  if (n == 0) bitnet_rt_message(buffer, size, "none");
}

static void dims_text(const int64_t* dims, int64_t rank, char* buffer, size_t size) {
  bitnet_rt_message(buffer, size, "[");
  for (int64_t i = 0; i < rank; ++i) {
    const size_t used = strlen(buffer);
    bitnet_rt_message(buffer + used, size - used, "%s%lld", i ? ", " : "", (long long)dims[i]);
  }
  const size_t used = strlen(buffer);
  bitnet_rt_message(buffer + used, size - used, "]");
}

/* Which caller entry goes to which slot of `list`: slot_entry[slot] = entry index. Entries name
 * their slot or take the one at their position; a slot may be named once. */
static bitnet_status match(bitnet_session* s, const char* what, const bitnet_tensor_desc* list,
                           int64_t n_list, const bitnet_value* entries, int64_t n_entries,
                           int64_t* slot_entry) {
  for (int64_t i = 0; i < n_list; ++i) slot_entry[i] = -1;
  for (int64_t e = 0; e < n_entries; ++e) {
    const char* name = entries[e].name;
    const int64_t slot = name ? find(list, n_list, name) : e;
    if (slot < 0) {
      char names[TEXT];
      names_text(list, n_list, names, sizeof names);
      return bitnet_rt_session_fail(s, BITNET_ERR_INVALID_ARGUMENT,
                                    "run: %ss[%lld] names '%s', which is not an %s of the graph "
                                    "(its %ss: %s)",
                                    what, (long long)e, name, what, what, names);
    }
    if (slot_entry[slot] >= 0)
      return bitnet_rt_session_fail(s, BITNET_ERR_INVALID_ARGUMENT,
                                    "run: %s '%s' is given twice (%ss[%lld] and %ss[%lld])", what,
                                    name_of(&list[slot]), what, (long long)slot_entry[slot], what,
                                    (long long)e);
    slot_entry[slot] = e;
  }
  return BITNET_OK;
}

/* Checks one input against its declaration and binds its dynamic dims into s->dims. */
static bitnet_status bind_input(bitnet_session* s, const bitnet_function_desc* f, int64_t slot,
                                const bitnet_value* v) {
  const bitnet_model_desc* d = s->model->desc;
  const bitnet_tensor_desc* t = &f->inputs[slot];
  const char* name = name_of(t);
  char declared[TEXT], given[TEXT];
  bitnet_rt_declared_shape(d, t, declared, sizeof declared);
  if (v->type != t->dtype)
    return bitnet_rt_session_fail(s, BITNET_ERR_INVALID_ARGUMENT,
                                  "run: input '%s' has type %s (%d), the graph takes %s %s", name,
                                  bitnet_rt_type_name(v->type), (int)v->type,
                                  bitnet_rt_type_name(t->dtype), declared);
  if (v->rank < 0 || v->rank > BITNET_MAX_DIMS || v->rank != t->rank)
    return bitnet_rt_session_fail(s, BITNET_ERR_INVALID_ARGUMENT,
                                  "run: input '%s' has rank %d, the graph takes %s %s", name,
                                  (int)v->rank, bitnet_rt_type_name(t->dtype), declared);
  dims_text(v->dims, v->rank, given, sizeof given);
  uint64_t bytes = (uint64_t)bitnet_rt_dtype_size(t->dtype);
  if (bytes == 0)
    return bitnet_rt_session_fail(s, BITNET_ERR_INTERNAL, "run: input '%s' has dtype %lld", name,
                                  (long long)t->dtype);
  for (int64_t i = 0; i < t->rank; ++i) {
    const int64_t size = v->dims[i];
    const int64_t want = t->dims[i];
    if (size < 0 || (want >= 0 && size != want))
      return bitnet_rt_session_fail(s, BITNET_ERR_INVALID_ARGUMENT,
                                    "run: input '%s' has dims %s, the graph takes %s %s", name,
                                    given, bitnet_rt_type_name(t->dtype), declared);
    if (want < 0) {
      const int64_t k = -1 - want;
      if (size > d->dim_max[k])
        return bitnet_rt_session_fail(s, BITNET_ERR_INVALID_ARGUMENT,
                                      "run: input '%s' has dims %s: dim %lld (?%s) = %lld exceeds "
                                      "its bound %lld (fixed when the model was compiled)",
                                      name, given, (long long)i, d->dim_names[k], (long long)size,
                                      (long long)d->dim_max[k]);
      if (s->dim_source[k] >= 0 && s->dims[k] != size)
        return bitnet_rt_session_fail(s, BITNET_ERR_INVALID_ARGUMENT,
                                      "run: input '%s' has dims %s: dim %lld (?%s) = %lld, but "
                                      "input '%s' has ?%s = %lld",
                                      name, given, (long long)i, d->dim_names[k], (long long)size,
                                      name_of(&f->inputs[s->dim_source[k]]), d->dim_names[k],
                                      (long long)s->dims[k]);
      s->dims[k] = size;
      s->dim_source[k] = slot;
    }
    if (__builtin_mul_overflow(bytes, (uint64_t)size, &bytes) || bytes > SIZE_MAX / 2)
      return bitnet_rt_session_fail(s, BITNET_ERR_INVALID_ARGUMENT,
                                    "run: input '%s' with dims %s is too large", name, given);
  }
  if (v->bytes != bytes)
    return bitnet_rt_session_fail(s, BITNET_ERR_INVALID_ARGUMENT,
                                  "run: input '%s' has %zu bytes, its dims %s of %s take %llu",
                                  name, v->bytes, given, bitnet_rt_type_name(t->dtype),
                                  (unsigned long long)bytes);
  if (!v->data && bytes > 0)
    return bitnet_rt_session_fail(s, BITNET_ERR_INVALID_ARGUMENT, "run: input '%s' data is NULL",
                                  name);
  s->input_data[slot] = (void*)v->data; /* generated code never writes its inputs */
  return BITNET_OK;
}

/* The actual dims of output `slot` (from s->dims) and its bytes; grows its buffer to fit. */
static bitnet_status size_output(bitnet_session* s, const bitnet_function_desc* f, int64_t slot,
                                 int64_t* dims, uint64_t* bytes_out) {
  const bitnet_model_desc* d = s->model->desc;
  const bitnet_tensor_desc* t = &f->outputs[slot];
  uint64_t bytes = (uint64_t)bitnet_rt_dtype_size(t->dtype);
  if (bytes == 0)
    return bitnet_rt_session_fail(s, BITNET_ERR_INTERNAL, "run: output '%s' has dtype %lld",
                                  name_of(t), (long long)t->dtype);
  for (int64_t i = 0; i < t->rank; ++i) {
    const int64_t k = -1 - t->dims[i];
    if (t->dims[i] < 0 && s->dim_source[k] < 0)
      return bitnet_rt_session_fail(s, BITNET_ERR_UNSUPPORTED,
                                    "run: output '%s' dim %lld (?%s) is not the dim of any input "
                                    "(an output size that depends on values is not supported)",
                                    name_of(t), (long long)i, d->dim_names[k]);
    dims[i] = t->dims[i] >= 0 ? t->dims[i] : s->dims[k];
    if (__builtin_mul_overflow(bytes, (uint64_t)dims[i], &bytes) || bytes > SIZE_MAX / 2)
      return bitnet_rt_session_fail(s, BITNET_ERR_NO_MEMORY, "run: output '%s' is too large",
                                    name_of(t));
  }
  *bytes_out = bytes;
  if (s->output_data[slot] && s->output_capacity[slot] >= bytes) return BITNET_OK;
  void* p = NULL;
  const size_t rounded = ((size_t)bytes + 63) & ~(size_t)63;
  if (posix_memalign(&p, 64, rounded ? rounded : 64) != 0)
    return bitnet_rt_session_fail(s, BITNET_ERR_NO_MEMORY,
                                  "run: out of memory for %llu bytes of output '%s'",
                                  (unsigned long long)bytes, name_of(t));
  free(s->output_data[slot]);
  s->output_data[slot] = p;
  s->output_capacity[slot] = rounded ? rounded : 64;
  return BITNET_OK;
}

static bitnet_status call_entry(bitnet_session* s, const bitnet_function_desc* f) {
  const bitnet_model* m = s->model;
  char error[BITNET_RT_ERROR_SIZE] = "";
  const bitnet_call call = {
      .dims = s->dims,
      .inputs = s->input_data,
      .outputs = s->output_data,
      .states = NULL,
      .state_rows = 0,
      .scratch = s->scratch,
      .weights = m->weights,
      .pool = s->pool,
      .error = error,
      .error_size = (int64_t)sizeof error,
  };
  const int64_t result = f->entry(&call);
  if (result == BITNET_OK) return BITNET_OK;
  error[sizeof error - 1] = '\0';
  const char* fn = f->name ? f->name : "?";
  if (result < 0 || result > BITNET_ERR_INTERNAL)
    return bitnet_rt_session_fail(s, BITNET_ERR_INTERNAL, "run: @%s returned the unknown status %lld%s%s",
                                  fn, (long long)result, error[0] ? ": " : "", error);
  return bitnet_rt_session_fail(s, (bitnet_status)result, "run: %s",
                                error[0] ? error : "the graph failed without a message");
}

bitnet_status bitnet__public_run(bitnet_session* s, const bitnet_value* inputs, int64_t n_inputs,
                                 bitnet_value* outputs, int64_t n_outputs) {
  if (!s) return BITNET_ERR_INVALID_ARGUMENT;
  const bitnet_model* m = s->model;
  const bitnet_model_desc* d = m->desc;
  const char* model_name = d->name ? d->name : "";
  if (d->is_lm)
    return bitnet_rt_session_fail(s, BITNET_ERR_UNSUPPORTED,
                                  "run: model '%s' is a language model: evaluate tokens with eval",
                                  model_name);
  if (m->graph < 0)
    return bitnet_rt_session_fail(s, BITNET_ERR_UNSUPPORTED, "run: model '%s' has no function",
                                  model_name);
  const bitnet_function_desc* f = &d->functions[m->graph];
  const char* fn = f->name ? f->name : "?";
  if (f->num_states > 0)
    return bitnet_rt_session_fail(s, BITNET_ERR_UNSUPPORTED,
                                  "run: @%s has %lld states (a KV cache); run takes graphs without "
                                  "state",
                                  fn, (long long)f->num_states);
  if (!f->entry)
    return bitnet_rt_session_fail(s, BITNET_ERR_INTERNAL, "run: @%s has no entry point", fn);
  char names[TEXT];
  if (n_inputs != f->num_inputs || (n_inputs > 0 && !inputs)) {
    names_text(f->inputs, f->num_inputs, names, sizeof names);
    return bitnet_rt_session_fail(s, BITNET_ERR_INVALID_ARGUMENT,
                                  "run: %lld inputs%s, the graph takes %lld (%s)",
                                  (long long)n_inputs, n_inputs > 0 && !inputs ? " at NULL" : "",
                                  (long long)f->num_inputs, names);
  }
  if (n_outputs < 0 || n_outputs > f->num_outputs || (n_outputs > 0 && !outputs)) {
    names_text(f->outputs, f->num_outputs, names, sizeof names);
    return bitnet_rt_session_fail(s, BITNET_ERR_INVALID_ARGUMENT,
                                  "run: %lld outputs%s, the graph has %lld (%s)",
                                  (long long)n_outputs, n_outputs > 0 && !outputs ? " at NULL" : "",
                                  (long long)f->num_outputs, names);
  }

  /* The inputs: matched, checked, dims bound (unbound dims stay -1: the entry refuses them if
   * its code needs them). slot_entry maps the inputs' slots, then the outputs'. */
  const int64_t n_slots = f->num_inputs > f->num_outputs ? f->num_inputs : f->num_outputs;
  int64_t small[64];
  int64_t* slot_entry = n_slots <= 64 ? small : malloc((size_t)n_slots * sizeof *slot_entry);
  if (!slot_entry) return bitnet_rt_session_fail(s, BITNET_ERR_NO_MEMORY, "run: out of memory");
  for (int64_t k = 0; k < d->num_dims; ++k) {
    s->dims[k] = -1;
    s->dim_source[k] = -1;
  }
  bitnet_status status = match(s, "input", f->inputs, f->num_inputs, inputs, n_inputs, slot_entry);
  for (int64_t i = 0; status == BITNET_OK && i < f->num_inputs; ++i)
    status = bind_input(s, f, i, &inputs[slot_entry[i]]);
  /* The outputs: every buffer sized (the entry writes them all), then the caller's entries. */
  int64_t dims[BITNET_MAX_DIMS];
  uint64_t bytes;
  for (int64_t j = 0; status == BITNET_OK && j < f->num_outputs; ++j)
    status = size_output(s, f, j, dims, &bytes);
  if (status == BITNET_OK)
    status = match(s, "output", f->outputs, f->num_outputs, outputs, n_outputs, slot_entry);
  if (status == BITNET_OK) status = call_entry(s, f);
  for (int64_t j = 0; status == BITNET_OK && j < f->num_outputs; ++j) {
    if (slot_entry[j] < 0) continue;
    const bitnet_tensor_desc* t = &f->outputs[j];
    bitnet_value* out = &outputs[slot_entry[j]];
    memset(out->dims, 0, sizeof out->dims);
    size_output(s, f, j, out->dims, &bytes); /* succeeded above; allocates nothing now */
    out->name = name_of(t);
    out->type = (int32_t)t->dtype;
    out->rank = (int32_t)t->rank;
    out->data = s->output_data[j];
    out->bytes = (size_t)bytes;
  }
  if (slot_entry != small) free(slot_entry);
  return status;
}
