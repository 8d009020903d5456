/* misuse.c: every function of a compiled library's C API called wrongly: NULL pointers, bad
 * struct_size and option values, n <= 0, out-of-range token ids, context overflow, truncation
 * past n_past, buffers too small. Each case prints "CASE: STATUS: message"; the test FileChecks
 * the lines. After every failing call on a session, the session must still work: it holds the
 * tokens it held before (n_past) and its next token gives bit for bit the logits of a fresh
 * session fed the same tokens in one call. Exits non-zero on any unexpected result.
 *
 * Built against MODEL_HEADER (default m.h, prefix m); the tokenizer cases follow
 * info.has_tokenizer (a model without one must answer BITNET_ERR_UNSUPPORTED). */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"

static bitnet_model* model;
static bitnet_model_info info;

/* The tokens a session holds, as this program fed them. */
typedef struct tracked {
  bitnet_session* session;
  int64_t n_ctx;
  int32_t history[512];
  int64_t n;
} tracked;

static int32_t valid_token(int64_t i) { return (int32_t)((i * 37 + 11) % info.vocab_size); }

static bitnet_session* new_session(int64_t n_ctx) {
  bitnet_session_options options = {sizeof options, n_ctx, 1};
  bitnet_session* s = NULL;
  if (MODEL(session_create)(model, &options, &s) != BITNET_OK) {
    unexpected("session_create: %s", MODEL(model_error)(model));
    exit(1);
  }
  return s;
}

/* The session still holds t->n tokens, and evaluating one more valid token gives the logits a
 * fresh session gives for all of them at once. The token joins the history. */
static void still_works(tracked* t, const char* after) {
  const int64_t n_past = MODEL(session_n_past)(t->session);
  if (n_past != t->n) {
    printf("UNEXPECTED: after %s: n_past is %lld, expected %lld\n", after, (long long)n_past,
           (long long)t->n);
    ++unexpected_count;
    return;
  }
  float* a = malloc(sizeof(float) * (size_t)info.vocab_size);
  float* b = malloc(sizeof(float) * (size_t)info.vocab_size);
  const int32_t next = valid_token(t->n);
  t->history[t->n] = next;
  bitnet_session* fresh = new_session(t->n_ctx);
  bitnet_status sa = MODEL(eval)(t->session, &next, 1, a, BITNET_LOGITS_LAST);
  bitnet_status sb = MODEL(eval)(fresh, t->history, t->n + 1, b, BITNET_LOGITS_LAST);
  if (sa != BITNET_OK || sb != BITNET_OK) {
    printf("UNEXPECTED: after %s: eval of a valid token: %s / %s\n", after,
           MODEL(session_error)(t->session), MODEL(session_error)(fresh));
    ++unexpected_count;
  } else if (memcmp(a, b, sizeof(float) * (size_t)info.vocab_size) != 0) {
    printf("UNEXPECTED: after %s: the next token's logits differ from a fresh session's\n", after);
    ++unexpected_count;
  } else {
    ++t->n;
    printf("  session ok: n_past %lld, logits as a fresh session's\n", (long long)t->n);
  }
  MODEL(session_free)(fresh);
  free(a);
  free(b);
}

/* A failing session call: its status, its message, and the session still works. */
static void session_case(tracked* t, const char* what, bitnet_status got, bitnet_status want) {
  expect_status(what, got, want, want == BITNET_OK ? NULL : MODEL(session_error)(t->session));
  still_works(t, what);
}

static void model_case(const char* what, bitnet_status got, bitnet_status want) {
  expect_status(what, got, want, want == BITNET_OK ? NULL : MODEL(model_error)(model));
}

