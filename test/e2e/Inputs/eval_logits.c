/* eval_logits: runs a model compiled by bitnetc through its C API and writes what the e2e tests
 * compare with the interpreter, for libraries bitnet-run cannot load (another architecture,
 * run under qemu-user).
 *
 *   eval_logits IDS OUT [CHUNK]   every position's logits of the ids "1,2,3" as raw little-endian
 *                                 f32 [n, vocab]; CHUNK > 0 feeds the ids CHUNK at a time through
 *                                 the KV cache (prefill, then decode), default one call
 *   eval_logits IDS --greedy N    N greedy tokens after the ids (argmax, lowest id on ties), one
 *                                 id a line
 *
 * Build: cc -I runtime/include -DMODEL_API=m_bitnet_api eval_logits.c m.so -o eval_logits
 * (MODEL_API: the library's PREFIX_bitnet_api table; PREFIX is bitnetc's --name). Exit status 0,
 * or 1 with a message on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bitnet.h"

#ifndef MODEL_API
#error "define MODEL_API as the library's PREFIX_bitnet_api"
#endif
const bitnet_api* MODEL_API(void);

static int fail(const char* what, const char* detail) {
  fprintf(stderr, "eval_logits: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  return 1;
}

/* "1,2,3" -> ids; returns the count or -1. */
static int64_t parse_ids(const char* text, int32_t** ids) {
  int64_t n = 1;
  for (const char* p = text; *p; ++p) n += *p == ',';
  *ids = malloc((size_t)n * sizeof **ids);
  if (!*ids) return -1;
  char* end = NULL;
  for (int64_t i = 0; i < n; ++i) {
    (*ids)[i] = (int32_t)strtol(text, &end, 10);
    if (end == text || (*end != ',' && *end != '\0')) return -1;
    text = end + (*end == ',');
  }
  return n;
}

int main(int argc, char** argv) {
  if (argc < 3) return fail("usage: eval_logits IDS OUT [CHUNK] | eval_logits IDS --greedy N", NULL);
  const bitnet_api* api = MODEL_API();
  if (!api || api->api_version != BITNET_API_VERSION) return fail("not a bitnet_api table of this version", NULL);
  char error[512];
  bitnet_model* model = NULL;
  if (api->model_open(NULL, &model, error, sizeof error) != BITNET_OK) return fail("model_open", error);
  bitnet_model_info info;
  memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  if (api->model_info(model, &info) != BITNET_OK) return fail("model_info", api->model_error(model));
  bitnet_session_options options = {sizeof options, 0, 1};
  bitnet_session* session = NULL;
  if (api->session_create(model, &options, &session) != BITNET_OK) return fail("session_create", api->model_error(model));
  int32_t* ids = NULL;
  const int64_t n = parse_ids(argv[1], &ids);
  if (n <= 0) return fail("bad token ids", argv[1]);
  const int64_t vocab = info.vocab_size;

  if (strcmp(argv[2], "--greedy") == 0) {
    const long steps = argc > 3 ? strtol(argv[3], NULL, 10) : 16;
    float* logits = malloc((size_t)vocab * sizeof *logits);
    if (!logits) return fail("out of memory", NULL);
    if (api->eval(session, ids, n, logits, BITNET_LOGITS_LAST) != BITNET_OK) return fail("eval", api->session_error(session));
    for (long s = 0; s < steps; ++s) {
      int32_t best = 0;
      for (int64_t i = 1; i < vocab; ++i)
        if (logits[i] > logits[best]) best = (int32_t)i;
      printf("%d\n", best);
      if (s + 1 < steps && api->eval(session, &best, 1, logits, BITNET_LOGITS_LAST) != BITNET_OK)
        return fail("eval", api->session_error(session));
    }
    return 0;
  }

  const int64_t chunk = argc > 3 ? strtol(argv[3], NULL, 10) : 0;
  float* logits = malloc((size_t)(n * vocab) * sizeof *logits);
  if (!logits) return fail("out of memory", NULL);
  for (int64_t i = 0; i < n;) {
    const int64_t m = chunk > 0 && n - i > chunk ? chunk : n - i;
    if (api->eval(session, ids + i, m, logits + i * vocab, BITNET_LOGITS_ALL) != BITNET_OK)
      return fail("eval", api->session_error(session));
    i += m;
  }
  FILE* out = fopen(argv[2], "wb");
  if (!out || fwrite(logits, sizeof *logits, (size_t)(n * vocab), out) != (size_t)(n * vocab) || fclose(out) != 0)
    return fail("cannot write", argv[2]);
  api->session_free(session);
  api->model_close(model);
  free(logits);
  free(ids);
  return 0;
}
