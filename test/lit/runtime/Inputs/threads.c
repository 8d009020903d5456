/* threads.c: compiled libraries used from several threads at once (runtime/include/bitnet.h:
 * sessions are independent, model-level calls are thread-safe). Links a.so and b.so, the same
 * checkpoint compiled with the prefixes a and b.
 *
 * A "run" is one conversation: tokenize a prompt (a model-level call), prefill bos + prompt,
 * then 32 greedy decode steps; it records the logits of the prefill's last token and of every
 * step. Reference runs are done serially with one thread per session; then
 *   1. two sessions of model a, on two pthreads at once, with n_threads 1, 2 and 0 (one per
 *      CPU), three rounds each (session_reset between them), while a third thread keeps making
 *      model-level calls (tokenize, detokenize, model_info, session_create/free);
 *   2. one session of a at a time with n_threads 1, 2 and 0;
 *   3. a and b from two threads at once (a on one, b on the other, then swapped);
 * and every run must give the reference's logits bit for bit. Prints one line per check; exits
 * non-zero on any difference or failure. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "a.h"
#include "b.h"

#define STEPS 32
#define MAX_PROMPT 64

static const char* const prompts[2] = {"Once upon a time", "The little dog ran to the park and"};
static int failures;

/* One library's functions, so that a run can use a or b. */
typedef struct library {
  const bitnet_api* api;
  bitnet_model* model;
  bitnet_model_info info;
} library;

typedef struct run {
  library* lib;
  int prompt;
  int32_t n_threads;
  bitnet_session* session; /* reused when set (reset first), else created for the run */
  pthread_barrier_t* start;
  float* logits;           /* (STEPS + 1) * vocab floats */
  int32_t tokens[MAX_PROMPT + STEPS + 1];
  int64_t n_tokens;
  char error[512];
} run;

static void* do_run(void* arg) {
  run* r = arg;
  const bitnet_api* api = r->lib->api;
  const int64_t vocab = r->lib->info.vocab_size;
  if (r->start) pthread_barrier_wait(r->start);
  bitnet_session* s = r->session;
  bitnet_session_options options = {sizeof options, 0, r->n_threads};
  if (s) {
    if (api->session_reset(s) != BITNET_OK) {
      snprintf(r->error, sizeof r->error, "session_reset: %s", api->session_error(s));
      return NULL;
    }
  } else if (api->session_create(r->lib->model, &options, &s) != BITNET_OK) {
    snprintf(r->error, sizeof r->error, "session_create: %s", api->model_error(r->lib->model));
    return NULL;
  }
  const char* text = prompts[r->prompt];
  int64_t n = 0;
  r->tokens[0] = r->lib->info.bos_token_id;
  if (api->tokenize(r->lib->model, text, strlen(text), r->tokens + 1, MAX_PROMPT, &n) != BITNET_OK) {
    snprintf(r->error, sizeof r->error, "tokenize: %s", api->model_error(r->lib->model));
    goto done;
  }
  r->n_tokens = n + 1;
  if (api->eval(s, r->tokens, r->n_tokens, r->logits, BITNET_LOGITS_LAST) != BITNET_OK) {
    snprintf(r->error, sizeof r->error, "prefill: %s", api->session_error(s));
    goto done;
  }
  for (int step = 0; step < STEPS; ++step) {
    const float* last = r->logits + (int64_t)step * vocab;
    int32_t next = 0;
    for (int64_t i = 1; i < vocab; ++i)
      if (last[i] > last[next]) next = (int32_t)i;
    r->tokens[r->n_tokens++] = next;
    if (api->eval(s, &next, 1, r->logits + (int64_t)(step + 1) * vocab, BITNET_LOGITS_LAST) !=
        BITNET_OK) {
      snprintf(r->error, sizeof r->error, "decode step %d: %s", step, api->session_error(s));
      goto done;
    }
  }
done:
  if (!r->session) api->session_free(s);
  return NULL;
}

