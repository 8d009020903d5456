/* generate.c: greedy text generation with a model compiled by bitnetc, in plain C.
 *
 * Build and run, from the repository root:
 *
 *   bitnetc test/models/bitnet-tiny-trained -o tiny.so &&
 *     cc -I. examples/generate.c ./tiny.so -Wl,-rpath,'$ORIGIN' -o generate
 *   ./generate "Once upon a time" 32
 *
 * (-I. finds tiny.h; the rpath lets ./generate find tiny.so beside it when it runs.)
 *
 * bitnetc writes tiny.so and tiny.h. Every function in them is named after the output file
 * (tiny_model_open, tiny_eval, ...), so that several models can live in one program. For a model
 * compiled as other.so, build with
 *
 *   cc -I. -DMODEL_HEADER='"other.h"' -DMODEL_PREFIX=other examples/generate.c ./other.so \
 *     -Wl,-rpath,'$ORIGIN' -o generate
 *
 * The API is documented in runtime/include/bitnet.h (also inside tiny.h) and docs/EMBEDDING.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef MODEL_HEADER
#define MODEL_HEADER "tiny.h"
#endif
#ifndef MODEL_PREFIX
#define MODEL_PREFIX tiny
#endif
#include MODEL_HEADER

/* MODEL(eval) is tiny_eval: pastes the model's prefix onto a function name. */
#define MODEL_PASTE(prefix, name) prefix##_##name
#define MODEL_NAME(prefix, name) MODEL_PASTE(prefix, name)
#define MODEL(name) MODEL_NAME(MODEL_PREFIX, name)

/* The most likely next token (the lowest id on ties). */
static int32_t argmax(const float* logits, int64_t vocab) {
  int32_t best = 0;
  for (int64_t i = 1; i < vocab; ++i)
    if (logits[i] > logits[best]) best = (int32_t)i;
  return best;
}

static int is_eos(const bitnet_model_info* info, int32_t id) {
  if (id == info->eos_token_id) return 1;
  for (int64_t i = 0; i < info->num_eos_ids; ++i)
    if (id == info->eos_ids[i]) return 1;
  return 0;
}

int main(int argc, char** argv) {
  const char* prompt = argc > 1 ? argv[1] : "Once upon a time";
  const long n_new = argc > 2 ? strtol(argv[2], NULL, 10) : 32;
  int status = 1;
  bitnet_model* model = NULL;
  bitnet_session* session = NULL;
  int32_t* ids = NULL;
  float* logits = NULL;
  char* text = NULL;

  /* 1. Open the model: NULL options = weights embedded in the library, no full hash check. */
  char error[512];
  if (MODEL(model_open)(NULL, &model, error, sizeof error) != BITNET_OK) {
    fprintf(stderr, "error: %s\n", error);
    return 1;
  }
  bitnet_model_info info = {0};
  info.struct_size = sizeof info; /* lets later versions grow the struct */
  MODEL(model_info)(model, &info);
  if (!info.has_tokenizer) {
    fprintf(stderr, "error: the model was compiled without a tokenizer\n");
    goto done;
  }

  /* 2. A session: its own KV cache of n_ctx tokens (0 = the model's maximum) and threads
   *    (0 = one per online CPU). */
  bitnet_session_options options = {0};
  options.struct_size = sizeof options;
  options.n_ctx = 0;
  options.n_threads = 0;
  if (MODEL(session_create)(model, &options, &session) != BITNET_OK) {
    fprintf(stderr, "error: %s\n", MODEL(model_error)(model));
    goto done;
  }

  /* 3. Tokenize the prompt after a bos token. One id per byte of text is always enough for a
   *    byte-level BPE tokenizer; BITNET_ERR_BUFFER_TOO_SMALL would say how many are needed. */
  const size_t len = strlen(prompt);
  const int64_t capacity = 1 + (int64_t)len + n_new;
  ids = malloc((size_t)capacity * sizeof *ids);
  logits = malloc((size_t)info.vocab_size * sizeof *logits);
  if (!ids || !logits) goto done;
  int64_t n = 0;
  if (info.bos_token_id >= 0) ids[n++] = info.bos_token_id;
  int64_t n_prompt = 0;
  if (MODEL(tokenize)(model, prompt, len, ids + n, capacity - n, &n_prompt) != BITNET_OK) {
    fprintf(stderr, "error: %s\n", MODEL(model_error)(model));
    goto done;
  }
  n += n_prompt;

  /* 4. Prefill the prompt (logits of its last token only), then decode one token at a time:
   *    each eval appends to the session's KV cache. */
  if (MODEL(eval)(session, ids, n, logits, BITNET_LOGITS_LAST) != BITNET_OK) {
    fprintf(stderr, "error: %s\n", MODEL(session_error)(session));
    goto done;
  }
  const int64_t first_new = n;
  for (long i = 0; i < n_new; ++i) {
    const int32_t next = argmax(logits, info.vocab_size);
    if (is_eos(&info, next)) break;
    ids[n++] = next;
    if (i + 1 == n_new) break;
    if (MODEL(eval)(session, &next, 1, logits, BITNET_LOGITS_LAST) != BITNET_OK) {
      fprintf(stderr, "error: %s\n", MODEL(session_error)(session));
      goto done;
    }
  }

  /* 5. The new ids as text (special tokens kept). A first call with no buffer asks for the size. */
  size_t n_bytes = 0;
  bitnet_status s = MODEL(detokenize)(model, ids + first_new, n - first_new, 0, NULL, 0, &n_bytes);
  if (s != BITNET_OK && s != BITNET_ERR_BUFFER_TOO_SMALL) {
    fprintf(stderr, "error: %s\n", MODEL(model_error)(model));
    goto done;
  }
  text = malloc(n_bytes + 1);
  if (!text ||
      MODEL(detokenize)(model, ids + first_new, n - first_new, 0, text, n_bytes, &n_bytes) != BITNET_OK) {
    fprintf(stderr, "error: %s\n", MODEL(model_error)(model));
    goto done;
  }
  fputs(prompt, stdout);
  fwrite(text, 1, n_bytes, stdout);
  fputs("\n", stdout);
  status = 0;

done:
  free(text);
  free(logits);
  free(ids);
  MODEL(session_free)(session); /* NULL is fine */
  MODEL(model_close)(model);
  return status;
}
