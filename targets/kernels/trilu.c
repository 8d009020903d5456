/* trilu: x [..., R, C] -> same; upper keeps x[i, j] with j - i >= k, lower with j - i <= k, the
 * others become 0 (all bytes zero). Attributes: ints = [upper, k]. */
#include "targets/kernels/kernel_util.h"

int64_t bitnetk_trilu(const bitnet_call* call, const bitnet_kernel_args* args) {
  int64_t st = bitnetk__check_arity(call, args, 1, 1, 1);
  if (st) return st;
  const bitnet_tensor *x = &args->operands[0], *o = &args->results[0];
  const int64_t size = bk_dtype_size(x->dtype);
  if (o->dtype != x->dtype || !size || x->rank < 2)
    return bitnetk__fail(call, args, BITNET_ERR_INTERNAL, "expects a result like the operand, rank >= 2");
  const int64_t upper = bk_int_attr(args, 0) != 0, k = bk_int_attr(args, 1);
  const int64_t R = x->dims[x->rank - 2], C = x->dims[x->rank - 1];
  const int64_t mats = bk_dims_product(x, 0, x->rank - 2);
  const uint8_t* src = (const uint8_t*)x->data;
  uint8_t* out = (uint8_t*)o->data;
  for (int64_t m = 0; m < mats; ++m)
    for (int64_t i = 0; i < R; ++i)
      for (int64_t j = 0; j < C; ++j) {
        const int64_t at = ((m * R + i) * C + j) * size;
        if (upper ? j - i >= k : j - i <= k) memmove(out + at, src + at, (size_t)size);
        else memset(out + at, 0, (size_t)size);
      }
  return 0;
}