static void open_cases(void) {
  char error[256];
  bitnet_model* m = (bitnet_model*)&error; /* a failing open must set it to NULL */
  bitnet_model_options options = {sizeof options, NULL, 0};

  expect_status("model_open model=NULL", MODEL(model_open)(NULL, NULL, error, sizeof error),
                BITNET_ERR_INVALID_ARGUMENT, error);
  options.struct_size = 0;
  expect_status("model_open struct_size=0", MODEL(model_open)(&options, &m, error, sizeof error),
                BITNET_ERR_INVALID_ARGUMENT, error);
  if (m != NULL) unexpected("%s", "model_open failed but left *model set");
  options.struct_size = sizeof options - 1;
  expect_status("model_open struct_size=sizeof-1",
                MODEL(model_open)(&options, &m, error, sizeof error), BITNET_ERR_INVALID_ARGUMENT,
                error);
  options.struct_size = (size_t)0xdeadbeefcafe; /* an uninitialized field */
  expect_status("model_open struct_size=garbage",
                MODEL(model_open)(&options, &m, error, sizeof error), BITNET_ERR_INVALID_ARGUMENT,
                error);
  options.struct_size = sizeof options;
  options.verify_weights = 2;
  expect_status("model_open verify_weights=2", MODEL(model_open)(&options, &m, error, sizeof error),
                BITNET_ERR_INVALID_ARGUMENT, error);
  options.verify_weights = 0;
  options.weights_path = "elsewhere.weights";
  expect_status("model_open weights_path on embedded weights",
                MODEL(model_open)(&options, &m, error, sizeof error),
                info.weights_external ? BITNET_ERR_WEIGHTS : BITNET_ERR_INVALID_ARGUMENT, error);
  options.weights_path = NULL;

  /* Error buffers: NULL, size 0 (untouched) and too small (cut and terminated, no overrun). */
  options.struct_size = 0;
  expect_status("model_open error=NULL", MODEL(model_open)(&options, &m, NULL, 64),
                BITNET_ERR_INVALID_ARGUMENT, NULL);
  char small[24];
  memset(small, 'x', sizeof small);
  expect_status("model_open error_size=0", MODEL(model_open)(&options, &m, small, 0),
                BITNET_ERR_INVALID_ARGUMENT, NULL);
  if (small[0] != 'x') unexpected("%s", "model_open wrote into an error buffer of size 0");
  expect_status("model_open error_size=16", MODEL(model_open)(&options, &m, small, 16),
                BITNET_ERR_INVALID_ARGUMENT, small);
  if (strlen(small) != 15 || small[16] != 'x')
    unexpected("%s", "model_open overran or did not terminate an error buffer of 16 bytes");

  /* Valid: a bigger struct (a caller built with a later header), verify_weights = 1. */
  struct {
    bitnet_model_options v1;
    int64_t later_field;
  } bigger = {{sizeof bigger, NULL, 0}, 42};
  expect_status("model_open struct_size=sizeof+8",
                MODEL(model_open)(&bigger.v1, &m, error, sizeof error), BITNET_OK, NULL);
  MODEL(model_close)(m);
  options.struct_size = sizeof options;
  options.verify_weights = 1;
  expect_status("model_open verify_weights=1", MODEL(model_open)(&options, &m, error, sizeof error),
                BITNET_OK, NULL);
  MODEL(model_close)(m);
  MODEL(model_close)(NULL);
  printf("model_close(NULL): no effect\n");
}

static void info_cases(void) {
  bitnet_model_info i = {0};
  expect_status("model_info model=NULL", MODEL(model_info)(NULL, &i), BITNET_ERR_INVALID_ARGUMENT,
                MODEL(model_error)(NULL));
  model_case("model_info info=NULL", MODEL(model_info)(model, NULL), BITNET_ERR_INVALID_ARGUMENT);
  model_case("model_info struct_size=0", MODEL(model_info)(model, &i), BITNET_ERR_INVALID_ARGUMENT);
  i.struct_size = 3;
  model_case("model_info struct_size=3", MODEL(model_info)(model, &i), BITNET_ERR_INVALID_ARGUMENT);
  if (i.name != NULL || i.vocab_size != 0) unexpected("%s", "a failing model_info wrote the struct");
}

