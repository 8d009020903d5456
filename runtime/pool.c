/* pool.c: the thread pool behind bitnet_rt_parallel_for (one per session).
 *
 * One job at a time, split into min(n, threads) contiguous ranges. The ranges are not bound to
 * threads: the caller and the workers claim them from one atomic word, so when the hypervisor
 * preempts a worker's vCPU for milliseconds (these VMs do), the others take its range instead of
 * waiting for it. The caller waits only for ranges that were claimed and are still running.
 *
 * Workers spin briefly for the next job (the kernels of one forward follow each other within
 * microseconds), then sleep on a condition variable, so that an idle pool does not steal time
 * from the threads that work; the caller waits for the last ranges the same way. Sleepers are
 * counted so that the common case (everyone still spinning) takes no lock; those counters and
 * the claim word are seq_cst, so a sleeper either sees the new job or is seen by the waker. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* clock_gettime under -std=c11 */
#endif
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "runtime/internal.h"

#define SPIN_NS 100000 /* spin this long before sleeping */

/* The claim word: job generation (bits 32..63) | number of ranges (16..31) | next range (0..15).
 * BITNET_RT_MAX_THREADS bounds the ranges far below 2^16. */
#define GENERATION(word) ((uint32_t)((word) >> 32))
#define RANGES(word) ((int64_t)(((word) >> 16) & 0xFFFF))
#define NEXT(word) ((int64_t)((word)&0xFFFF))
#define CLAIM_WORD(generation, ranges) (((uint64_t)(generation) << 32) | ((uint64_t)(ranges) << 16))

struct bitnet_pool {
  int64_t n_workers;
  pthread_t* threads;
  pthread_mutex_t mutex;
  pthread_cond_t wake; /* workers: a new generation */
  pthread_cond_t done; /* caller: every range of the job has run */
  atomic_uint_fast64_t claim;
  atomic_int_fast64_t ranges_done;
  atomic_int sleeping_workers;
  atomic_int caller_sleeping;
  atomic_int busy; /* a job is running: nested or concurrent calls run inline */
  atomic_int stop;
  uint32_t generation; /* the caller's count of jobs (only the caller writes it) */
  /* The current job: written before the claim word publishes it, read by whoever claims a
   * range of it (the job cannot end while a claimed range runs). */
  bitnet_range_fn fn;
  void* ctx;
  int64_t n;
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

/* Claims and runs ranges of job `generation` until none is left. */
static void run_claims(bitnet_pool* pool, uint32_t generation) {
  for (;;) {
    uint64_t word = atomic_load(&pool->claim);
    do {
      if (GENERATION(word) != generation || NEXT(word) >= RANGES(word)) return;
    } while (!atomic_compare_exchange_weak(&pool->claim, &word, word + 1));
    const int64_t ranges = RANGES(word);
    int64_t begin, end;
    range_of(pool->n, ranges, NEXT(word), &begin, &end);
    pool->fn(pool->ctx, begin, end);
    if (atomic_fetch_add(&pool->ranges_done, 1) + 1 == ranges &&
        atomic_load(&pool->caller_sleeping)) {
      pthread_mutex_lock(&pool->mutex);
      pthread_cond_broadcast(&pool->done);
      pthread_mutex_unlock(&pool->mutex);
    }
  }
}

typedef struct generation_wait {
  bitnet_pool* pool;
  uint32_t seen;
} generation_wait;

static int new_generation(void* arg) {
  generation_wait* w = arg;
  return GENERATION(atomic_load(&w->pool->claim)) != w->seen;
}

static void* worker_main(void* arg) {
  bitnet_pool* pool = arg;
  generation_wait w = {pool, 0};
  for (;;) {
    if (!spin_until(new_generation, &w)) {
      pthread_mutex_lock(&pool->mutex);
      atomic_fetch_add(&pool->sleeping_workers, 1);
      while (!new_generation(&w)) pthread_cond_wait(&pool->wake, &pool->mutex);
      atomic_fetch_sub(&pool->sleeping_workers, 1);
      pthread_mutex_unlock(&pool->mutex);
    }
    if (atomic_load(&pool->stop)) break;
    w.seen = GENERATION(atomic_load(&pool->claim));
    run_claims(pool, w.seen);
  }
  return NULL;
}

/* Publishes a job of `ranges` ranges (fn, ctx, n already stored), or 0 ranges to stop. */
static uint32_t publish(bitnet_pool* pool, int64_t ranges) {
  if (++pool->generation == 0) pool->generation = 1; /* workers start having seen 0 */
  atomic_store(&pool->ranges_done, 0);
  atomic_store(&pool->claim, CLAIM_WORD(pool->generation, ranges));
  if (atomic_load(&pool->sleeping_workers) > 0) {
    pthread_mutex_lock(&pool->mutex);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->mutex);
  }
  return pool->generation;
}

typedef struct job_wait {
  bitnet_pool* pool;
  int64_t ranges;
} job_wait;

static int job_done(void* arg) {
  job_wait* j = arg;
  return atomic_load(&j->pool->ranges_done) == j->ranges;
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
  job_wait job = {pool, n < pool->n_workers + 1 ? n : pool->n_workers + 1};
  run_claims(pool, publish(pool, job.ranges));
  if (!spin_until(job_done, &job)) {
    pthread_mutex_lock(&pool->mutex);
    atomic_store(&pool->caller_sleeping, 1);
    while (!job_done(&job)) pthread_cond_wait(&pool->done, &pool->mutex);
    atomic_store(&pool->caller_sleeping, 0);
    pthread_mutex_unlock(&pool->mutex);
  }
  atomic_store(&pool->busy, 0);
}

int64_t bitnet_rt_num_threads(const bitnet_pool* pool) { return pool ? pool->n_workers + 1 : 1; }

bitnet_pool* bitnet_rt_pool_create(int64_t n_threads) {
  bitnet_pool* pool = calloc(1, sizeof *pool);
  if (!pool) return NULL;
  if (n_threads > BITNET_RT_MAX_THREADS) n_threads = BITNET_RT_MAX_THREADS;
  const int64_t want = n_threads > 1 ? n_threads - 1 : 0;
  pool->threads = calloc((size_t)(want ? want : 1), sizeof *pool->threads);
  if (!pool->threads) goto fail;
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
  atomic_init(&pool->claim, 0);
  atomic_init(&pool->ranges_done, 0);
  atomic_init(&pool->sleeping_workers, 0);
  atomic_init(&pool->caller_sleeping, 0);
  atomic_init(&pool->busy, 0);
  atomic_init(&pool->stop, 0);
  /* A thread that cannot be started (limits) leaves a smaller pool, not a failure. */
  for (int64_t i = 0; i < want; ++i) {
    if (pthread_create(&pool->threads[i], NULL, worker_main, pool) != 0) break;
    pool->n_workers = i + 1;
  }
  return pool;
fail:
  free(pool->threads);
  free(pool);
  return NULL;
}

void bitnet_rt_pool_free(bitnet_pool* pool) {
  if (!pool) return;
  atomic_store(&pool->stop, 1);
  publish(pool, 0);
  for (int64_t i = 0; i < pool->n_workers; ++i) pthread_join(pool->threads[i], NULL);
  pthread_cond_destroy(&pool->done);
  pthread_cond_destroy(&pool->wake);
  pthread_mutex_destroy(&pool->mutex);
  free(pool->threads);
  free(pool);
}
