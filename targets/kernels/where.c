/* where: cond bool, a, b of one dtype -> the broadcast of all three; the chosen element's bytes
 * (cond: any non-zero byte is true; the IR's bools are 0/1). */
#include "targets/kernels/broadcast_walk.h"

int64_t bitnetk_where(const bitnet_call* call, const bitnet_kernel_args* args) {
  int64_t st = bitnetk__check_arity(call, args, 3, 3, 1);
  if (st) return st;
  const bitnet_tensor *c = &args->operands[0], *a = &args->operands[1], *b = &args->operands[2];
  const bitnet_tensor* o = &args->results[0];
  const int64_t size = bk_dtype_size(a->dtype);
  if (c->dtype != BITNET_BOOL || b->dtype != a->dtype || o->dtype != a->dtype || !size)
    return bitnetk__fail(call, args, BITNET_ERR_INTERNAL, "expects a bool condition and two operands of the result's dtype");
  bk_walk w;
  bk_walk_init(&w, o, c, a, b);
  const uint8_t *cd = (const uint8_t*)c->data, *ad = (const uint8_t*)a->data, *bd = (const uint8_t*)b->data;
  uint8_t* out = (uint8_t*)o->data;
  const int64_t n = bk_numel(o);
  for (int64_t i = 0; i < n; ++i, bk_walk_next(&w)) {
    const uint8_t* src = cd[w.off[0]] ? ad + w.off[1] * size : bd + w.off[2] * size;
    memcpy(out + i * size, src, (size_t)size);
  }
  return 0;
}
