/* Internal to the kernels: tensor helpers, element conversions, error messages and the
 * parallel-for wrapper shared by every op family. Freestanding-ish C11: <stdint.h>,
 * <stddef.h>, <string.h> and compiler builtins only (libm calls resolve at link time).
 * Internal symbols are prefixed bitnetk__ (the kernels' public ones are bitnetk_<opcode>). */
#ifndef BITNET_KERNEL_UTIL_H
#define BITNET_KERNEL_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bitnet.h"
#include "runtime/abi/bitnet_abi.h"
#include "targets/kernels/bitnet_kernels.h"

/* ---- tensors ---- */

static inline int64_t bk_numel(const bitnet_tensor* t) {
  int64_t n = 1;
  for (int64_t d = 0; d < t->rank; ++d) n *= t->dims[d];
  return n;
}

/* Product of dims [from, to). */
static inline int64_t bk_dims_product(const bitnet_tensor* t, int64_t from, int64_t to) {
  int64_t n = 1;
  for (int64_t d = from; d < to && d < t->rank; ++d) n *= t->dims[d];
  return n;
}

static inline int64_t bk_last_dim(const bitnet_tensor* t) { return t->rank ? t->dims[t->rank - 1] : 1; }

/* Bytes per element of a bitnet_dtype (0 for ternary or an unknown code). */
static inline int64_t bk_dtype_size(int64_t dtype) { return bitnet_dtype_size(dtype); }

static inline int bk_is_float(int64_t dtype) {
  return dtype == BITNET_F32 || dtype == BITNET_BF16 || dtype == BITNET_F16;
}

static inline int bk_is_int(int64_t dtype) {
  return dtype == BITNET_I8 || dtype == BITNET_I32 || dtype == BITNET_I64 || dtype == BITNET_U8 ||
         dtype == BITNET_I16 || dtype == BITNET_U16 || dtype == BITNET_U32 || dtype == BITNET_U64;
}

static inline int bk_is_unsigned(int64_t dtype) {
  return dtype == BITNET_U8 || dtype == BITNET_U16 || dtype == BITNET_U32 || dtype == BITNET_U64;
}

/* Attribute i, or 0 when the codegen passed fewer (the kernels check what they rely on). */
static inline int64_t bk_int_attr(const bitnet_kernel_args* a, int64_t i) {
  return i >= 0 && i < a->num_ints ? a->ints[i] : 0;
}
static inline double bk_float_attr(const bitnet_kernel_args* a, int64_t i) {
  return i >= 0 && i < a->num_floats ? a->floats[i] : 0.0;
}

/* ---- element conversions (bit-exact with compiler/ir/Weights.cpp) ---- */

