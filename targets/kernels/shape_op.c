/* shape: x -> i64 [rank], the operand's dims for this call. */
#include "targets/kernels/kernel_util.h"

int64_t bitnetk_shape(const bitnet_call* call, const bitnet_kernel_args* args) {
  int64_t st = bitnetk__check_arity(call, args, 1, 1, 1);
  if (st) return st;
  const bitnet_tensor *x = &args->operands[0], *o = &args->results[0];
  if (o->dtype != BITNET_I64 || bk_numel(o) != x->rank)
    return bitnetk__fail(call, args, BITNET_ERR_INTERNAL, "expects an i64 result with one element per dim");
  for (int64_t d = 0; d < x->rank; ++d) ((int64_t*)o->data)[d] = x->dims[d];
  return 0;
}
