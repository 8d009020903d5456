/* slice: x -> the declared result (dims resolved for this call). Per listed axis the start is
 * normalized against the actual input dim (negative + dim, clamped to [0, dim] for step > 0,
 * [0, dim - 1] for step < 0), then result.dims[axis] elements at start + i * step; an index
 * outside the input is an error. Unlisted axes must keep the input dim.
 * Attributes: ints = [n, starts..., n, axes..., n, steps...]. */
#include "targets/kernels/kernel_util.h"

int64_t bitnetk_slice(const bitnet_call* call, const bitnet_kernel_args* args) {
  int64_t st = bitnetk__check_arity(call, args, 1, 1, 1);
  if (st) return st;
  const bitnet_tensor *x = &args->operands[0], *o = &args->results[0];
  const int64_t size = bk_dtype_size(x->dtype), rank = x->rank;
  const int64_t n = bk_int_attr(args, 0);
  if (o->dtype != x->dtype || !size || o->rank != rank || n < 0 || n > rank || args->num_ints != 3 + 3 * n ||
      bk_int_attr(args, 1 + n) != n || bk_int_attr(args, 2 + 2 * n) != n)
    return bitnetk__fail(call, args, BITNET_ERR_INTERNAL, "bad operands or attributes");
  int64_t first[BITNET_MAX_RANK], step[BITNET_MAX_RANK], listed[BITNET_MAX_RANK];
  for (int64_t d = 0; d < rank; ++d) first[d] = 0, step[d] = 1, listed[d] = 0;
  for (int64_t i = 0; i < n; ++i) {
    int64_t a = args->ints[2 + n + i];
    if (a < 0) a += rank;
    const int64_t s0 = args->ints[1 + i], sp = args->ints[3 + 2 * n + i];
    if (a < 0 || a >= rank || sp == 0) return bitnetk__fail(call, args, BITNET_ERR_INTERNAL, "bad axis or step");
    const int64_t dim = x->dims[a], cnt = o->dims[a];
    int64_t s = s0 < 0 ? s0 + dim : s0;
    const int64_t hi = sp > 0 ? dim : dim - 1;
    s = s < 0 ? 0 : hi < s ? hi : s;
    const int64_t last = s + (cnt - 1) * sp;
    if (cnt > 0 && (s < 0 || s >= dim || last < 0 || last >= dim)) {
      bitnetk__msg m = bitnetk__msg_begin(call, args);
      bitnetk__msg_str(&m, "axis ");
      bitnetk__msg_int(&m, a);
      bitnetk__msg_str(&m, " reads ");
      bitnetk__msg_int(&m, cnt);
      bitnetk__msg_str(&m, " elements from index ");
      bitnetk__msg_int(&m, s);
      bitnetk__msg_str(&m, " in steps of ");
      bitnetk__msg_int(&m, sp);
      bitnetk__msg_str(&m, " but the input dim is ");
      bitnetk__msg_int(&m, dim);
      return BITNET_ERR_INVALID_ARGUMENT;
    }
    first[a] = s, step[a] = sp, listed[a] = 1;
  }
  for (int64_t d = 0; d < rank; ++d)
    if (!listed[d] && o->dims[d] != x->dims[d])
      return bitnetk__fail_ii(call, args, BITNET_ERR_INVALID_ARGUMENT, "the result dim ", d,
                              " differs from the input's (", x->dims[d], ")");
  int64_t stride[BITNET_MAX_RANK], idx[BITNET_MAX_RANK] = {0};
  for (int64_t d = rank - 1, s = 1; d >= 0; --d) stride[d] = s, s *= x->dims[d];
  const uint8_t* src = (const uint8_t*)x->data;
  uint8_t* out = (uint8_t*)o->data;
  const int64_t total = bk_numel(o);
  for (int64_t i = 0; i < total; ++i) {
    int64_t at = 0;
    for (int64_t d = 0; d < rank; ++d) at += (first[d] + idx[d] * step[d]) * stride[d];
    memcpy(out + i * size, src + at * size, (size_t)size);
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++idx[d] < o->dims[d]) break;
      idx[d] = 0;
    }
  }
  return 0;
}
