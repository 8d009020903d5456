/* cast between any two non-ternary element types, exactly as the interpreter:
 *   -> bool:         x != 0 (NaN is true);
 *   float -> f32/bf16/f16: through f32 (f64 rounds to f32 first; bf16/f16 round to nearest even);
 *   int -> f32/bf16/f16:   the (u)int64 value converted to f32 (round to nearest), then narrowed;
 *   -> f64:          exact for floats and for integers below 2^53, else rounded;
 *   float -> int:    truncate toward zero (in f64), saturate to the type's range (as doubles: the
 *                    top of i64 is 2^63 - 1024, of u64 2^64 - 2048), NaN -> 0;
 *   int -> int:      wrap: the low bits of the two's-complement value (bool counts as 0/1).
 * Elements go one by one in chunks of CAST_CHUNK per task. */
#include "targets/kernels/kernel_util.h"

#define CAST_CHUNK 256

static inline int is_floating(int64_t t) { return bk_is_float(t) || t == BITNET_F64; }

/* An integer element's two's-complement bits: int -> int wraps (C, numpy, ONNX Runtime). */
static int64_t int_bits(int64_t from, const void* src, int64_t i) {
  return from == BITNET_U64 ? (int64_t)((const uint64_t*)src)[i] : bk_load_int(from, src, i);
}

static void cast_element(int64_t from, const void* src, int64_t to, void* dst, int64_t i) {
  if (to == BITNET_BOOL) {
    ((uint8_t*)dst)[i] = is_floating(from) ? bk_load_double(from, src, i) != 0.0 : bk_load_int(from, src, i) != 0;
  } else if (bk_is_float(to)) {
    float f;
    if (bk_is_float(from)) f = bk_load_f32(from, src, i);
    else if (from == BITNET_F64) f = (float)((const double*)src)[i];
    else if (from == BITNET_U64) f = (float)((const uint64_t*)src)[i];
    else f = (float)bk_load_int(from, src, i);
    bk_store_f32(to, dst, i, f);
  } else if (to == BITNET_F64) {
    ((double*)dst)[i] = bk_load_double(from, src, i);
  } else if (is_floating(from)) {
    bk_store_int(to, dst, i, bitnetk__saturate_double(to, __builtin_trunc(bk_load_double(from, src, i))));
  } else {
    bk_store_int(to, dst, i, int_bits(from, src, i));
  }
}

typedef struct cast_ctx {
  const void* src;
  void* dst;
  int64_t from, to, n;
} cast_ctx;

static void cast_range(void* vctx, int64_t begin, int64_t end) {
  const cast_ctx* c = (const cast_ctx*)vctx;
  for (int64_t t = begin; t < end; ++t) {
    const int64_t i0 = t * CAST_CHUNK, i1 = c->n - i0 < CAST_CHUNK ? c->n : i0 + CAST_CHUNK;
    if (c->from == BITNET_F32 && c->to == BITNET_F32) {
      memcpy((float*)c->dst + i0, (const float*)c->src + i0, (size_t)(i1 - i0) * 4);
      continue;
    }
    for (int64_t i = i0; i < i1; ++i) cast_element(c->from, c->src, c->to, c->dst, i);
  }
}

int64_t bitnetk_cast(const bitnet_call* call, const bitnet_kernel_args* args) {
  int64_t st = bitnetk__check_arity(call, args, 1, 1, 1);
  if (st) return st;
  const bitnet_tensor *x = &args->operands[0], *o = &args->results[0];
  const int64_t to = bk_int_attr(args, 0);
  if (!bk_dtype_size(x->dtype) || !bk_dtype_size(to) || o->dtype != to)
    return bitnetk__fail_ii(call, args, BITNET_ERR_INTERNAL, "cannot cast element type ", x->dtype,
                            " to ", to, "");
  cast_ctx c = {x->data, o->data, x->dtype, to, bk_numel(x)};
  bk_parallel_for(call, (c.n + CAST_CHUNK - 1) / CAST_CHUNK, CAST_CHUNK * 4, cast_range, &c);
  return 0;
}
