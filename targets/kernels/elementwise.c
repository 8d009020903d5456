/* Elementwise ops (docs/IR.md): binary with numpy broadcasting (add sub mul div max min pow),
 * unary (neg abs relu sqrt exp sigmoid reciprocal round relu2 silu), clip.
 * As the interpreter: float math in f32 (max/min give NaN when an operand is NaN, pow is powf;
 * bf16/f16 widened to f32 and rounded back), f64 math in f64; integer math as 64-bit values
 * truncated to the element type (wrapping), max/min compared exactly (unsigned types as
 * unsigned), division truncating toward zero (a zero divisor is an error, checked first).
 * pow with an exponent of another dtype, or an integer base, takes a per-element path.
 * Broadcasting: dims align from the right; adjacent dims that are contiguous in both operands
 * are merged, so the inner loop is as long as possible with operand strides 1 or 0.
 * Results may be the very buffer of an operand (same index), never a partial overlap. */
#include "targets/kernels/broadcast_walk.h"
#include "targets/kernels/kernel_util.h"

typedef void (*bin_fn)(const void* a, int64_t sa, const void* b, int64_t sb, void* o, int64_t n);
typedef void (*un_fn)(const void* x, void* o, int64_t n);

/* ---- binary loops: four stride cases, each a simple loop the vectorizer handles ---- */

#define BK_BINARY_LOOP(NAME, T, EXPR)                                                            \
  static void NAME(const void* va, int64_t sa, const void* vb, int64_t sb, void* vo, int64_t n) { \
    const T* restrict a = (const T*)va;                                                         \
    const T* restrict b = (const T*)vb;                                                         \
    T* restrict o = (T*)vo;                                                                     \
    if (sa && sb) {                                                                             \
      for (int64_t i = 0; i < n; ++i) {                                                         \
        const T x = a[i], y = b[i];                                                             \
        o[i] = (T)(EXPR);                                                                       \
      }                                                                                         \
    } else if (sa) {                                                                            \
      const T y = b[0];                                                                         \
      for (int64_t i = 0; i < n; ++i) {                                                         \
        const T x = a[i];                                                                       \
        o[i] = (T)(EXPR);                                                                       \
      }                                                                                         \
    } else if (sb) {                                                                            \
      const T x = a[0];                                                                         \
      for (int64_t i = 0; i < n; ++i) {                                                         \
        const T y = b[i];                                                                       \
        o[i] = (T)(EXPR);                                                                       \
      }                                                                                         \
    } else {                                                                                    \
      const T x = a[0], y = b[0];                                                               \
      const T v = (T)(EXPR);                                                                    \
      for (int64_t i = 0; i < n; ++i) o[i] = v;                                                 \
    }                                                                                           \
  }

#define BK_NAN __builtin_nanf("")
/* std::max / std::min as the interpreter uses them, NaN if either operand is NaN. */
#define F_MAX (x != x || y != y ? BK_NAN : (x < y ? y : x))
#define F_MIN (x != x || y != y ? BK_NAN : (y < x ? y : x))
/* Integers: computed as int64 (unsigned arithmetic wraps like the interpreter's int64 math). */
#define I_ADD ((int64_t)((uint64_t)(int64_t)x + (uint64_t)(int64_t)y))
#define I_SUB ((int64_t)((uint64_t)(int64_t)x - (uint64_t)(int64_t)y))
#define I_MUL ((int64_t)((uint64_t)(int64_t)x * (uint64_t)(int64_t)y))
#define I_MAX (x < y ? y : x)
#define I_MIN (y < x ? y : x)

BK_BINARY_LOOP(add_f32, float, x + y)
BK_BINARY_LOOP(sub_f32, float, x - y)
BK_BINARY_LOOP(mul_f32, float, x * y)
BK_BINARY_LOOP(div_f32, float, x / y)
BK_BINARY_LOOP(max_f32, float, F_MAX)
BK_BINARY_LOOP(min_f32, float, F_MIN)
BK_BINARY_LOOP(pow_f32, float, __builtin_powf(x, y))

