/* Two compiled models in one program (docs/EMBEDDING.md): a.so and b.so, the same checkpoint
 * compiled with two prefixes (b with a shorter context). Each model has its own runtime copy
 * (internalized), so their sessions are independent: interleaved evals give the logits each
 * gives alone. Prints "two models ok" or the first difference. */
#include <stdio.h>
#include <string.h>

#include "a.h"
#include "b.h"

static float la[4][4096], lb[4][4096];

int main(void) {
  char error[256];
  bitnet_model *ma, *mb;
  if (a_model_open(NULL, &ma, error, sizeof error) || b_model_open(NULL, &mb, error, sizeof error)) {
    printf("open: %s\n", error);
    return 1;
  }
  bitnet_model_info ia = {sizeof ia}, ib = {sizeof ib};
  a_model_info(ma, &ia);
  b_model_info(mb, &ib);
  printf("a: %s, context %lld; b: %s, context %lld\n", ia.name, (long long)ia.max_context, ib.name,
         (long long)ib.max_context);
  if (ia.vocab_size > 4096) return 1;

  bitnet_session *sa, *sb, *alone;
  if (a_session_create(ma, NULL, &sa) || b_session_create(mb, NULL, &sb) || a_session_create(ma, NULL, &alone))
    return 1;
  const int32_t ids[4] = {3070, 5, 17, 200};
  /* Interleaved: a, b, a, b ... one token at a time. */
  for (int t = 0; t < 4; ++t) {
    if (a_eval(sa, &ids[t], 1, la[t], BITNET_LOGITS_LAST) || b_eval(sb, &ids[t], 1, lb[t], BITNET_LOGITS_LAST)) {
      printf("eval: %s / %s\n", a_session_error(sa), b_session_error(sb));
      return 1;
    }
  }
  /* Alone: a second session of a, all four tokens in one call. */
  static float all[4 * 4096]; /* ALL: 4 rows of vocab_size floats, one after the other */
  if (a_eval(alone, ids, 4, all, BITNET_LOGITS_ALL)) return 1;
  for (int t = 0; t < 4; ++t) {
    if (memcmp(la[t], lb[t], sizeof(float) * (size_t)ia.vocab_size) != 0) {
      printf("token %d: a and b differ\n", t);
      return 1;
    }
  }
  printf("a, b interleaved: the same logits; a alone, last row: %s\n",
         memcmp(la[3], all + 3 * ia.vocab_size, sizeof(float) * (size_t)ia.vocab_size) == 0 ? "the same" : "different");
  a_session_free(sa);
  a_session_free(alone);
  b_session_free(sb);
  a_model_close(ma);
  b_model_close(mb);
  printf("two models ok\n");
  return 0;
}
