/* Elementwise ops (docs/IR.md): binary with numpy broadcasting (add sub mul div max min pow),
 * unary (neg abs relu sqrt exp sigmoid reciprocal round relu2 silu), clip.
 * As the interpreter: float math in f32 (max/min give NaN when an operand is NaN, pow is powf);
 * integer math as int64 truncated to the element type (wrapping), max/min compared exactly.
 * Broadcasting: dims align from the right; adjacent dims that are contiguous in both operands
 * are merged, so the inner loop is as long as possible with operand strides 1 or 0.
 * Results may be the very buffer of an operand (same index), never a partial overlap. */
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
  if (a->dtype != b->dtype || a->dtype != o->dtype || a->dtype < 0 || a->dtype > BITNET_U8 ||
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

#define BK_BINARY_KERNEL(OP, F32, I8, I32, I64, U8)                                   \
  int64_t bitnetk_##OP(const bitnet_call* call, const bitnet_kernel_args* args) {    \
    static const bin_fn fns[BITNET_U8 + 1] = {[BITNET_F32] = F32, [BITNET_I8] = I8,    \
                                              [BITNET_I32] = I32, [BITNET_I64] = I64, \
                                              [BITNET_U8] = U8};                       \
    return binary(call, args, fns);                                                    \
  }
BK_BINARY_KERNEL(add, add_f32, add_i8, add_i32, add_i64, add_u8)
BK_BINARY_KERNEL(sub, sub_f32, sub_i8, sub_i32, sub_i64, sub_u8)
BK_BINARY_KERNEL(mul, mul_f32, mul_i8, mul_i32, mul_i64, mul_u8)
BK_BINARY_KERNEL(max, max_f32, max_i8, max_i32, max_i64, max_u8)
BK_BINARY_KERNEL(min, min_f32, min_i8, min_i32, min_i64, min_u8)
BK_BINARY_KERNEL(div, div_f32, NULL, NULL, NULL, NULL)
BK_BINARY_KERNEL(pow, pow_f32, NULL, NULL, NULL, NULL)

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
  if (x->dtype != o->dtype || x->dtype < 0 || x->dtype > BITNET_U8 || !fns[x->dtype])
    return bitnetk__fail_i(call, args, BITNET_ERR_INTERNAL, "unsupported element type ", x->dtype, "");
  un_ctx c = {fns[x->dtype], (const uint8_t*)x->data, (uint8_t*)o->data, bk_dtype_size(x->dtype),
              bk_numel(x)};
  bk_parallel_for(call, (c.n + BK_FLAT_CHUNK - 1) / BK_FLAT_CHUNK, BK_FLAT_CHUNK * cost,
                  unary_range, &c);
  return 0;
}

#define BK_UNARY_KERNEL(OP, COST, F32, I8, I32, I64)                                  \
  int64_t bitnetk_##OP(const bitnet_call* call, const bitnet_kernel_args* args) {    \
    static const un_fn fns[BITNET_U8 + 1] = {[BITNET_F32] = F32, [BITNET_I8] = I8,     \
                                             [BITNET_I32] = I32, [BITNET_I64] = I64}; \
    return unary(call, args, fns, COST);                                               \
  }
BK_UNARY_KERNEL(neg, 1, neg_f32, neg_i8, neg_i32, neg_i64)
BK_UNARY_KERNEL(abs, 1, abs_f32, abs_i8, abs_i32, abs_i64)
BK_UNARY_KERNEL(relu, 1, relu_f32, relu_i8, relu_i32, relu_i64)
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