static void session_create_cases(void) {
  bitnet_session* s = (bitnet_session*)&s; /* a failing create must set it to NULL */
  bitnet_session_options options = {sizeof options, 0, 1};
  char what[128];

  expect_status("session_create model=NULL", MODEL(session_create)(NULL, &options, &s),
                BITNET_ERR_INVALID_ARGUMENT, NULL);
  model_case("session_create session=NULL", MODEL(session_create)(model, &options, NULL),
             BITNET_ERR_INVALID_ARGUMENT);
  options.struct_size = 0;
  model_case("session_create struct_size=0", MODEL(session_create)(model, &options, &s),
             BITNET_ERR_INVALID_ARGUMENT);
  if (s != NULL) unexpected("%s", "session_create failed but left *session set");
  options.struct_size = (size_t)-1;
  model_case("session_create struct_size=garbage", MODEL(session_create)(model, &options, &s),
             BITNET_ERR_INVALID_ARGUMENT);
  options.struct_size = sizeof options;
  options.n_ctx = -1;
  model_case("session_create n_ctx=-1", MODEL(session_create)(model, &options, &s),
             BITNET_ERR_INVALID_ARGUMENT);
  options.n_ctx = info.max_context + 1;
  snprintf(what, sizeof what, "session_create n_ctx=max_context+1=%lld", (long long)options.n_ctx);
  model_case(what, MODEL(session_create)(model, &options, &s), BITNET_ERR_INVALID_ARGUMENT);
  options.n_ctx = INT64_MAX;
  model_case("session_create n_ctx=INT64_MAX", MODEL(session_create)(model, &options, &s),
             BITNET_ERR_INVALID_ARGUMENT);
  options.n_ctx = 0;
  options.n_threads = -1;
  model_case("session_create n_threads=-1", MODEL(session_create)(model, &options, &s),
             BITNET_ERR_INVALID_ARGUMENT);
  options.n_threads = 1025;
  model_case("session_create n_threads=1025", MODEL(session_create)(model, &options, &s),
             BITNET_ERR_INVALID_ARGUMENT);
  if (s != NULL) unexpected("%s", "session_create failed but left *session set");

  /* The model still creates sessions: NULL options, the largest context, a context of 1. */
  model_case("session_create options=NULL", MODEL(session_create)(model, NULL, &s), BITNET_OK);
  MODEL(session_free)(s);
  options.n_threads = 1;
  options.n_ctx = info.max_context;
  model_case("session_create n_ctx=max_context", MODEL(session_create)(model, &options, &s),
             BITNET_OK);
  MODEL(session_free)(s);
}

static void null_session_cases(void) {
  float logits[1];
  const int32_t token = 1;
  printf("session_error(NULL): %s\n", MODEL(session_error)(NULL));
  printf("session_n_past(NULL): %lld\n", (long long)MODEL(session_n_past)(NULL));
  expect_status("session_reset session=NULL", MODEL(session_reset)(NULL),
                BITNET_ERR_INVALID_ARGUMENT, NULL);
  expect_status("session_truncate session=NULL", MODEL(session_truncate)(NULL, 0),
                BITNET_ERR_INVALID_ARGUMENT, NULL);
  expect_status("eval session=NULL", MODEL(eval)(NULL, &token, 1, logits, BITNET_LOGITS_LAST),
                BITNET_ERR_INVALID_ARGUMENT, NULL);
  MODEL(session_free)(NULL);
  printf("session_free(NULL): no effect\n");
}