#define BK_INT_BINARIES(SUFFIX, T)       \
  BK_BINARY_LOOP(add_##SUFFIX, T, I_ADD) \
  BK_BINARY_LOOP(sub_##SUFFIX, T, I_SUB) \
  BK_BINARY_LOOP(mul_##SUFFIX, T, I_MUL) \
  BK_BINARY_LOOP(max_##SUFFIX, T, I_MAX) \
  BK_BINARY_LOOP(min_##SUFFIX, T, I_MIN)
BK_INT_BINARIES(i8, int8_t)
BK_INT_BINARIES(i32, int32_t)
BK_INT_BINARIES(i64, int64_t)
BK_INT_BINARIES(u8, uint8_t)
BK_INT_BINARIES(i16, int16_t)
BK_INT_BINARIES(u16, uint16_t)
BK_INT_BINARIES(u32, uint32_t)
BK_INT_BINARIES(u64, uint64_t)

/* Integer division (the divisor was checked for zeros): signed truncates toward zero and
 * x / -1 wraps (the interpreter's 0 - x in uint64); unsigned divides as uint64. */
#define S_DIV (y == -1 ? (int64_t)(0 - (uint64_t)(int64_t)x) : (int64_t)x / (int64_t)y)
#define U_DIV ((uint64_t)x / (uint64_t)y)
BK_BINARY_LOOP(div_i8, int8_t, S_DIV)
BK_BINARY_LOOP(div_i16, int16_t, S_DIV)
BK_BINARY_LOOP(div_i32, int32_t, S_DIV)
BK_BINARY_LOOP(div_i64, int64_t, S_DIV)
BK_BINARY_LOOP(div_u8, uint8_t, U_DIV)
BK_BINARY_LOOP(div_u16, uint16_t, U_DIV)
BK_BINARY_LOOP(div_u32, uint32_t, U_DIV)
BK_BINARY_LOOP(div_u64, uint64_t, U_DIV)

/* f64: the same operations in double. */
#define D_MAX (x != x || y != y ? __builtin_nan("") : (x < y ? y : x))
#define D_MIN (x != x || y != y ? __builtin_nan("") : (y < x ? y : x))
BK_BINARY_LOOP(add_f64, double, x + y)
BK_BINARY_LOOP(sub_f64, double, x - y)
BK_BINARY_LOOP(mul_f64, double, x * y)
BK_BINARY_LOOP(div_f64, double, x / y)
BK_BINARY_LOOP(max_f64, double, D_MAX)
BK_BINARY_LOOP(min_f64, double, D_MIN)

/* bf16/f16: widened to f32, the f32 operation, rounded back to nearest even. */
static inline float f32_max(float x, float y) { return F_MAX; }
static inline float f32_min(float x, float y) { return F_MIN; }
#define BK_HALF_BINARIES(SUFFIX, TO_F32, FROM_F32)                                         \
  BK_BINARY_LOOP(add_##SUFFIX, uint16_t, FROM_F32(TO_F32(x) + TO_F32(y)))                  \
  BK_BINARY_LOOP(sub_##SUFFIX, uint16_t, FROM_F32(TO_F32(x) - TO_F32(y)))                  \
  BK_BINARY_LOOP(mul_##SUFFIX, uint16_t, FROM_F32(TO_F32(x) * TO_F32(y)))                  \
  BK_BINARY_LOOP(div_##SUFFIX, uint16_t, FROM_F32(TO_F32(x) / TO_F32(y)))                  \
  BK_BINARY_LOOP(max_##SUFFIX, uint16_t, FROM_F32(f32_max(TO_F32(x), TO_F32(y))))         \
  BK_BINARY_LOOP(min_##SUFFIX, uint16_t, FROM_F32(f32_min(TO_F32(x), TO_F32(y))))
BK_HALF_BINARIES(bf16, bk_bf16_to_f32, bk_f32_to_bf16)
BK_HALF_BINARIES(f16, bk_f16_to_f32, bk_f32_to_f16)

/* ---- broadcasting ---- */

typedef struct bcast {
  int64_t rank; /* >= 1 after merging */
  int64_t dims[BITNET_MAX_RANK];
  int64_t sa[BITNET_MAX_RANK], sb[BITNET_MAX_RANK]; /* element strides, 0 on broadcast dims */
} bcast;

/* Strides of operand t aligned to the output's rank r (0 where t has size 1 or no dim). */
static void aligned_strides(const bitnet_tensor* t, int64_t r, int64_t* strides) {
  int64_t stride = 1;
  for (int64_t d = r - 1; d >= 0; --d) {
    const int64_t td = d - (r - t->rank);
    if (td < 0) {
      strides[d] = 0;
      continue;
    }
    strides[d] = t->dims[td] == 1 ? 0 : stride;
    stride *= t->dims[td];
  }
}

static void bcast_init(bcast* bc, const bitnet_tensor* a, const bitnet_tensor* b,
                       const bitnet_tensor* out) {
  const int64_t r = out->rank;
  int64_t sa[BITNET_MAX_RANK], sb[BITNET_MAX_RANK];
  aligned_strides(a, r, sa);
  aligned_strides(b, r, sb);
  bc->rank = 0;
  for (int64_t d = 0; d < r; ++d) {
    const int64_t n = out->dims[d];
    if (n == 1) continue; /* contributes nothing */
    if (bc->rank > 0) {
      const int64_t p = bc->rank - 1;
      if (bc->sa[p] == sa[d] * n && bc->sb[p] == sb[d] * n) { /* contiguous in both: merge */
        bc->dims[p] *= n;
        bc->sa[p] = sa[d];
        bc->sb[p] = sb[d];
        continue;
      }
    }
    bc->dims[bc->rank] = n;
    bc->sa[bc->rank] = sa[d];
    bc->sb[bc->rank] = sb[d];
    ++bc->rank;
  }
  if (bc->rank == 0) { /* a scalar result */
    bc->rank = 1;
    bc->dims[0] = 1;
    bc->sa[0] = bc->sb[0] = 0;
  }
}

#define BK_FLAT_CHUNK 16384 /* elements per task of a flat loop */

typedef struct bin_ctx {
  bin_fn fn;
  const uint8_t* a;
  const uint8_t* b;
  uint8_t* o;
  int64_t esize;
  bcast bc;
} bin_ctx;

/* Tasks: rows of the innermost merged dim; a single merged dim is cut into chunks instead. */
static void binary_range(void* vctx, int64_t begin, int64_t end) {
  const bin_ctx* c = (const bin_ctx*)vctx;
  const bcast* bc = &c->bc;
  const int64_t in = bc->rank - 1, n = bc->dims[in], sa = bc->sa[in], sb = bc->sb[in];
  if (bc->rank == 1) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t i0 = t * BK_FLAT_CHUNK, len = n - i0 < BK_FLAT_CHUNK ? n - i0 : BK_FLAT_CHUNK;
      c->fn(c->a + i0 * sa * c->esize, sa, c->b + i0 * sb * c->esize, sb, c->o + i0 * c->esize,
            len);
    }
    return;
  }
  for (int64_t t = begin; t < end; ++t) {
    int64_t rest = t, oa = 0, ob = 0;
    for (int64_t d = in - 1; d >= 0; --d) {
      const int64_t idx = rest % bc->dims[d];
      rest /= bc->dims[d];
      oa += idx * bc->sa[d];
      ob += idx * bc->sb[d];
    }
    c->fn(c->a + oa * c->esize, sa, c->b + ob * c->esize, sb, c->o + t * n * c->esize, n);
  }
}

/* fns: the loop per dtype (index bitnet_dtype), NULL where the op does not take the dtype. */
static int64_t binary(const bitnet_call* call, const bitnet_kernel_args* args, const bin_fn* fns) {
  int64_t st = bitnetk__check_arity(call, args, 2, 2, 1);
  if (st) return st;
  const bitnet_tensor *a = &args->operands[0], *b = &args->operands[1], *o = &args->results[0];
  if (a->dtype != b->dtype || a->dtype != o->dtype || a->dtype < 0 || a->dtype > BITNET_U64 ||
      !fns[a->dtype])
    return bitnetk__fail_ii(call, args, BITNET_ERR_INTERNAL, "unsupported element types ", a->dtype,
                            " and ", b->dtype, "");
  bin_ctx c = {fns[a->dtype], (const uint8_t*)a->data, (const uint8_t*)b->data,
               (uint8_t*)o->data, bk_dtype_size(a->dtype), {0}};
  const int64_t total = bk_numel(o);
  if (total == 0) return 0;
  bcast_init(&c.bc, a, b, o);
  const int64_t inner = c.bc.dims[c.bc.rank - 1];
  if (c.bc.rank == 1)
    bk_parallel_for(call, (inner + BK_FLAT_CHUNK - 1) / BK_FLAT_CHUNK, BK_FLAT_CHUNK, binary_range, &c);
  else
    bk_parallel_for(call, total / inner, inner, binary_range, &c);
  return 0;
}

/* One loop per element type (every arithmetic dtype). */
#define BK_BINARY_KERNEL(OP)                                                                  \
  int64_t bitnetk_##OP(const bitnet_call* call, const bitnet_kernel_args* args) {            \
    static const bin_fn fns[BITNET_U64 + 1] = {                                                \
        [BITNET_F32] = OP##_f32, [BITNET_BF16] = OP##_bf16, [BITNET_F16] = OP##_f16,           \
        [BITNET_F64] = OP##_f64, [BITNET_I8] = OP##_i8,     [BITNET_I16] = OP##_i16,           \
        [BITNET_I32] = OP##_i32, [BITNET_I64] = OP##_i64,   [BITNET_U8] = OP##_u8,             \
        [BITNET_U16] = OP##_u16, [BITNET_U32] = OP##_u32,   [BITNET_U64] = OP##_u64};          \
    return binary(call, args, fns);                                                            \
  }
BK_BINARY_KERNEL(add)
BK_BINARY_KERNEL(sub)
BK_BINARY_KERNEL(mul)
BK_BINARY_KERNEL(max)
BK_BINARY_KERNEL(min)

/* Integer division: every divisor element is checked first (the interpreter's error). */
int64_t bitnetk_div(const bitnet_call* call, const bitnet_kernel_args* args) {
  static const bin_fn fns[BITNET_U64 + 1] = {
      [BITNET_F32] = div_f32, [BITNET_BF16] = div_bf16, [BITNET_F16] = div_f16,
      [BITNET_F64] = div_f64, [BITNET_I8] = div_i8,     [BITNET_I16] = div_i16,
      [BITNET_I32] = div_i32, [BITNET_I64] = div_i64,   [BITNET_U8] = div_u8,
      [BITNET_U16] = div_u16, [BITNET_U32] = div_u32,   [BITNET_U64] = div_u64};
  if (args->num_operands == 2 && bk_is_int(args->operands[1].dtype)) {
    const bitnet_tensor* b = &args->operands[1];
    const int64_t n = bk_numel(b);
    for (int64_t i = 0; i < n; ++i)
      if (bk_load_int(b->dtype, b->data, i) == 0)
        return bitnetk__fail_i(call, args, BITNET_ERR_INVALID_ARGUMENT, "integer division by zero (element ", i,
                               " of the divisor)");
  }
  return binary(call, args, fns);
}

/* ---- pow with an exponent of another dtype or an integer base: element by element ---- */

/* An integer base: an integer exponent >= 0 by repeated squaring (wrapping); a negative one
 * gives the truncated real result; a float exponent: pow in f64, truncated, saturated. */
static int64_t int_pow(int64_t at, const void* a, int64_t ia, int64_t bt, const void* b, int64_t ib) {
  const int a_unsigned = bk_is_unsigned(at);
  if (!bk_is_int(bt) && bt != BITNET_BOOL) {
    const double r = __builtin_trunc(__builtin_pow(bk_load_double(at, a, ia), bk_load_double(bt, b, ib)));
    return bitnetk__saturate_double(at, r);
  }
  const int64_t base = bk_load_int(at, a, ia), e = bk_load_int(bt, b, ib);
  if (!bk_is_unsigned(bt) && e < 0) {
    if (base == 1 && !a_unsigned) return 1;
    if (base == -1 && !a_unsigned) return (e & 1) ? -1 : 1;
    return a_unsigned && base == 1 ? 1 : 0;
  }
  uint64_t ue = (uint64_t)e, x = (uint64_t)base, r = 1;
  for (; ue; ue >>= 1, x *= x)
    if (ue & 1) r *= x;
  return (int64_t)r;
}

int64_t bitnetk_pow(const bitnet_call* call, const bitnet_kernel_args* args) {
  static const bin_fn fns[BITNET_U64 + 1] = {[BITNET_F32] = pow_f32};
  int64_t st = bitnetk__check_arity(call, args, 2, 2, 1);
  if (st) return st;
  const bitnet_tensor *a = &args->operands[0], *b = &args->operands[1], *o = &args->results[0];
  if (a->dtype == BITNET_F32 && b->dtype == BITNET_F32) return binary(call, args, fns);
  if (a->dtype != o->dtype || !bk_dtype_size(a->dtype) || !bk_dtype_size(b->dtype))
    return bitnetk__fail_ii(call, args, BITNET_ERR_INTERNAL, "unsupported element types ", a->dtype,
                            " and ", b->dtype, "");
  bk_walk w;
  bk_walk_init(&w, o, a, b, NULL);
  const int64_t n = bk_numel(o);
  for (int64_t i = 0; i < n; ++i, bk_walk_next(&w)) {
    const int64_t ia = w.off[0], ib = w.off[1];
    if (bk_is_float(a->dtype))  /* the exponent as f32 (through f64) */
      bk_store_f32(o->dtype, o->data, i,
                   __builtin_powf(bk_load_f32(a->dtype, a->data, ia), (float)bk_load_double(b->dtype, b->data, ib)));
    else if (a->dtype == BITNET_F64)
      ((double*)o->data)[i] = __builtin_pow(((const double*)a->data)[ia], bk_load_double(b->dtype, b->data, ib));
    else
      bk_store_int(o->dtype, o->data, i, int_pow(a->dtype, a->data, ia, b->dtype, b->data, ib));
  }
  return 0;
}

/* ---- unary ---- */

#define BK_UNARY_LOOP(NAME, T, EXPR)                                   \
  static void NAME(const void* vx, void* vo, int64_t n) {              \
    const T* restrict xs = (const T*)vx;                               \
    T* restrict o = (T*)vo;                                            \
    for (int64_t i = 0; i < n; ++i) {                                  \
      const T x = xs[i];                                               \
      o[i] = (T)(EXPR);                                                \
    }                                                                  \
  }

BK_UNARY_LOOP(neg_f32, float, -x)
BK_UNARY_LOOP(abs_f32, float, __builtin_fabsf(x))
BK_UNARY_LOOP(relu_f32, float, x > 0.0f ? x : 0.0f)
BK_UNARY_LOOP(sqrt_f32, float, __builtin_sqrtf(x))
BK_UNARY_LOOP(exp_f32, float, __builtin_expf(x))
BK_UNARY_LOOP(sigmoid_f32, float, 1.0f / (1.0f + __builtin_expf(-x)))
BK_UNARY_LOOP(reciprocal_f32, float, 1.0f / x)
BK_UNARY_LOOP(round_f32, float, __builtin_roundevenf(x))
BK_UNARY_LOOP(relu2_f32, float, (x > 0.0f ? x : 0.0f) * (x > 0.0f ? x : 0.0f))
BK_UNARY_LOOP(silu_f32, float, x / (1.0f + __builtin_expf(-x)))

/* Integers as int64 truncated to the type (-(-128) is -128 in i8, as the interpreter stores it). */
#define BK_INT_UNARIES(SUFFIX, T)                                           \
  BK_UNARY_LOOP(neg_##SUFFIX, T, (int64_t)(0 - (uint64_t)(int64_t)x))       \
  BK_UNARY_LOOP(abs_##SUFFIX, T, x < 0 ? (int64_t)(0 - (uint64_t)(int64_t)x) : (int64_t)x) \
  BK_UNARY_LOOP(relu_##SUFFIX, T, x > 0 ? x : 0)
BK_INT_UNARIES(i8, int8_t)
BK_INT_UNARIES(i32, int32_t)
BK_INT_UNARIES(i64, int64_t)
BK_INT_UNARIES(i16, int16_t)
/* Unsigned: abs and relu are the identity, neg wraps. */
#define BK_UINT_UNARIES(SUFFIX, T)                            \
  BK_UNARY_LOOP(neg_##SUFFIX, T, (uint64_t)0 - (uint64_t)x) \
  BK_UNARY_LOOP(abs_##SUFFIX, T, x)                         \
  BK_UNARY_LOOP(relu_##SUFFIX, T, x)
BK_UINT_UNARIES(u8, uint8_t)
BK_UINT_UNARIES(u16, uint16_t)
BK_UINT_UNARIES(u32, uint32_t)
BK_UINT_UNARIES(u64, uint64_t)
BK_UNARY_LOOP(neg_f64, double, -x)
BK_UNARY_LOOP(abs_f64, double, __builtin_fabs(x))
BK_UNARY_LOOP(relu_f64, double, x > 0.0 ? x : 0.0)
BK_UNARY_LOOP(neg_bf16, uint16_t, bk_f32_to_bf16(-bk_bf16_to_f32(x)))
BK_UNARY_LOOP(abs_bf16, uint16_t, bk_f32_to_bf16(__builtin_fabsf(bk_bf16_to_f32(x))))
BK_UNARY_LOOP(relu_bf16, uint16_t, bk_f32_to_bf16(bk_bf16_to_f32(x) > 0.0f ? bk_bf16_to_f32(x) : 0.0f))
BK_UNARY_LOOP(neg_f16, uint16_t, bk_f32_to_f16(-bk_f16_to_f32(x)))
BK_UNARY_LOOP(abs_f16, uint16_t, bk_f32_to_f16(__builtin_fabsf(bk_f16_to_f32(x))))
BK_UNARY_LOOP(relu_f16, uint16_t, bk_f32_to_f16(bk_f16_to_f32(x) > 0.0f ? bk_f16_to_f32(x) : 0.0f))

typedef struct un_ctx {
  un_fn fn;
  const uint8_t* x;
  uint8_t* o;
  int64_t esize, n;
} un_ctx;

static void unary_range(void* vctx, int64_t begin, int64_t end) {
  const un_ctx* c = (const un_ctx*)vctx;
  for (int64_t t = begin; t < end; ++t) {
    const int64_t i0 = t * BK_FLAT_CHUNK;
    const int64_t len = c->n - i0 < BK_FLAT_CHUNK ? c->n - i0 : BK_FLAT_CHUNK;
    c->fn(c->x + i0 * c->esize, c->o + i0 * c->esize, len);
  }
}

/* cost: rough operations per element (exp is worth a few dozen). */
static int64_t unary(const bitnet_call* call, const bitnet_kernel_args* args, const un_fn* fns,
                     int64_t cost) {
  int64_t st = bitnetk__check_arity(call, args, 1, 1, 1);
  if (st) return st;
  const bitnet_tensor *x = &args->operands[0], *o = &args->results[0];
  if (x->dtype != o->dtype || x->dtype < 0 || x->dtype > BITNET_U64 || !fns[x->dtype])
    return bitnetk__fail_i(call, args, BITNET_ERR_INTERNAL, "unsupported element type ", x->dtype, "");
  un_ctx c = {fns[x->dtype], (const uint8_t*)x->data, (uint8_t*)o->data, bk_dtype_size(x->dtype),
              bk_numel(x)};
  bk_parallel_for(call, (c.n + BK_FLAT_CHUNK - 1) / BK_FLAT_CHUNK, BK_FLAT_CHUNK * cost,
                  unary_range, &c);
  return 0;
}

#define BK_UNARY_KERNEL(OP, COST, F32, I8, I32, I64)                                  \
  int64_t bitnetk_##OP(const bitnet_call* call, const bitnet_kernel_args* args) {    \
    static const un_fn fns[BITNET_U64 + 1] = {[BITNET_F32] = F32, [BITNET_I8] = I8,    \
                                              [BITNET_I32] = I32, [BITNET_I64] = I64}; \
    return unary(call, args, fns, COST);                                               \
  }
/* neg abs relu: every arithmetic dtype. */
#define BK_SIGN_UNARY_KERNEL(OP)                                                              \
  int64_t bitnetk_##OP(const bitnet_call* call, const bitnet_kernel_args* args) {            \
    static const un_fn fns[BITNET_U64 + 1] = {                                                 \
        [BITNET_F32] = OP##_f32, [BITNET_BF16] = OP##_bf16, [BITNET_F16] = OP##_f16,           \
        [BITNET_F64] = OP##_f64, [BITNET_I8] = OP##_i8,     [BITNET_I16] = OP##_i16,           \
        [BITNET_I32] = OP##_i32, [BITNET_I64] = OP##_i64,   [BITNET_U8] = OP##_u8,             \
        [BITNET_U16] = OP##_u16, [BITNET_U32] = OP##_u32,   [BITNET_U64] = OP##_u64};          \
    return unary(call, args, fns, 1);                                                          \
  }
BK_SIGN_UNARY_KERNEL(neg)
BK_SIGN_UNARY_KERNEL(abs)
BK_SIGN_UNARY_KERNEL(relu)
BK_UNARY_KERNEL(sqrt, 4, sqrt_f32, NULL, NULL, NULL)
BK_UNARY_KERNEL(exp, 32, exp_f32, NULL, NULL, NULL)
BK_UNARY_KERNEL(sigmoid, 32, sigmoid_f32, NULL, NULL, NULL)
BK_UNARY_KERNEL(reciprocal, 4, reciprocal_f32, NULL, NULL, NULL)
BK_UNARY_KERNEL(round, 1, round_f32, NULL, NULL, NULL)
BK_UNARY_KERNEL(relu2, 1, relu2_f32, NULL, NULL, NULL)
BK_UNARY_KERNEL(silu, 32, silu_f32, NULL, NULL, NULL)

/* ---- clip: min(max(x, lo), hi) with f32 bounds; NaN passes through ---- */

typedef struct clip_ctx {
  const float* x;
  float* o;
  int64_t n;
  float lo, hi;
} clip_ctx;

static void clip_range(void* vctx, int64_t begin, int64_t end) {
  const clip_ctx* c = (const clip_ctx*)vctx;
  const float lo = c->lo, hi = c->hi;
  const int64_t i0 = begin * BK_FLAT_CHUNK;
  const int64_t i1 = end * BK_FLAT_CHUNK < c->n ? end * BK_FLAT_CHUNK : c->n;
  const float* restrict x = c->x;
  float* restrict o = c->o;
  for (int64_t i = i0; i < i1; ++i) {
    float v = x[i];
    const float m = v < lo ? lo : v;
    const float r = hi < m ? hi : m;
    o[i] = v != v ? v : r;
  }
}

int64_t bitnetk_clip(const bitnet_call* call, const bitnet_kernel_args* args) {
  int64_t st = bitnetk__check_arity(call, args, 1, 1, 1);
  if (st) return st;
  const bitnet_tensor* x = &args->operands[0];
  if (x->dtype != BITNET_F32 || args->results[0].dtype != BITNET_F32)
    return bitnetk__fail(call, args, BITNET_ERR_INTERNAL, "expects f32");
  clip_ctx c = {(const float*)x->data, (float*)args->results[0].data, bk_numel(x),
                (float)bk_float_attr(args, 0), (float)bk_float_attr(args, 1)};
  bk_parallel_for(call, (c.n + BK_FLAT_CHUNK - 1) / BK_FLAT_CHUNK, BK_FLAT_CHUNK, clip_range, &c);
  return 0;
}
