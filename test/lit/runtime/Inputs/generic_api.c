/* The generic named-tensor API through a generated header (net.h: prefixed functions, no table):
 * the signatures, the infos, run with named and positional inputs, output selection, the
 * session-owned outputs, and refusals. Prints what it sees; the test checks it. */
#include <stdio.h>
#include <string.h>

#include "net.h"

static void print_output(const bitnet_value* v) {
  printf("%s: type %d rank %d dims", v->name, (int)v->type, (int)v->rank);
  for (int i = 0; i < v->rank; ++i) printf(" %lld", (long long)v->dims[i]);
  printf(" bytes %zu values", v->bytes);
  if (v->type == BITNET_TYPE_F32)
    for (size_t i = 0; i < v->bytes / 4; ++i) printf(" %g", (double)((const float*)v->data)[i]);
  else
    for (size_t i = 0; i < v->bytes; ++i) printf(" %d", ((const unsigned char*)v->data)[i]);
  printf("\n");
}

int main(void) {
  char error[256];
  bitnet_model* model;
  if (net_model_open(NULL, &model, error, sizeof error) != BITNET_OK) return printf("open: %s\n", error), 1;
  printf("inputs %lld outputs %lld\n", (long long)net_num_inputs(model), (long long)net_num_outputs(model));
  printf("in  %s\nout %s\n", net_input_signature(model), net_output_signature(model));
  bitnet_tensor_info info = {0};
  info.struct_size = sizeof info;
  net_input_info(model, 0, &info);
  printf("input 0: %s type %d rank %d dims %lld %lld dim 0 '%s' <= %lld\n", info.name, (int)info.type,
         (int)info.rank, (long long)info.dims[0], (long long)info.dims[1], info.dim_names[0],
         (long long)info.dim_max[0]);

  bitnet_session* s;
  if (net_session_create(model, NULL, &s) != BITNET_OK) return printf("session: %s\n", net_model_error(model)), 1;
  float x[3 * 3] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
  float b[3 * 2] = {1, -1, 2, -2, 3, -3};
  unsigned char flags[3] = {1, 0, 1};
  /* By name, in another order than the graph's. */
  bitnet_value in[3] = {
      {"flags", BITNET_TYPE_BOOL, 1, {3}, flags, sizeof flags},
      {"b", BITNET_TYPE_F32, 2, {3, 2}, b, sizeof b},
      {"x:0", BITNET_TYPE_F32, 2, {3, 3}, x, sizeof x},
  };
  bitnet_value out[3];
  memset(out, 0, sizeof out);
  if (net_run(s, in, 3, out, 3) != BITNET_OK) return printf("run: %s\n", net_session_error(s)), 1;
  for (int i = 0; i < 3; ++i) print_output(&out[i]);

  /* One output chosen by name, inputs by position with one row. */
  bitnet_value pos[3] = {
      {NULL, BITNET_TYPE_F32, 2, {1, 3}, x, 3 * sizeof(float)},
      {NULL, BITNET_TYPE_F32, 2, {1, 2}, b, 2 * sizeof(float)},
      {NULL, BITNET_TYPE_BOOL, 1, {1}, flags, 1},
  };
  bitnet_value m;
  memset(&m, 0, sizeof m);
  m.name = "m";
  if (net_run(s, pos, 3, &m, 1) != BITNET_OK) return printf("run: %s\n", net_session_error(s)), 1;
  print_output(&m);

  /* Refusals keep the session usable. */
  pos[1].dims[0] = 2;
  pos[1].bytes = 4 * sizeof(float);
  printf("status %d: %s\n", (int)net_run(s, pos, 3, &m, 1), net_session_error(s));
  pos[1].dims[0] = 1;
  pos[1].bytes = 2 * sizeof(float);
  pos[2].type = BITNET_TYPE_U8;
  printf("status %d: %s\n", (int)net_run(s, pos, 3, &m, 1), net_session_error(s));
  int32_t token = 1;
  float logits[4];
  printf("eval status %d: %s\n", (int)net_eval(s, &token, 1, logits, BITNET_LOGITS_LAST), net_session_error(s));
  net_session_free(s);
  net_model_close(model);
  return 0;
}