static void eval_cases(void) {
  tracked t = {new_session(0), 0, {0}, 0};
  float* logits = malloc(sizeof(float) * 4 * (size_t)info.vocab_size);
  const int32_t v = (int32_t)info.vocab_size;
  char what[128];

  /* Some context first, so that a failing call has something to spoil. */
  for (int i = 0; i < 3; ++i) t.history[i] = valid_token(100 + i);
  expect_status("eval prefill 3 tokens", MODEL(eval)(t.session, t.history, 3, logits, BITNET_LOGITS_ALL),
                BITNET_OK, NULL);
  t.n = 3;
  still_works(&t, "a valid prefill");

  const int32_t ok[2] = {valid_token(7), valid_token(8)};
  session_case(&t, "eval tokens=NULL", MODEL(eval)(t.session, NULL, 1, logits, BITNET_LOGITS_LAST),
               BITNET_ERR_INVALID_ARGUMENT);
  session_case(&t, "eval n=0", MODEL(eval)(t.session, ok, 0, logits, BITNET_LOGITS_LAST),
               BITNET_ERR_INVALID_ARGUMENT);
  session_case(&t, "eval n=-1", MODEL(eval)(t.session, ok, -1, logits, BITNET_LOGITS_LAST),
               BITNET_ERR_INVALID_ARGUMENT);
  session_case(&t, "eval n=INT64_MIN", MODEL(eval)(t.session, ok, INT64_MIN, logits, BITNET_LOGITS_LAST),
               BITNET_ERR_INVALID_ARGUMENT);
  session_case(&t, "eval mode=3", MODEL(eval)(t.session, ok, 2, logits, (bitnet_logits_mode)3),
               BITNET_ERR_INVALID_ARGUMENT);
  session_case(&t, "eval mode=-1", MODEL(eval)(t.session, ok, 2, logits, (bitnet_logits_mode)-1),
               BITNET_ERR_INVALID_ARGUMENT);
  session_case(&t, "eval logits=NULL mode=LAST", MODEL(eval)(t.session, ok, 2, NULL, BITNET_LOGITS_LAST),
               BITNET_ERR_INVALID_ARGUMENT);
  session_case(&t, "eval logits=NULL mode=ALL", MODEL(eval)(t.session, ok, 2, NULL, BITNET_LOGITS_ALL),
               BITNET_ERR_INVALID_ARGUMENT);

  /* Out-of-range ids: the message names the id and its index; nothing runs. */
  const int32_t negative_first[3] = {-1, valid_token(1), valid_token(2)};
  session_case(&t, "eval ids {-1, ok, ok}",
               MODEL(eval)(t.session, negative_first, 3, logits, BITNET_LOGITS_LAST),
               BITNET_ERR_TOKEN_OUT_OF_RANGE);
  const int32_t vocab_last[3] = {valid_token(1), valid_token(2), v};
  session_case(&t, "eval ids {ok, ok, vocab_size}",
               MODEL(eval)(t.session, vocab_last, 3, logits, BITNET_LOGITS_ALL),
               BITNET_ERR_TOKEN_OUT_OF_RANGE);
  const int32_t extremes[2] = {valid_token(3), INT32_MIN};
  session_case(&t, "eval ids {ok, INT32_MIN}",
               MODEL(eval)(t.session, extremes, 2, NULL, BITNET_LOGITS_NONE),
               BITNET_ERR_TOKEN_OUT_OF_RANGE);
  const int32_t largest = INT32_MAX;
  session_case(&t, "eval ids {INT32_MAX} (decode step)",
               MODEL(eval)(t.session, &largest, 1, logits, BITNET_LOGITS_LAST),
               BITNET_ERR_TOKEN_OUT_OF_RANGE);
  const int32_t last_valid = v - 1;
  snprintf(what, sizeof what, "eval ids {vocab_size - 1 = %d}", (int)last_valid);
  expect_status(what, MODEL(eval)(t.session, &last_valid, 1, logits, BITNET_LOGITS_LAST), BITNET_OK,
                NULL);
  t.history[t.n++] = last_valid;
  still_works(&t, what);

  /* Valid: logits may be NULL with mode NONE (the cache fills all the same). */
  t.history[t.n] = ok[0];
  t.history[t.n + 1] = ok[1];
  expect_status("eval logits=NULL mode=NONE", MODEL(eval)(t.session, ok, 2, NULL, BITNET_LOGITS_NONE),
                BITNET_OK, NULL);
  t.n += 2;
  still_works(&t, "mode NONE");

  /* Truncation: past n_past or negative is refused; a valid one keeps exactly n_keep tokens. */
  snprintf(what, sizeof what, "session_truncate n_keep=n_past+1=%lld", (long long)(t.n + 1));
  session_case(&t, what, MODEL(session_truncate)(t.session, t.n + 1), BITNET_ERR_INVALID_ARGUMENT);
  session_case(&t, "session_truncate n_keep=-1", MODEL(session_truncate)(t.session, -1),
               BITNET_ERR_INVALID_ARGUMENT);
  session_case(&t, "session_truncate n_keep=INT64_MAX", MODEL(session_truncate)(t.session, INT64_MAX),
               BITNET_ERR_INVALID_ARGUMENT);
  t.n = 4;
  session_case(&t, "session_truncate n_keep=4", MODEL(session_truncate)(t.session, 4), BITNET_OK);
  session_case(&t, "session_truncate n_keep=n_past", MODEL(session_truncate)(t.session, t.n), BITNET_OK);
  t.n = 0;
  session_case(&t, "session_truncate n_keep=0", MODEL(session_truncate)(t.session, 0), BITNET_OK);
  t.n = 0;
  session_case(&t, "session_reset", MODEL(session_reset)(t.session), BITNET_OK);
  MODEL(session_free)(t.session);
  free(logits);
}

