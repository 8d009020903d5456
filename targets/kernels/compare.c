/* equal, less, greater: a, b of one dtype -> bool (1 byte, 0/1), numpy broadcasting. As the
 * interpreter (compiler/interp/CompareOps.cpp): floats compare as f32 (bf16/f16 widened) or f64
 * values (NaN compares false, -0 == +0), signed integers as int64, unsigned ones as uint64. */
#include "targets/kernels/broadcast_walk.h"

enum { CMP_EQ, CMP_LT, CMP_GT };

#define CMP(c, x, y) ((c) == CMP_EQ ? (x) == (y) : (c) == CMP_LT ? (x) < (y) : (x) > (y))

static int64_t compare(const bitnet_call* call, const bitnet_kernel_args* args, int c) {
  int64_t st = bitnetk__check_arity(call, args, 2, 2, 1);
  if (st) return st;
  const bitnet_tensor *a = &args->operands[0], *b = &args->operands[1], *o = &args->results[0];
  const int64_t t = a->dtype;
  if (b->dtype != t || !bk_dtype_size(t) || o->dtype != BITNET_BOOL)
    return bitnetk__fail_ii(call, args, BITNET_ERR_INTERNAL, "unsupported element types ", a->dtype, " and ",
                            b->dtype, "");
  bk_walk w;
  bk_walk_init(&w, o, a, b, NULL);
  uint8_t* out = (uint8_t*)o->data;
  const int64_t n = bk_numel(o);
  for (int64_t i = 0; i < n; ++i, bk_walk_next(&w)) {
    const int64_t ia = w.off[0], ib = w.off[1];
    int v;
    if (bk_is_float(t)) {
      const float x = bk_load_f32(t, a->data, ia), y = bk_load_f32(t, b->data, ib);
      v = CMP(c, x, y);
    } else if (t == BITNET_F64) {
      const double x = ((const double*)a->data)[ia], y = ((const double*)b->data)[ib];
      v = CMP(c, x, y);
    } else if (bk_is_unsigned(t)) {
      const uint64_t x = (uint64_t)bk_load_int(t, a->data, ia), y = (uint64_t)bk_load_int(t, b->data, ib);
      v = CMP(c, x, y);
    } else {
      const int64_t x = bk_load_int(t, a->data, ia), y = bk_load_int(t, b->data, ib);
      v = CMP(c, x, y);
    }
    out[i] = (uint8_t)v;
  }
  return 0;
}

int64_t bitnetk_equal(const bitnet_call* call, const bitnet_kernel_args* args) { return compare(call, args, CMP_EQ); }
int64_t bitnetk_less(const bitnet_call* call, const bitnet_kernel_args* args) { return compare(call, args, CMP_LT); }
int64_t bitnetk_greater(const bitnet_call* call, const bitnet_kernel_args* args) { return compare(call, args, CMP_GT); }
