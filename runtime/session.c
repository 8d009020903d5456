/* session.c: sessions (their own KV state, scratch, logits buffer and thread pool):
 * create / free / error / n_past / reset / truncate. eval is in eval.c. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* MAP_ANONYMOUS under -std=c11 */
#endif
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runtime/internal.h"

static size_t round_up_64(size_t n) { return (n + 63) & ~(size_t)63; }

/* Bytes of n_rows context rows of a state: n_rows times the product of dims[1..] times the
 * element size (model.c checked the dims and dtype); 0 on overflow. */
static int state_bytes(const bitnet_tensor_desc* s, int64_t n_rows, size_t* out) {
  uint64_t bytes = (uint64_t)bitnet_rt_dtype_size(s->dtype);
  for (int64_t d = 1; d < s->rank; ++d)
    if (__builtin_mul_overflow(bytes, (uint64_t)s->dims[d], &bytes)) return 0;
  if (__builtin_mul_overflow(bytes, (uint64_t)n_rows, &bytes) || bytes > SIZE_MAX / 2) return 0;
  *out = (size_t)bytes;
  return 1;
}

static void session_release(bitnet_session* s) {
  if (s->output_data) {
    const bitnet_model* m = s->model;
    for (int64_t i = 0; i < m->desc->functions[m->graph].num_outputs; ++i) free(s->output_data[i]);
  }
  free(s->output_data);
  free(s->output_capacity);
  free(s->input_data);
  free(s->dim_source);
  bitnet_rt_pool_free(s->pool);
  if (s->state_memory) munmap(s->state_memory, s->state_memory_bytes);
  free(s->states);
  free(s->scratch);
  free(s->logits);
  free(s->dims);
  free(s);
}

static void* aligned_bytes(size_t bytes) {
  void* p = NULL;
  return posix_memalign(&p, 64, round_up_64(bytes ? bytes : 1)) == 0 ? p : NULL;
}

/* The LM buffers: n_ctx rows of every state in one zero-filled anonymous mapping (pages are
 * only touched as the context fills), the scratch and the logits buffer. */
static bitnet_status allocate_lm(bitnet_model* m, bitnet_session* s) {
  const bitnet_model_desc* d = m->desc;
  const bitnet_function_desc* f = &d->functions[0];
  size_t total = 0;
  for (int64_t i = 0; i < f->num_states; ++i) {
    size_t bytes;
    if (!state_bytes(&f->states[i], s->n_ctx, &bytes) || total + round_up_64(bytes) < total)
      return bitnet_rt_model_fail(m, BITNET_ERR_NO_MEMORY,
                                  "session_create: state %s for %lld tokens is too large",
                                  f->states[i].name ? f->states[i].name : "?", (long long)s->n_ctx);
    total += round_up_64(bytes);
  }
  s->states = calloc((size_t)(f->num_states ? f->num_states : 1), sizeof *s->states);
  if (!s->states) return bitnet_rt_model_fail(m, BITNET_ERR_NO_MEMORY, "session_create: out of memory");
  if (total > 0) {
    void* mem = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
      return bitnet_rt_model_fail(m, BITNET_ERR_NO_MEMORY,
                                  "session_create: cannot map %zu bytes of KV state for %lld tokens",
                                  total, (long long)s->n_ctx);
    s->state_memory = mem;
    s->state_memory_bytes = total;
  }
  size_t offset = 0;
  for (int64_t i = 0; i < f->num_states; ++i) {
    size_t bytes = 0;
    state_bytes(&f->states[i], s->n_ctx, &bytes); /* succeeded above */
    s->states[i] = s->state_memory ? (uint8_t*)s->state_memory + offset : NULL;
    offset += round_up_64(bytes);
  }
  s->scratch = aligned_bytes((size_t)f->scratch_bytes);
  uint64_t logit_count;
  if (__builtin_mul_overflow((uint64_t)d->max_batch, (uint64_t)d->vocab_size, &logit_count) ||
      logit_count > SIZE_MAX / sizeof(float))
    return bitnet_rt_model_fail(m, BITNET_ERR_NO_MEMORY, "session_create: logits buffer too large");
  s->logits = aligned_bytes((size_t)logit_count * sizeof(float));
  if (!s->scratch || !s->logits)
    return bitnet_rt_model_fail(m, BITNET_ERR_NO_MEMORY,
                                "session_create: out of memory for %lld scratch bytes and %llu logits",
                                (long long)f->scratch_bytes, (unsigned long long)logit_count);
  return BITNET_OK;
}

/* The generic graph's buffers: its scratch (for dims at their bounds) and the per-input and
 * per-output tables of run; output buffers themselves grow on demand in run. */