static inline float bk_f32_from_bits(uint32_t u) {
  float f;
  memcpy(&f, &u, 4);
  return f;
}
static inline uint32_t bk_bits_from_f32(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

static inline float bk_bf16_to_f32(uint16_t h) { return bk_f32_from_bits((uint32_t)h << 16); }

/* Round to nearest even; NaN stays a quiet NaN. */
static inline uint16_t bk_f32_to_bf16(float f) {
  uint32_t u = bk_bits_from_f32(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);
  u += 0x7fffu + ((u >> 16) & 1u);
  return (uint16_t)(u >> 16);
}

static inline float bk_f16_to_f32(uint16_t h) {
  const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
  if (exp == 0) {  /* zero or subnormal: mant * 2^-24, exact in f32 */
    const float v = (float)mant * 5.9604644775390625e-08f;
    return bk_f32_from_bits(bk_bits_from_f32(v) | sign);
  }
  if (exp == 31) return bk_f32_from_bits(sign | 0x7f800000u | (mant << 13));
  return bk_f32_from_bits(sign | ((exp - 15 + 127) << 23) | (mant << 13));
}

/* Round to nearest even; overflow to infinity; NaN -> sign | 0x7e00. */
static inline uint16_t bk_f32_to_f16(float f) {
  const uint32_t u = bk_bits_from_f32(f);
  const uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
  const uint32_t a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return (uint16_t)(sign | 0x7e00u);
  if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* >= 65520: rounds to infinity */
  if (a < 0x38800000u) {                                     /* below 2^-14: subnormal half */
    /* |f| * 2^24 rounded to an integer (exact scaling, then round half to even). */
    const float scaled = bk_f32_from_bits(a) * 16777216.0f;
    return (uint16_t)(sign | (uint16_t)__builtin_roundevenf(scaled));
  }
  /* Normal: keep 10 of the 23 mantissa bits, round half to even (a carry bumps the exponent). */
  const uint32_t rebased = a - ((uint32_t)(127 - 15) << 23);
  const uint32_t rounded = rebased + 0xfffu + ((rebased >> 13) & 1u);
  return (uint16_t)(sign | (rounded >> 13));
}

/* ---- any element as a number (the interpreter's TensorView::intAt / uintAt / doubleAt) ---- */

/* An integer or bool element as int64 (u64: its bits). */
static inline int64_t bk_load_int(int64_t t, const void* p, int64_t i) {
  switch (t) {
    case BITNET_I8: return ((const int8_t*)p)[i];
    case BITNET_U8: case BITNET_BOOL: return ((const uint8_t*)p)[i];
    case BITNET_I16: return ((const int16_t*)p)[i];
    case BITNET_U16: return ((const uint16_t*)p)[i];
    case BITNET_I32: return ((const int32_t*)p)[i];
    case BITNET_U32: return ((const uint32_t*)p)[i];
    default: return ((const int64_t*)p)[i]; /* i64, u64 */
  }
}

/* An integer element (or bool) stored truncated to the type; bool stores v != 0. */
static inline void bk_store_int(int64_t t, void* p, int64_t i, int64_t v) {
  switch (t) {
    case BITNET_I8: case BITNET_U8: ((uint8_t*)p)[i] = (uint8_t)v; break;
    case BITNET_BOOL: ((uint8_t*)p)[i] = v != 0; break;
    case BITNET_I16: case BITNET_U16: ((uint16_t*)p)[i] = (uint16_t)v; break;
    case BITNET_I32: case BITNET_U32: ((uint32_t*)p)[i] = (uint32_t)v; break;
    default: ((int64_t*)p)[i] = v; break;
  }
}

/* An f32/bf16/f16 element as f32 (exact). */
static inline float bk_load_f32(int64_t t, const void* p, int64_t i) {
  if (t == BITNET_F32) return ((const float*)p)[i];
  if (t == BITNET_BF16) return bk_bf16_to_f32(((const uint16_t*)p)[i]);
  return bk_f16_to_f32(((const uint16_t*)p)[i]);
}

static inline void bk_store_f32(int64_t t, void* p, int64_t i, float v) {
  if (t == BITNET_F32) ((float*)p)[i] = v;
  else if (t == BITNET_BF16) ((uint16_t*)p)[i] = bk_f32_to_bf16(v);
  else ((uint16_t*)p)[i] = bk_f32_to_f16(v);
}

/* Any non-ternary element as a double (floats exact; u64 and i64 rounded to nearest). */
static inline double bk_load_double(int64_t t, const void* p, int64_t i) {
  if (t == BITNET_F64) return ((const double*)p)[i];
  if (bk_is_float(t)) return (double)bk_load_f32(t, p, i);
  if (t == BITNET_U64) return (double)((const uint64_t*)p)[i];
  return (double)bk_load_int(t, p, i);
}

/* The range of an integer dtype as doubles for float -> int conversions: the largest doubles
 * within it (2^63 - 1024 for i64, 2^64 - 2048 for u64), as the interpreter's intRange. */
static inline void bk_int_range_double(int64_t t, double* lo, double* hi) {
  switch (t) {
    case BITNET_I8: *lo = -128.0, *hi = 127.0; return;
    case BITNET_U8: *lo = 0.0, *hi = 255.0; return;
    case BITNET_I16: *lo = -32768.0, *hi = 32767.0; return;
    case BITNET_U16: *lo = 0.0, *hi = 65535.0; return;
    case BITNET_I32: *lo = -2147483648.0, *hi = 2147483647.0; return;
    case BITNET_U32: *lo = 0.0, *hi = 4294967295.0; return;
    case BITNET_U64: *lo = 0.0, *hi = 18446744073709549568.0; return;
    default: *lo = -9223372036854775808.0, *hi = 9223372036854774784.0; return;
  }
}

/* An integral double converted to integer dtype t: NaN -> 0, saturated; the dtype's bits. */
static inline int64_t bitnetk__saturate_double(int64_t t, double v) {
  if (v != v) return 0;
  double lo, hi;
  bk_int_range_double(t, &lo, &hi);
  v = v < lo ? lo : v;
  v = hi < v ? hi : v;
  return bk_is_unsigned(t) ? (int64_t)(uint64_t)v : (int64_t)v;
}

/* ---- errors: "op <args->op>: <message>" into call->error ---- */

typedef struct bitnetk__msg {
  char* buf;
  int64_t cap; /* bytes including the NUL */
  int64_t len;
} bitnetk__msg;

bitnetk__msg bitnetk__msg_begin(const bitnet_call* call, const bitnet_kernel_args* args);
void bitnetk__msg_str(bitnetk__msg* m, const char* s);
void bitnetk__msg_int(bitnetk__msg* m, int64_t v);

/* The common shapes of a message: text, or text int text [int text [int text]]. Returns status. */
int64_t bitnetk__fail(const bitnet_call* call, const bitnet_kernel_args* args, int64_t status,
                      const char* text);
int64_t bitnetk__fail_i(const bitnet_call* call, const bitnet_kernel_args* args, int64_t status,
                        const char* t0, int64_t v0, const char* t1);
int64_t bitnetk__fail_ii(const bitnet_call* call, const bitnet_kernel_args* args, int64_t status,
                         const char* t0, int64_t v0, const char* t1, int64_t v1, const char* t2);
int64_t bitnetk__fail_iii(const bitnet_call* call, const bitnet_kernel_args* args, int64_t status,
                          const char* t0, int64_t v0, const char* t1, int64_t v1, const char* t2,
                          int64_t v2, const char* t3);

/* An operand/result count the generated code got wrong: BITNET_ERR_INTERNAL. */
int64_t bitnetk__check_arity(const bitnet_call* call, const bitnet_kernel_args* args,
                             int64_t min_operands, int64_t max_operands, int64_t results);

/* ---- parallel loops ---- */

/* Runs fn over [0, n) on the call's pool when the work (n * cost_per_item, in rough "element
 * operations") is large enough to pay for waking the threads; inline otherwise. */
#define BK_PARALLEL_MIN_WORK ((int64_t)1 << 17)
static inline void bk_parallel_for(const bitnet_call* call, int64_t n, int64_t cost_per_item,
                                   bitnet_range_fn fn, void* ctx) {
  if (n <= 0) return;
  if (call->pool == NULL || n == 1 || n * cost_per_item < BK_PARALLEL_MIN_WORK)
    fn(ctx, 0, n);
  else
    bitnet_rt_parallel_for(call->pool, n, fn, ctx);
}

#endif /* BITNET_KERNEL_UTIL_H */
