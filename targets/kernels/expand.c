/* expand: x -> the declared result type (dims resolved for this call), numpy broadcasting of x
 * to it; elements copied as bytes. */
#include "targets/kernels/broadcast_walk.h"

int64_t bitnetk_expand(const bitnet_call* call, const bitnet_kernel_args* args) {
  int64_t st = bitnetk__check_arity(call, args, 1, 1, 1);
  if (st) return st;
  const bitnet_tensor *x = &args->operands[0], *o = &args->results[0];
  const int64_t size = bk_dtype_size(x->dtype);
  if (o->dtype != x->dtype || !size || o->rank < x->rank)
    return bitnetk__fail(call, args, BITNET_ERR_INTERNAL, "expects a result of the operand's dtype and at least its rank");
  for (int64_t d = 0; d < x->rank; ++d) {
    const int64_t xd = x->dims[d], od = o->dims[d + o->rank - x->rank];
    if (xd != od && xd != 1)
      return bitnetk__fail_iii(call, args, BITNET_ERR_INVALID_ARGUMENT, "dim ", d, " of the operand (", xd,
                               ") does not broadcast to ", od, "");
  }
  bk_walk w;
  bk_walk_init(&w, o, x, NULL, NULL);
  const uint8_t* src = (const uint8_t*)x->data;
  uint8_t* out = (uint8_t*)o->data;
  const int64_t n = bk_numel(o);
  for (int64_t i = 0; i < n; ++i, bk_walk_next(&w)) memcpy(out + i * size, src + w.off[0] * size, (size_t)size);
  return 0;
}