static bitnet_status allocate_graph(bitnet_model* m, bitnet_session* s) {
  const bitnet_model_desc* d = m->desc;
  const bitnet_function_desc* f = &d->functions[m->graph];
  s->scratch = aligned_bytes((size_t)f->scratch_bytes);
  s->input_data = calloc((size_t)(f->num_inputs ? f->num_inputs : 1), sizeof *s->input_data);
  s->output_data = calloc((size_t)(f->num_outputs ? f->num_outputs : 1), sizeof *s->output_data);
  s->output_capacity =
      calloc((size_t)(f->num_outputs ? f->num_outputs : 1), sizeof *s->output_capacity);
  s->dim_source = calloc((size_t)(d->num_dims ? d->num_dims : 1), sizeof *s->dim_source);
  if (!s->scratch || !s->input_data || !s->output_data || !s->output_capacity || !s->dim_source)
    return bitnet_rt_model_fail(m, BITNET_ERR_NO_MEMORY,
                                "session_create: out of memory for %lld scratch bytes of @%s",
                                (long long)f->scratch_bytes, f->name ? f->name : "?");
  return BITNET_OK;
}

bitnet_status bitnet__public_session_create(bitnet_model* m, const bitnet_session_options* options,
                                            bitnet_session** session) {
  if (!m) return BITNET_ERR_INVALID_ARGUMENT;
  if (!session)
    return bitnet_rt_model_fail(m, BITNET_ERR_INVALID_ARGUMENT,
                                "session_create: session (the result pointer) is NULL");
  *session = NULL;
  const bitnet_model_desc* d = m->desc;
  int64_t n_ctx = 0, n_threads = 0;
  if (options) {
    if (!bitnet_rt_struct_size_ok(options->struct_size, sizeof(bitnet_session_options)))
      return bitnet_rt_model_fail(m, BITNET_ERR_INVALID_ARGUMENT,
                                  "session_create: options->struct_size is %zu, expected "
                                  "sizeof(bitnet_session_options) = %zu",
                                  options->struct_size, sizeof(bitnet_session_options));
    n_ctx = options->n_ctx;
    n_threads = options->n_threads;
  }
  if (n_ctx < 0 || n_ctx > m->max_context)
    return bitnet_rt_model_fail(m, BITNET_ERR_INVALID_ARGUMENT,
                                "session_create: n_ctx %lld is outside [0, %lld] (0 = the model's "
                                "maximum context, %lld)",
                                (long long)n_ctx, (long long)m->max_context,
                                (long long)m->max_context);
  if (n_threads < 0 || n_threads > BITNET_RT_MAX_THREADS)
    return bitnet_rt_model_fail(m, BITNET_ERR_INVALID_ARGUMENT,
                                "session_create: n_threads %lld is outside [0, %d] (0 = one per "
                                "online CPU)",
                                (long long)n_threads, BITNET_RT_MAX_THREADS);
  if (n_threads == 0) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    n_threads = cpus < 1 ? 1 : cpus > BITNET_RT_MAX_THREADS ? BITNET_RT_MAX_THREADS : cpus;
  }

  bitnet_session* s = calloc(1, sizeof *s);
  if (!s) return bitnet_rt_model_fail(m, BITNET_ERR_NO_MEMORY, "session_create: out of memory");
  s->model = m;
  s->n_ctx = d->is_lm ? (n_ctx ? n_ctx : m->max_context) : 0;
  s->dims = calloc((size_t)(d->num_dims ? d->num_dims : 1), sizeof *s->dims);
  if (!s->dims) {
    session_release(s);
    return bitnet_rt_model_fail(m, BITNET_ERR_NO_MEMORY, "session_create: out of memory");
  }
  for (int64_t i = 0; i < d->num_dims; ++i) s->dims[i] = d->dim_max[i];
  if (d->is_lm || m->graph >= 0) {
    bitnet_status status = d->is_lm ? allocate_lm(m, s) : allocate_graph(m, s);
    if (status != BITNET_OK) {
      session_release(s);
      return status;
    }
  }
  s->pool = bitnet_rt_pool_create(n_threads);
  if (!s->pool) {
    session_release(s);
    return bitnet_rt_model_fail(m, BITNET_ERR_NO_MEMORY,
                                "session_create: cannot create a pool of %lld threads",
                                (long long)n_threads);
  }
  *session = s;
  return BITNET_OK;
}

void bitnet__public_session_free(bitnet_session* session) {
  if (session) session_release(session);
}

const char* bitnet__public_session_error(const bitnet_session* session) {
  return session ? session->error : "session is NULL";
}

int64_t bitnet__public_session_n_past(const bitnet_session* session) {
  return session ? session->n_past : 0;
}

bitnet_status bitnet__public_session_reset(bitnet_session* session) {
  if (!session) return BITNET_ERR_INVALID_ARGUMENT;
  /* Rows past n_past are never read before they are written again: nothing to clear. */
  session->n_past = 0;
  return BITNET_OK;
}

bitnet_status bitnet__public_session_truncate(bitnet_session* session, int64_t n_keep) {
  if (!session) return BITNET_ERR_INVALID_ARGUMENT;
  if (n_keep < 0 || n_keep > session->n_past)
    return bitnet_rt_session_fail(session, BITNET_ERR_INVALID_ARGUMENT,
                                  "session_truncate: n_keep %lld is outside [0, n_past = %lld]",
                                  (long long)n_keep, (long long)session->n_past);
  session->n_past = n_keep;
  return BITNET_OK;
}