/* A session of 8 tokens: 9 at once, then filled by prefill and decode steps, then one more. */
static void context_cases(void) {
  tracked t = {new_session(8), 8, {0}, 0};
  float* logits = malloc(sizeof(float) * 9 * (size_t)info.vocab_size);
  int32_t nine[9];
  for (int i = 0; i < 9; ++i) nine[i] = valid_token(50 + i);
  session_case(&t, "n_ctx 8: eval 9 tokens", MODEL(eval)(t.session, nine, 9, logits, BITNET_LOGITS_ALL),
               BITNET_ERR_CONTEXT_FULL);
  /* now 1 token in the cache */
  session_case(&t, "n_ctx 8, 1 in the cache: eval 8 tokens",
               MODEL(eval)(t.session, nine, 8, logits, BITNET_LOGITS_LAST), BITNET_ERR_CONTEXT_FULL);
  /* A count far past the context (a capacity passed for a count): refused without reading the
   * ids (the buffer holds 9). */
  session_case(&t, "n_ctx 8, 2 in the cache: eval n=INT64_MAX",
               MODEL(eval)(t.session, nine, INT64_MAX, logits, BITNET_LOGITS_LAST), BITNET_ERR_CONTEXT_FULL);
  /* 3 in the cache: a prefill of 3, then decode steps up to 8 */
  for (int i = 0; i < 3; ++i) t.history[t.n + i] = nine[i];
  expect_status("n_ctx 8: eval 3 tokens", MODEL(eval)(t.session, nine, 3, logits, BITNET_LOGITS_LAST),
                BITNET_OK, NULL);
  t.n += 3;
  while (t.n < 8) {
    t.history[t.n] = valid_token(t.n);
    if (MODEL(eval)(t.session, &t.history[t.n], 1, logits, BITNET_LOGITS_LAST) != BITNET_OK)
      unexpected("decode step: %s", MODEL(session_error)(t.session));
    ++t.n;
  }
  printf("n_ctx 8: decode steps up to n_past %lld\n", (long long)MODEL(session_n_past)(t.session));
  const int32_t one = valid_token(99);
  expect_status("n_ctx 8, full: eval 1 token",
                MODEL(eval)(t.session, &one, 1, logits, BITNET_LOGITS_LAST), BITNET_ERR_CONTEXT_FULL,
                MODEL(session_error)(t.session));
  expect_status("n_ctx 8, full: eval 1 token, mode NONE",
                MODEL(eval)(t.session, &one, 1, NULL, BITNET_LOGITS_NONE), BITNET_ERR_CONTEXT_FULL,
                MODEL(session_error)(t.session));
  if (MODEL(session_n_past)(t.session) != 8) unexpected("%s", "a full session's n_past moved");
  /* A full session works again after truncate (the last token evaluated anew). */
  t.n = 7;
  session_case(&t, "n_ctx 8, full: session_truncate 7", MODEL(session_truncate)(t.session, 7), BITNET_OK);
  MODEL(session_free)(t.session);

  /* The smallest context. */
  tracked one_slot = {new_session(1), 1, {0}, 0};
  still_works(&one_slot, "a session of 1 token");
  expect_status("n_ctx 1, full: eval 1 token",
                MODEL(eval)(one_slot.session, &one, 1, logits, BITNET_LOGITS_LAST),
                BITNET_ERR_CONTEXT_FULL, MODEL(session_error)(one_slot.session));
  if (MODEL(session_n_past)(one_slot.session) != 1) unexpected("%s", "a full session's n_past moved");
  free(logits);
  MODEL(session_free)(one_slot.session);
}