static run make_run(library* lib, int prompt, int32_t n_threads) {
  run r;
  memset(&r, 0, sizeof r);
  r.lib = lib;
  r.prompt = prompt;
  r.n_threads = n_threads;
  r.logits = calloc((size_t)(STEPS + 1) * (size_t)lib->info.vocab_size, sizeof(float));
  return r;
}

/* The run's logits and tokens equal the reference's, bit for bit. */
static int same(const run* r, const run* ref) {
  if (r->error[0]) {
    printf("FAIL: %s\n", r->error);
    return 0;
  }
  const size_t floats = (size_t)(STEPS + 1) * (size_t)ref->lib->info.vocab_size;
  return r->n_tokens == ref->n_tokens &&
         memcmp(r->tokens, ref->tokens, sizeof(int32_t) * (size_t)r->n_tokens) == 0 &&
         memcmp(r->logits, ref->logits, floats * sizeof(float)) == 0;
}

static void report(const char* what, int ok) {
  printf("%s: %s\n", what, ok ? "identical to the serial runs" : "DIFFERENT");
  if (!ok) ++failures;
}

/* Runs r0 and r1 on two threads started together. */
static void concurrently(run* r0, run* r1) {
  pthread_barrier_t start;
  pthread_barrier_init(&start, NULL, 2);
  r0->start = r1->start = &start;
  r0->error[0] = r1->error[0] = '\0';
  pthread_t t0, t1;
  pthread_create(&t0, NULL, do_run, r0);
  pthread_create(&t1, NULL, do_run, r1);
  pthread_join(t0, NULL);
  pthread_join(t1, NULL);
  pthread_barrier_destroy(&start);
  r0->start = r1->start = NULL;
}

/* Model-level calls in a loop until told to stop: each must succeed and give the same answer. */
typedef struct model_calls {
  library* lib;
  atomic_int stop;
  long calls;
  char error[512];
} model_calls;

static void* do_model_calls(void* arg) {
  model_calls* c = arg;
  const bitnet_api* api = c->lib->api;
  const char* text = prompts[1];
  int32_t ids[MAX_PROMPT];
  int64_t n = 0, first_n = -1;
  char back[256];
  size_t n_bytes = 0;
  while (!atomic_load(&c->stop) && c->calls < 100000) {
    bitnet_model_info info = {0};
    info.struct_size = sizeof info;
    bitnet_session* s = NULL;
    bitnet_session_options options = {sizeof options, 16, 1};
    if (api->tokenize(c->lib->model, text, strlen(text), ids, MAX_PROMPT, &n) != BITNET_OK ||
        (first_n >= 0 && n != first_n) ||
        api->detokenize(c->lib->model, ids, n, 0, back, sizeof back, &n_bytes) != BITNET_OK ||
        n_bytes != strlen(text) || memcmp(back, text, n_bytes) != 0 ||
        api->model_info(c->lib->model, &info) != BITNET_OK || info.vocab_size != c->lib->info.vocab_size ||
        api->session_create(c->lib->model, &options, &s) != BITNET_OK) {
      snprintf(c->error, sizeof c->error, "model-level call %ld failed: %s", c->calls,
               api->model_error(c->lib->model));
      return NULL;
    }
    api->session_free(s);
    first_n = n;
    ++c->calls;
  }
  return NULL;
}

static int open_library(library* lib, const bitnet_api* api) {
  char error[256];
  lib->api = api;
  memset(&lib->info, 0, sizeof lib->info);
  lib->info.struct_size = sizeof lib->info;
  if (api->model_open(NULL, &lib->model, error, sizeof error) != BITNET_OK) {
    printf("FAIL: model_open: %s\n", error);
    return 0;
  }
  return api->model_info(lib->model, &lib->info) == BITNET_OK && lib->info.has_tokenizer;
}

