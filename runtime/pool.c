/* pool.c: the thread pool behind bitnet_rt_parallel_for (one per session).
 *
 * One job at a time: the caller publishes (fn, ctx, n), bumps `generation`, runs range 0 itself
 * and waits until every worker has reported. Workers spin briefly on `generation` (kernels of one
 * forward follow each other within microseconds), then sleep on a condition variable: these VMs
 * preempt vCPUs for milliseconds, and a spinning thread would steal time from the one that works.
 * The caller waits the same way. Sleepers are counted so that the common case (everyone still
 * spinning) takes no lock at all; the counters and generation are seq_cst so a sleeper either
 * sees the new generation or is seen by the waker. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* clock_gettime under -std=c11 */
#endif
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "runtime/internal.h"

#define SPIN_NS 100000 /* spin this long before sleeping */

typedef struct worker {
  bitnet_pool* pool;
  int64_t index; /* 1..n_workers: its range; range 0 is the caller's */
} worker;

struct bitnet_pool {
  int64_t n_workers;
  pthread_t* threads;
  worker* workers;
  pthread_mutex_t mutex;
  pthread_cond_t wake; /* workers: a new generation */
  pthread_cond_t done; /* caller: pending reached 0 */
  atomic_uint_fast64_t generation;
  atomic_int_fast64_t pending; /* workers that have not finished the current generation */
  atomic_int sleeping_workers;
  atomic_int caller_sleeping;
  atomic_int busy; /* a job is running: nested or concurrent calls run inline */
  int stop;        /* read by workers after a generation bump (ordered by it) */
  /* The current job; written before the generation bump, read after it. */
  bitnet_range_fn fn;
  void* ctx;
  int64_t n;
  int64_t n_ranges;
};

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Spins until done(arg) or SPIN_NS pass; returns done(arg). */
static int spin_until(int (*done)(void*), void* arg) {
  int64_t start = 0;
  for (uint32_t i = 0;; ++i) {
    if (done(arg)) return 1;
    cpu_relax();
    if ((i & 255) == 255) { /* reading the clock costs ~20 ns: not every iteration */
      int64_t t = now_ns();
      if (start == 0) start = t;
      else if (t - start > SPIN_NS) return done(arg);
    }
  }
}

/* Range i of n split into `parts` contiguous ranges differing by at most one element. */
static void range_of(int64_t n, int64_t parts, int64_t i, int64_t* begin, int64_t* end) {
  const int64_t base = n / parts, extra = n % parts;
  *begin = i * base + (i < extra ? i : extra);
  *end = *begin + base + (i < extra ? 1 : 0);
}

static void run_range(bitnet_pool* pool, int64_t index) {
  if (index >= pool->n_ranges) return;
  int64_t begin, end;
  range_of(pool->n, pool->n_ranges, index, &begin, &end);
  pool->fn(pool->ctx, begin, end);
}

typedef struct generation_wait {
  bitnet_pool* pool;
  uint64_t seen;
} generation_wait;

static int generation_changed(void* arg) {
  generation_wait* w = arg;
  return atomic_load(&w->pool->generation) != w->seen;
}

static int nothing_pending(void* arg) {
  return atomic_load(&((bitnet_pool*)arg)->pending) == 0;
}

static void* worker_main(void* arg) {
  worker* self = arg;
  bitnet_pool* pool = self->pool;
  generation_wait w = {pool, 0};
  for (;;) {
    if (!spin_until(generation_changed, &w)) {
      pthread_mutex_lock(&pool->mutex);
      atomic_fetch_add(&pool->sleeping_workers, 1);
      while (!generation_changed(&w)) pthread_cond_wait(&pool->wake, &pool->mutex);
      atomic_fetch_sub(&pool->sleeping_workers, 1);
      pthread_mutex_unlock(&pool->mutex);
    }
    w.seen = atomic_load(&pool->generation);
    if (pool->stop) break;
    run_range(pool, self->index);
    if (atomic_fetch_sub(&pool->pending, 1) == 1 && atomic_load(&pool->caller_sleeping)) {
      pthread_mutex_lock(&pool->mutex);
      pthread_cond_broadcast(&pool->done);
      pthread_mutex_unlock(&pool->mutex);
    }
  }
  return NULL;
}

