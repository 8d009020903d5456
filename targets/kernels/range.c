/* range: start, delta (scalars of one dtype) -> the declared 1-D result; y[i] = start + i*delta:
 * integers in wrapping 64-bit arithmetic, truncated to the dtype; f32 as (float)i * delta + start
 * (two f32 operations), f64 likewise in double (compiler/interp/IndexOps.cpp). */
#include "targets/kernels/kernel_util.h"

int64_t bitnetk_range(const bitnet_call* call, const bitnet_kernel_args* args) {
  int64_t st = bitnetk__check_arity(call, args, 2, 2, 1);
  if (st) return st;
  const bitnet_tensor *s = &args->operands[0], *d = &args->operands[1], *o = &args->results[0];
  const int64_t t = s->dtype, n = bk_numel(o);
  if (d->dtype != t || o->dtype != t || bk_numel(s) != 1 || bk_numel(d) != 1 ||
      !(t == BITNET_F32 || t == BITNET_F64 || bk_is_int(t)))
    return bitnetk__fail(call, args, BITNET_ERR_INTERNAL, "expects scalar start and delta of the result's dtype");
  if (t == BITNET_F32) {
    const float start = *(const float*)s->data, delta = *(const float*)d->data;
    for (int64_t i = 0; i < n; ++i) ((float*)o->data)[i] = (float)i * delta + start;
  } else if (t == BITNET_F64) {
    const double start = *(const double*)s->data, delta = *(const double*)d->data;
    for (int64_t i = 0; i < n; ++i) ((double*)o->data)[i] = (double)i * delta + start;
  } else {
    const uint64_t start = (uint64_t)bk_load_int(t, s->data, 0), delta = (uint64_t)bk_load_int(t, d->data, 0);
    for (int64_t i = 0; i < n; ++i) bk_store_int(t, o->data, i, (int64_t)(start + (uint64_t)i * delta));
  }
  return 0;
}
