/* cast between any two non-ternary element types, exactly as the interpreter:
 *   float -> float: through f32 (bf16/f16 rounded to nearest even, NaN stays NaN);
 *   int -> float:   the int64 value converted to f32 (round to nearest), then to bf16/f16;
 *   float -> int:   round half to even (in f64), saturate to the type's range, NaN -> 0;
 *   int -> int:     saturate. The i64 bounds are the interpreter's doubles: the top one is
 *                   2^63 - 1024 (the largest double below 2^63), also for i64 -> i64.
 * Elements go through a small stack buffer (f32 or int64) in chunks, one dtype switch each. */
#include "targets/kernels/kernel_util.h"

#define CAST_CHUNK 256

static void load_floats(int64_t t, const void* src, int64_t i0, int64_t n, float* out) {
  if (t == BITNET_F32) {
    memcpy(out, (const float*)src + i0, (size_t)n * 4);
  } else if (t == BITNET_BF16) {
    const uint16_t* s = (const uint16_t*)src + i0;
    for (int64_t i = 0; i < n; ++i) out[i] = bk_bf16_to_f32(s[i]);
  } else {
    const uint16_t* s = (const uint16_t*)src + i0;
    for (int64_t i = 0; i < n; ++i) out[i] = bk_f16_to_f32(s[i]);
  }
}

static void load_ints(int64_t t, const void* src, int64_t i0, int64_t n, int64_t* out) {
  switch (t) {
    case BITNET_I8: for (int64_t i = 0; i < n; ++i) out[i] = ((const int8_t*)src)[i0 + i]; break;
    case BITNET_U8: for (int64_t i = 0; i < n; ++i) out[i] = ((const uint8_t*)src)[i0 + i]; break;
    case BITNET_I32: for (int64_t i = 0; i < n; ++i) out[i] = ((const int32_t*)src)[i0 + i]; break;
    default: for (int64_t i = 0; i < n; ++i) out[i] = ((const int64_t*)src)[i0 + i]; break;
  }
}

static void store_floats(int64_t t, void* dst, int64_t i0, int64_t n, const float* in) {
  if (t == BITNET_F32) {
    memcpy((float*)dst + i0, in, (size_t)n * 4);
  } else if (t == BITNET_BF16) {
    uint16_t* d = (uint16_t*)dst + i0;
    for (int64_t i = 0; i < n; ++i) d[i] = bk_f32_to_bf16(in[i]);
  } else {
    uint16_t* d = (uint16_t*)dst + i0;
    for (int64_t i = 0; i < n; ++i) d[i] = bk_f32_to_f16(in[i]);
  }
}

/* Values already within the type's range. */
static void store_ints(int64_t t, void* dst, int64_t i0, int64_t n, const int64_t* in) {
  switch (t) {
    case BITNET_I8: for (int64_t i = 0; i < n; ++i) ((int8_t*)dst)[i0 + i] = (int8_t)in[i]; break;
    case BITNET_U8: for (int64_t i = 0; i < n; ++i) ((uint8_t*)dst)[i0 + i] = (uint8_t)in[i]; break;
    case BITNET_I32: for (int64_t i = 0; i < n; ++i) ((int32_t*)dst)[i0 + i] = (int32_t)in[i]; break;
    default: for (int64_t i = 0; i < n; ++i) ((int64_t*)dst)[i0 + i] = in[i]; break;
  }
}

static void int_range(int64_t t, double* lo, double* hi) {
  switch (t) {
    case BITNET_I8: *lo = -128.0, *hi = 127.0; return;
    case BITNET_U8: *lo = 0.0, *hi = 255.0; return;
    case BITNET_I32: *lo = -2147483648.0, *hi = 2147483647.0; return;
    default: *lo = -9223372036854775808.0, *hi = 9223372036854774784.0; return;
  }
}

typedef struct cast_ctx {
  const void* src;
  void* dst;
  int64_t from, to, n;
} cast_ctx;

static void cast_range(void* vctx, int64_t begin, int64_t end) {
  const cast_ctx* c = (const cast_ctx*)vctx;
  double lo = 0, hi = 0;
  if (bk_is_int(c->to)) int_range(c->to, &lo, &hi);
  const int64_t ilo = (int64_t)lo, ihi = (int64_t)hi;
  float f[CAST_CHUNK];
  int64_t v[CAST_CHUNK];
  for (int64_t t = begin; t < end; ++t) {
    const int64_t i0 = t * CAST_CHUNK, n = c->n - i0 < CAST_CHUNK ? c->n - i0 : CAST_CHUNK;
    if (bk_is_float(c->from)) {
      load_floats(c->from, c->src, i0, n, f);
      if (bk_is_float(c->to)) {
        store_floats(c->to, c->dst, i0, n, f);
        continue;
      }
      for (int64_t i = 0; i < n; ++i) {
        double d = f[i] != f[i] ? 0.0 : __builtin_roundeven((double)f[i]);
        d = d < lo ? lo : d;
        d = hi < d ? hi : d;
        v[i] = (int64_t)d;
      }
      store_ints(c->to, c->dst, i0, n, v);
    } else {
      load_ints(c->from, c->src, i0, n, v);
      if (bk_is_float(c->to)) {
        for (int64_t i = 0; i < n; ++i) f[i] = (float)v[i];
        store_floats(c->to, c->dst, i0, n, f);
        continue;
      }
      for (int64_t i = 0; i < n; ++i) v[i] = v[i] < ilo ? ilo : ihi < v[i] ? ihi : v[i];
      store_ints(c->to, c->dst, i0, n, v);
    }
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
