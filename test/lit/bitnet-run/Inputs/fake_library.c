/* Shared libraries that look like bitnetc's to different degrees, for bitnet-run's loader errors.
 * Built with -DVARIANT=...:
 *   NONE     no *_bitnet_api symbol at all
 *   TWO      two models, a_bitnet_api and b_bitnet_api (b speaks a future API version)
 *   VERSION  one model whose table says API version 99
 *   FAILOPEN one current-version model whose model_open fails with a message */
#include <stddef.h>
#include <string.h>

#include "runtime/include/bitnet.h"

#define NONE 0
#define TWO 1
#define VERSION 2
#define FAILOPEN 3

static bitnet_status fail_open(const bitnet_model_options* o, bitnet_model** m, char* error, size_t size) {
  (void)o;
  *m = NULL;
  strncpy(error, "weights file fake.weights: no such file", size - 1);
  error[size - 1] = '\0';
  return BITNET_ERR_WEIGHTS;
}

#if VARIANT == NONE
int not_a_model(void) { return 0; }
#else
static bitnet_api table(int version) {
  bitnet_api api;
  memset(&api, 0, sizeof api);
  api.struct_size = sizeof api;
  api.api_version = version;
  api.model_open = fail_open;
  return api;
}
#if VARIANT == TWO
static bitnet_api a_table, b_table;
const bitnet_api* a_bitnet_api(void) { a_table = table(BITNET_API_VERSION); return &a_table; }
const bitnet_api* b_bitnet_api(void) { b_table = table(BITNET_API_VERSION + 1); return &b_table; }
#elif VARIANT == VERSION
static bitnet_api v_table;
const bitnet_api* old_bitnet_api(void) { v_table = table(99); return &v_table; }
#else
static bitnet_api f_table;
const bitnet_api* fake_bitnet_api(void) { f_table = table(BITNET_API_VERSION); return &f_table; }
#endif
#endif