static void tokenizer_cases(void) {
  const char* text = "Once upon a time";
  const size_t len = strlen(text);
  int32_t ids[64] = {0};
  int64_t n = -1;
  char what[128];

  expect_status("tokenize model=NULL", MODEL(tokenize)(NULL, text, len, ids, 64, &n),
                BITNET_ERR_INVALID_ARGUMENT, NULL);
  model_case("tokenize n_tokens=NULL", MODEL(tokenize)(model, text, len, ids, 64, NULL),
             BITNET_ERR_INVALID_ARGUMENT);
  model_case("tokenize text=NULL text_len=5", MODEL(tokenize)(model, NULL, 5, ids, 64, &n),
             BITNET_ERR_INVALID_ARGUMENT);
  model_case("tokenize capacity=-1", MODEL(tokenize)(model, text, len, ids, -1, &n),
             BITNET_ERR_INVALID_ARGUMENT);
  model_case("tokenize tokens=NULL capacity=4", MODEL(tokenize)(model, text, len, NULL, 4, &n),
             BITNET_ERR_INVALID_ARGUMENT);
  size_t nb = 7;
  char out[64];
  expect_status("detokenize model=NULL", MODEL(detokenize)(NULL, ids, 1, 0, out, sizeof out, &nb),
                BITNET_ERR_INVALID_ARGUMENT, NULL);
  model_case("detokenize n_bytes=NULL", MODEL(detokenize)(model, ids, 1, 0, out, sizeof out, NULL),
             BITNET_ERR_INVALID_ARGUMENT);
  model_case("detokenize n=-1", MODEL(detokenize)(model, ids, -1, 0, out, sizeof out, &nb),
             BITNET_ERR_INVALID_ARGUMENT);
  model_case("detokenize tokens=NULL n=2", MODEL(detokenize)(model, NULL, 2, 0, out, sizeof out, &nb),
             BITNET_ERR_INVALID_ARGUMENT);
  model_case("detokenize text=NULL capacity=4", MODEL(detokenize)(model, ids, 1, 0, NULL, 4, &nb),
             BITNET_ERR_INVALID_ARGUMENT);
  model_case("detokenize skip_special=2", MODEL(detokenize)(model, ids, 1, 2, out, sizeof out, &nb),
             BITNET_ERR_INVALID_ARGUMENT);

  if (!info.has_tokenizer) {
    model_case("tokenize without a tokenizer", MODEL(tokenize)(model, text, len, ids, 64, &n),
               BITNET_ERR_UNSUPPORTED);
    ids[0] = 1;
    model_case("detokenize without a tokenizer", MODEL(detokenize)(model, ids, 1, 0, out, sizeof out, &nb),
               BITNET_ERR_UNSUPPORTED);
    return;
  }

  /* Sizes: capacity 0 asks for the count; one less than needed writes nothing. */
  model_case("tokenize text=NULL text_len=0", MODEL(tokenize)(model, NULL, 0, ids, 64, &n), BITNET_OK);
  printf("  %lld tokens\n", (long long)n);
  model_case("tokenize capacity=0 tokens=NULL", MODEL(tokenize)(model, text, len, NULL, 0, &n),
             BITNET_ERR_BUFFER_TOO_SMALL);
  const int64_t needed = n;
  printf("  needed: %lld tokens\n", (long long)needed);
  for (int i = 0; i < 64; ++i) ids[i] = -7;
  snprintf(what, sizeof what, "tokenize capacity=needed-1=%lld", (long long)(needed - 1));
  model_case(what, MODEL(tokenize)(model, text, len, ids, needed - 1, &n), BITNET_ERR_BUFFER_TOO_SMALL);
  printf("  needed: %lld tokens\n", (long long)n);
  for (int i = 0; i < 64; ++i)
    if (ids[i] != -7) unexpected("%s", "tokenize wrote into a buffer too small");
  model_case("tokenize capacity=needed", MODEL(tokenize)(model, text, len, ids, needed, &n), BITNET_OK);
  if (n != needed || ids[needed] != -7) unexpected("%s", "tokenize did not write exactly the needed ids");
  const char bad_utf8[] = "ab\xff\xfe";
  model_case("tokenize invalid UTF-8", MODEL(tokenize)(model, bad_utf8, 4, ids + 32, 32, &n),
             BITNET_ERR_INVALID_ARGUMENT);

  model_case("detokenize capacity=0 text=NULL", MODEL(detokenize)(model, ids, needed, 0, NULL, 0, &nb),
             BITNET_ERR_BUFFER_TOO_SMALL);
  const size_t bytes = nb;
  printf("  needed: %zu bytes\n", bytes);
  memset(out, '#', sizeof out);
  snprintf(what, sizeof what, "detokenize capacity=needed-1=%zu", bytes - 1);
  model_case(what, MODEL(detokenize)(model, ids, needed, 0, out, bytes - 1, &nb),
             BITNET_ERR_BUFFER_TOO_SMALL);
  printf("  needed: %zu bytes\n", nb);
  for (size_t i = 0; i < sizeof out; ++i)
    if (out[i] != '#') unexpected("%s", "detokenize wrote into a buffer too small");
  model_case("detokenize capacity=needed", MODEL(detokenize)(model, ids, needed, 0, out, bytes, &nb),
             BITNET_OK);
  printf("  text: '%.*s'\n", (int)nb, out);
  if (nb != len || memcmp(out, text, len) != 0 || out[len] != '#')
    unexpected("%s", "detokenize did not give back the text, exactly");

  /* Ids outside the vocabulary. */
  int32_t wrong[3] = {ids[0], -1, ids[1]};
  model_case("detokenize ids {ok, -1, ok}", MODEL(detokenize)(model, wrong, 3, 0, out, sizeof out, &nb),
             BITNET_ERR_TOKEN_OUT_OF_RANGE);
  wrong[1] = (int32_t)info.vocab_size;
  model_case("detokenize ids {ok, vocab_size, ok}",
             MODEL(detokenize)(model, wrong, 3, 0, out, sizeof out, &nb), BITNET_ERR_TOKEN_OUT_OF_RANGE);
  wrong[1] = INT32_MAX;
  model_case("detokenize ids {ok, INT32_MAX, ok}",
             MODEL(detokenize)(model, wrong, 3, 1, out, sizeof out, &nb), BITNET_ERR_TOKEN_OUT_OF_RANGE);

  /* The model still works after all of it. */
  model_case("tokenize after the errors", MODEL(tokenize)(model, text, len, ids, 64, &n), BITNET_OK);
  if (n != needed) unexpected("%s", "tokenize gives another count after the errors");
}

