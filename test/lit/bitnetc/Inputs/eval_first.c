/* Opens a compiled model (prefix PREFIX), evaluates three tokens, prints the vocabulary size and
 * the first logits of the last token with full precision (for comparisons between builds). */
#include <stdio.h>
#include <stdlib.h>

#include "bitnet.h"

#define PASTE2(a, b) a##_##b
#define PASTE(a, b) PASTE2(a, b)
BITNET_DECLARE_MODEL_API(PREFIX)

int main(void) {
  char err[512];
  bitnet_model* model;
  bitnet_session* session;
  if (PASTE(PREFIX, model_open)(NULL, &model, err, sizeof err) != BITNET_OK) {
    fprintf(stderr, "open: %s\n", err);
    return 1;
  }
  bitnet_model_info info = {sizeof info};
  PASTE(PREFIX, model_info)(model, &info);
  if (PASTE(PREFIX, session_create)(model, NULL, &session) != BITNET_OK) {
    fprintf(stderr, "session: %s\n", PASTE(PREFIX, model_error)(model));
    return 1;
  }
  const int32_t tokens[3] = {1, 2, 3};
  float* logits = malloc(sizeof(float) * (size_t)info.vocab_size);
  if (PASTE(PREFIX, eval)(session, tokens, 3, logits, BITNET_LOGITS_LAST) != BITNET_OK) {
    fprintf(stderr, "eval: %s\n", PASTE(PREFIX, session_error)(session));
    return 1;
  }
  printf("vocab %lld\n", (long long)info.vocab_size);
  for (int i = 0; i < 8; ++i) printf("logits[%d] %.9g\n", i, logits[i]);
  free(logits);
  PASTE(PREFIX, session_free)(session);
  PASTE(PREFIX, model_close)(model);
  return 0;
}
