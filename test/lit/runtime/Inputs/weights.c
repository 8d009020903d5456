/* weights.c: opens a library compiled with --weights=external (m.so, prefix m) and prints what
 * model_open says about its weights file:
 *
 *   weights EXPECTED_STATUS [--path FILE] [--verify] [--logits OUT]
 *
 * EXPECTED_STATUS is a bitnet_status name (BITNET_OK, BITNET_ERR_WEIGHTS, ...). --path sets
 * options.weights_path (default: NULL, the file beside the library), --verify sets
 * verify_weights = 1. A model that opens also evaluates four tokens; --logits writes their
 * logits (LOGITS_ALL) to OUT so that a test can compare two weights files' results. Prints
 * "open: STATUS: message" and exits non-zero when the status is not the expected one. */
#include <stdlib.h>

#include "check.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    printf("usage: weights EXPECTED_STATUS [--path FILE] [--verify] [--logits OUT]\n");
    return 2;
  }
  bitnet_model_options options = {sizeof options, NULL, 0};
  const char* logits_path = NULL;
  for (int i = 2; i < argc; ++i) {
    if (!strcmp(argv[i], "--path") && i + 1 < argc) options.weights_path = argv[++i];
    else if (!strcmp(argv[i], "--verify")) options.verify_weights = 1;
    else if (!strcmp(argv[i], "--logits") && i + 1 < argc) logits_path = argv[++i];
    else {
      printf("unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  bitnet_status want = BITNET_ERR_INTERNAL + 1;
  for (int s = BITNET_OK; s <= BITNET_ERR_INTERNAL; ++s)
    if (!strcmp(argv[1], status_name((bitnet_status)s))) want = (bitnet_status)s;
  if (want > BITNET_ERR_INTERNAL) {
    printf("unknown status %s\n", argv[1]);
    return 2;
  }

  char error[1024];
  memset(error, 'x', sizeof error);
  bitnet_model* model = (bitnet_model*)&options;
  bitnet_status status = MODEL(model_open)(&options, &model, error, sizeof error);
  expect_status("open", status, want, status == BITNET_OK ? NULL : error);
  if (status != BITNET_OK) {
    if (model != NULL) unexpected("%s", "model_open failed but left *model set");
    if (memchr(error, '\0', sizeof error) == NULL) unexpected("%s", "the message is not terminated");
    return unexpected_count ? 1 : 0;
  }

  bitnet_model_info info = {sizeof info};
  bitnet_session* session = NULL;
  if (MODEL(model_info)(model, &info) != BITNET_OK || !info.weights_external ||
      MODEL(session_create)(model, NULL, &session) != BITNET_OK) {
    unexpected("a library with external weights: %s", MODEL(model_error)(model));
    return 1;
  }
  const int32_t ids[4] = {1, 2, 3, 4};
  float* logits = malloc(sizeof(float) * 4 * (size_t)info.vocab_size);
  if (MODEL(eval)(session, ids, 4, logits, BITNET_LOGITS_ALL) != BITNET_OK) {
    unexpected("eval: %s", MODEL(session_error)(session));
  } else {
    printf("eval: 4 tokens, %lld weight bytes\n", (long long)info.weight_bytes);
    if (logits_path) {
      FILE* f = fopen(logits_path, "wb");
      if (!f || fwrite(logits, sizeof(float), 4 * (size_t)info.vocab_size, f) != 4 * (size_t)info.vocab_size)
        unexpected("cannot write %s", logits_path);
      if (f) fclose(f);
    }
  }
  free(logits);
  MODEL(session_free)(session);
  MODEL(model_close)(model);
  return unexpected_count ? 1 : 0;
}