int main(void) {
  library a, b;
  if (!open_library(&a, a_bitnet_api()) || !open_library(&b, b_bitnet_api())) return 1;

  /* References: serial, one thread per session, model a. */
  run ref[2] = {make_run(&a, 0, 1), make_run(&a, 1, 1)};
  for (int p = 0; p < 2; ++p) {
    do_run(&ref[p]);
    if (ref[p].error[0]) {
      printf("FAIL: reference run: %s\n", ref[p].error);
      return 1;
    }
  }
  printf("references: prompts of %lld and %lld tokens, %d decode steps each\n",
         (long long)(ref[0].n_tokens - STEPS), (long long)(ref[1].n_tokens - STEPS), STEPS);

  /* 1. Two sessions of a on two threads at once, while a third makes model-level calls. A
   *    second model of library a (its own model_open): the three threads' first tokenize calls
   *    race to create its tokenizer. */
  library fresh;
  if (!open_library(&fresh, a_bitnet_api())) return 1;
  const int32_t thread_counts[3] = {1, 2, 0};
  for (int t = 0; t < 3; ++t) {
    run r0 = make_run(&fresh, 0, thread_counts[t]), r1 = make_run(&fresh, 1, thread_counts[t]);
    bitnet_session_options options = {sizeof options, 0, thread_counts[t]};
    if (a_session_create(fresh.model, &options, &r0.session) != BITNET_OK ||
        a_session_create(fresh.model, &options, &r1.session) != BITNET_OK) {
      printf("FAIL: session_create: %s\n", a_model_error(fresh.model));
      return 1;
    }
    model_calls calls;
    memset(&calls, 0, sizeof calls);
    calls.lib = &fresh;
    atomic_init(&calls.stop, 0);
    pthread_t caller;
    pthread_create(&caller, NULL, do_model_calls, &calls);
    for (int round = 0; round < 3; ++round) {
      concurrently(&r0, &r1);
      char what[160];
      snprintf(what, sizeof what, "a+a on two threads, n_threads %d, round %d", (int)thread_counts[t],
               round + 1);
      report(what, same(&r0, &ref[0]) && same(&r1, &ref[1]));
    }
    atomic_store(&calls.stop, 1);
    pthread_join(caller, NULL);
    if (calls.error[0] || calls.calls == 0) {
      printf("FAIL: %s\n", calls.error[0] ? calls.error : "no model-level call was made");
      ++failures;
    }
    a_session_free(r0.session);
    a_session_free(r1.session);
    free(r0.logits);
    free(r1.logits);
  }
  printf("model-level calls alongside: ok\n");

  /* 2. One session at a time, n_threads 2 and 0 (the references used 1). */
  for (int t = 1; t < 3; ++t) {
    for (int p = 0; p < 2; ++p) {
      run r = make_run(&a, p, thread_counts[t]);
      do_run(&r);
      char what[160];
      snprintf(what, sizeof what, "a alone, prompt %d, n_threads %d", p, (int)thread_counts[t]);
      report(what, same(&r, &ref[p]));
      free(r.logits);
    }
  }

  /* 3. a and b, the same checkpoint under two prefixes, on two threads at once. */
  for (int swap = 0; swap < 2; ++swap) {
    run r0 = make_run(swap ? &b : &a, 0, 2), r1 = make_run(swap ? &a : &b, 1, 2);
    concurrently(&r0, &r1);
    report(swap ? "b (prompt 0) and a (prompt 1) on two threads" : "a (prompt 0) and b (prompt 1) on two threads",
           same(&r0, &ref[0]) && same(&r1, &ref[1]));
    free(r0.logits);
    free(r1.logits);
  }

  free(ref[0].logits);
  free(ref[1].logits);
  a_model_close(fresh.model);
  a_model_close(a.model);
  b_model_close(b.model);
  printf("threads: %d failures\n", failures);
  return failures ? 1 : 0;
}