/* Publishes the job already stored in pool (or stop) to the workers. */
static void wake_workers(bitnet_pool* pool) {
  atomic_store(&pool->pending, pool->n_workers);
  atomic_fetch_add(&pool->generation, 1);
  if (atomic_load(&pool->sleeping_workers) > 0) {
    pthread_mutex_lock(&pool->mutex);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->mutex);
  }
}

static void wait_for_workers(bitnet_pool* pool) {
  if (spin_until(nothing_pending, pool)) return;
  pthread_mutex_lock(&pool->mutex);
  atomic_store(&pool->caller_sleeping, 1);
  while (!nothing_pending(pool)) pthread_cond_wait(&pool->done, &pool->mutex);
  atomic_store(&pool->caller_sleeping, 0);
  pthread_mutex_unlock(&pool->mutex);
}

void bitnet_rt_parallel_for(bitnet_pool* pool, int64_t n, bitnet_range_fn fn, void* ctx) {
  if (n <= 0) return;
  if (!pool || pool->n_workers == 0 || n == 1) {
    fn(ctx, 0, n);
    return;
  }
  if (atomic_exchange(&pool->busy, 1)) { /* called from inside a job, or a second thread */
    fn(ctx, 0, n);
    return;
  }
  pool->fn = fn;
  pool->ctx = ctx;
  pool->n = n;
  pool->n_ranges = n < pool->n_workers + 1 ? n : pool->n_workers + 1;
  wake_workers(pool);
  run_range(pool, 0);
  wait_for_workers(pool);
  atomic_store(&pool->busy, 0);
}

int64_t bitnet_rt_num_threads(const bitnet_pool* pool) { return pool ? pool->n_workers + 1 : 1; }

bitnet_pool* bitnet_rt_pool_create(int64_t n_threads) {
  bitnet_pool* pool = calloc(1, sizeof *pool);
  if (!pool) return NULL;
  const int64_t want = n_threads > 1 ? n_threads - 1 : 0;
  pool->threads = calloc((size_t)(want ? want : 1), sizeof *pool->threads);
  pool->workers = calloc((size_t)(want ? want : 1), sizeof *pool->workers);
  if (!pool->threads || !pool->workers) goto fail;
  if (pthread_mutex_init(&pool->mutex, NULL) != 0) goto fail;
  if (pthread_cond_init(&pool->wake, NULL) != 0) {
    pthread_mutex_destroy(&pool->mutex);
    goto fail;
  }
  if (pthread_cond_init(&pool->done, NULL) != 0) {
    pthread_cond_destroy(&pool->wake);
    pthread_mutex_destroy(&pool->mutex);
    goto fail;
  }
  atomic_init(&pool->generation, 0);
  atomic_init(&pool->pending, 0);
  atomic_init(&pool->sleeping_workers, 0);
  atomic_init(&pool->caller_sleeping, 0);
  atomic_init(&pool->busy, 0);
  /* A thread that cannot be started (limits) leaves a smaller pool, not a failure. */
  for (int64_t i = 0; i < want; ++i) {
    pool->workers[i].pool = pool;
    pool->workers[i].index = i + 1;
    if (pthread_create(&pool->threads[i], NULL, worker_main, &pool->workers[i]) != 0) break;
    pool->n_workers = i + 1;
  }
  return pool;
fail:
  free(pool->threads);
  free(pool->workers);
  free(pool);
  return NULL;
}

void bitnet_rt_pool_free(bitnet_pool* pool) {
  if (!pool) return;
  pool->stop = 1;
  wake_workers(pool);
  for (int64_t i = 0; i < pool->n_workers; ++i) pthread_join(pool->threads[i], NULL);
  pthread_cond_destroy(&pool->done);
  pthread_cond_destroy(&pool->wake);
  pthread_mutex_destroy(&pool->mutex);
  free(pool->threads);
  free(pool->workers);
  free(pool);
}