static void api_table_cases(void) {
  const bitnet_api* api = MODEL(bitnet_api)();
  int complete = api && api->struct_size == sizeof(bitnet_api) &&
                 api->api_version == BITNET_API_VERSION && api->model_open && api->model_close &&
                 api->model_error && api->model_info && api->session_create &&
                 api->session_free && api->session_error && api->eval && api->session_n_past &&
                 api->session_reset && api->session_truncate && api->tokenize && api->detokenize &&
                 api->input_signature && api->output_signature && api->num_inputs &&
                 api->num_outputs && api->input_info && api->output_info && api->run &&
                 api->reserved_generic[0] == NULL;
  printf("bitnet_api: %s\n", complete ? "version 2, every function, reserved NULL" : "INCOMPLETE");
  if (!complete) {
    ++unexpected_count;
    return;
  }
  expect_status("bitnet_api eval session=NULL", api->eval(NULL, NULL, 0, NULL, BITNET_LOGITS_NONE),
                BITNET_ERR_INVALID_ARGUMENT, NULL);
  bitnet_model_info i = {0};
  expect_status("bitnet_api model_info struct_size=0", api->model_info(model, &i),
                BITNET_ERR_INVALID_ARGUMENT, api->model_error(model));
}

int main(void) {
  char error[256];
  if (MODEL(model_open)(NULL, &model, error, sizeof error) != BITNET_OK) {
    printf("UNEXPECTED: model_open: %s\n", error);
    return 1;
  }
  info.struct_size = sizeof info;
  if (MODEL(model_info)(model, &info) != BITNET_OK || info.vocab_size <= 0) {
    printf("UNEXPECTED: model_info: %s\n", MODEL(model_error)(model));
    return 1;
  }
  printf("model %s: vocab %lld, max_context %lld, tokenizer %d\n", info.name,
         (long long)info.vocab_size, (long long)info.max_context, (int)info.has_tokenizer);
  open_cases();
  info_cases();
  session_create_cases();
  null_session_cases();
  eval_cases();
  context_cases();
  tokenizer_cases();
  api_table_cases();
  MODEL(model_close)(model);
  printf("misuse: %d unexpected\n", unexpected_count);
  return unexpected_count ? 1 : 0;
}
