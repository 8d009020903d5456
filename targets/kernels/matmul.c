/* matmul: a f32 [..., M, K] x b f32/bf16/f16/i8 [K, N] (or [N, K] with transpose_b) -> f32
 * [..., N]; or batched, b with a's leading dims.
 * Sums exactly as the interpreter (compiler/interp/LinearOps.cpp dotF64, docs/IR.md): f64,
 * sixteen partial sums s_j over k = j (mod 16) from +0 in increasing k, then the halving folds
 * s_j += s_{j+w} for w = 8, 4, 2, 1, rounded once to f32. A product of two f32 values is exact
 * in f64, so a fused multiply-add gives the same sums (contraction is allowed here) and the
 * results are bit-identical to the interpreter's.
 * The sixteen partials of one dot product are two 8-lane f64 vectors (generic vectors: one zmm
 * each on AVX-512, two ymm on AVX2, four q/xmm registers on NEON/SSE2; the backend's -mcpu
 * picks the registers, so one C source serves every target), so the order vectorizes.
 * transpose_b (the LM head, logits = h @ embed^T with a bf16 table): rows of b are streamed
 * once, MM_R at a time (MM_R sequential streams, one conversion of x per MM_R rows), and
 * dotted with every row of a while the block of MM_ROWS rows stays in L2. Otherwise
 * out[m, cols] accumulates a[m, k] * b[k, cols] over column blocks into s[k mod 16][col].
 * last_row: a [M, K] -> [1, N], the last row of a only (a prefill that wants the last logits).
 * f32_sum (the LM head's order, docs/IR.md): f32 instead of f64, 32 partial sums over k mod 32,
 * each product rounded to f32 and then added (no contraction: the file is built with
 * -ffp-contract=off), halving folds. A bf16 weight widens to f32 with one shift and a 16-lane f32
 * vector does a 16-lane multiply and add, so the GEMV streams its table at memory speed; the
 * transposed form walks the rows of b one after another (one sequential stream: measured 92-104%
 * of the read bandwidth, where two or more rows side by side got 50-70%).
 * Attributes: ints = [transpose_b, last_row, f32_sum]. */
#include "targets/kernels/kernel_util.h"
#include "targets/kernels/matmul_order.h"

#define MM_LANES 16  /* partial sums per dot product (the reference order) */
#define MM_CHUNK 256 /* elements of an f16 row converted at a time (a multiple of MM_LANES) */
#define MM_COLS 64   /* output columns per task of the non-transposed form */
#define MM_ROWS 16   /* rows of b per task of the transposed form (a multiple of MM_R) */
#define MM_R 2       /* rows of b per pass over a row of a */

#ifdef __clang__
#define MM_EXACT_FMA _Pragma("clang fp contract(fast)")
#else
#define MM_EXACT_FMA
#endif

typedef float mm_v8f __attribute__((vector_size(32)));
typedef float mm_v16f __attribute__((vector_size(64)));
typedef uint16_t mm_v16h __attribute__((vector_size(32)));
typedef uint32_t mm_v16u __attribute__((vector_size(64)));
typedef int8_t mm_v16c __attribute__((vector_size(16)));
typedef double mm_v8d __attribute__((vector_size(64)));
typedef uint16_t mm_v8h __attribute__((vector_size(16)));
typedef uint32_t mm_v8u __attribute__((vector_size(32)));
typedef int8_t mm_v8c __attribute__((vector_size(8)));

/* The sixteen partials of one dot product: lane j of lo is s_j, lane j of hi is s_{8+j}. */
typedef struct mm_part {
  mm_v8d lo, hi;
} mm_part;

/* (Results through a pointer: a vector return value would be an ABI question for GCC.) */
static inline void mm_load8_f32(mm_v8d* out, const float* p) {
  mm_v8f v;
  memcpy(&v, p, sizeof v);
  *out = __builtin_convertvector(v, mm_v8d);
}

/* bf16 -> f32 is a 16-bit shift of the bits (exact), then f32 -> f64 (exact). */
static inline void mm_load8_bf16(mm_v8d* out, const uint16_t* p) {
  mm_v8h h;
  memcpy(&h, p, sizeof h);
  const mm_v8u u = __builtin_convertvector(h, mm_v8u) << 16;
  mm_v8f f;
  memcpy(&f, &u, sizeof f);
  *out = __builtin_convertvector(f, mm_v8d);
}

/* i8 -> f64 is exact (a per-row quantized LM head: the scales come in a following mul). */
static inline void mm_load8_i8(mm_v8d* out, const int8_t* p) {
  mm_v8c c;
  memcpy(&c, p, sizeof c);
  *out = __builtin_convertvector(c, mm_v8d);
}

/* s += a[k..k+16) * b_r[k..k+16) for k = 0, 16, .. < n (n a multiple of 16), MM_R rows of b. */
static void mm_acc_f32(mm_part acc[MM_R], const float* restrict a, const float* const b[MM_R],
                       int64_t n) {
  MM_EXACT_FMA
  mm_part s[MM_R];
  memcpy(s, acc, sizeof s);
  for (int64_t k = 0; k < n; k += MM_LANES) {
    mm_v8d xl, xh;
    mm_load8_f32(&xl, a + k);
    mm_load8_f32(&xh, a + k + 8);
    for (int r = 0; r < MM_R; ++r) {
      mm_v8d wl, wh;
      mm_load8_f32(&wl, b[r] + k);
      mm_load8_f32(&wh, b[r] + k + 8);
      s[r].lo += xl * wl;
      s[r].hi += xh * wh;
    }
  }
  memcpy(acc, s, sizeof s);
}

static void mm_acc_bf16(mm_part acc[MM_R], const float* restrict a, const uint16_t* const b[MM_R],
                        int64_t n) {
  MM_EXACT_FMA
  mm_part s[MM_R];
  memcpy(s, acc, sizeof s);
  for (int64_t k = 0; k < n; k += MM_LANES) {
    mm_v8d xl, xh;
    mm_load8_f32(&xl, a + k);
    mm_load8_f32(&xh, a + k + 8);
    for (int r = 0; r < MM_R; ++r) {
      mm_v8d wl, wh;
      mm_load8_bf16(&wl, b[r] + k);
      mm_load8_bf16(&wh, b[r] + k + 8);
      s[r].lo += xl * wl;
      s[r].hi += xh * wh;
    }
  }
  memcpy(acc, s, sizeof s);
}

static void mm_acc_i8(mm_part acc[MM_R], const float* restrict a, const int8_t* const b[MM_R],
                      int64_t n) {
  MM_EXACT_FMA
  mm_part s[MM_R];
  memcpy(s, acc, sizeof s);
  for (int64_t k = 0; k < n; k += MM_LANES) {
    mm_v8d xl, xh;
    mm_load8_f32(&xl, a + k);
    mm_load8_f32(&xh, a + k + 8);
    for (int r = 0; r < MM_R; ++r) {
      mm_v8d wl, wh;
      mm_load8_i8(&wl, b[r] + k);
      mm_load8_i8(&wh, b[r] + k + 8);
      s[r].lo += xl * wl;
      s[r].hi += xh * wh;
    }
  }
  memcpy(acc, s, sizeof s);
}

/* The halving folds of the reference: s_j += s_{j+w} for w = 8, 4, 2, 1; s_0 rounded to f32. */
static float mm_fold(const mm_part* p) {
  double s[MM_LANES];
  memcpy(s, &p->lo, sizeof p->lo);
  memcpy(s + 8, &p->hi, sizeof p->hi);
  for (int w = MM_LANES / 2; w >= 1; w /= 2)
    for (int j = 0; j < w; ++j) s[j] += s[j + w];
  return (float)s[0];
}

/* The element type of b, converted exactly to f32. */
static inline float mm_load(int64_t btype, const uint8_t* b, int64_t i) {
  switch (btype) {
    case BITNET_BF16: return bk_bf16_to_f32(((const uint16_t*)b)[i]);
    case BITNET_F16: return bk_f16_to_f32(((const uint16_t*)b)[i]);
    case BITNET_I8: return (float)((const int8_t*)b)[i];
    default: return ((const float*)b)[i];
  }
}

typedef struct mm_ctx {
  const float* a;
  const uint8_t* b;
  float* o;
  int64_t btype;
  int64_t M, K, N;
  int64_t blocks; /* tasks per batch */
  int64_t f32_sum; /* the f32 order instead of the f64 one */
  int64_t a_batch, b_batch, o_batch; /* element strides between batches */
} mm_ctx;

/* out[0 .. rows) = a . brow[r] (rows <= MM_R; the others point at brow[0] and are discarded). */
static void mm_dot_rows(const mm_ctx* c, const float* a, const uint8_t* const brow[MM_R], int rows,
                        float* out) {
  const int64_t K = c->K, K16 = K & ~(int64_t)(MM_LANES - 1);
  mm_part acc[MM_R];
  memset(acc, 0, sizeof acc); /* every partial starts at +0 */
  if (c->btype == BITNET_BF16) {
    const uint16_t* b[MM_R];
    for (int r = 0; r < MM_R; ++r) b[r] = (const uint16_t*)brow[r];
    mm_acc_bf16(acc, a, b, K16);
  } else if (c->btype == BITNET_I8) {
    const int8_t* b[MM_R];
    for (int r = 0; r < MM_R; ++r) b[r] = (const int8_t*)brow[r];
    mm_acc_i8(acc, a, b, K16);
  } else if (c->btype == BITNET_F32) {
    const float* b[MM_R];
    for (int r = 0; r < MM_R; ++r) b[r] = (const float*)brow[r];
    mm_acc_f32(acc, a, b, K16);
  } else { /* f16: converted in chunks of MM_CHUNK (a multiple of 16: the lanes stay in step) */
    float conv[MM_R][MM_CHUNK];
    const float* b[MM_R];
    for (int r = 0; r < MM_R; ++r) b[r] = conv[r];
    for (int64_t k0 = 0; k0 < K16; k0 += MM_CHUNK) {
      const int64_t len = K16 - k0 < MM_CHUNK ? K16 - k0 : MM_CHUNK;
      for (int r = 0; r < MM_R; ++r)
        for (int64_t i = 0; i < len; ++i) conv[r][i] = mm_load(c->btype, brow[r], k0 + i);
      mm_acc_f32(acc, a + k0, b, len);
    }
  }
  if (K16 < K) {
    /* The last K % 16 elements go to s_0 .. s_{K%16-1}; the padding lanes add +0 * +0, which
     * leaves every partial unchanged (a partial is never -0: it starts at +0, and in
     * round-to-nearest a sum is -0 only when both addends are). */
    float ta[MM_LANES] = {0}, tb[MM_R][MM_LANES] = {{0}};
    const float* b[MM_R];
    for (int64_t i = 0; i < K - K16; ++i) ta[i] = a[K16 + i];
    for (int r = 0; r < MM_R; ++r) {
      for (int64_t i = 0; i < K - K16; ++i) tb[r][i] = mm_load(c->btype, brow[r], K16 + i);
      b[r] = tb[r];
    }
    mm_acc_f32(acc, ta, b, MM_LANES);
  }
  for (int r = 0; r < rows; ++r) out[r] = mm_fold(&acc[r]);
}

/* transpose_b: task = (batch, block of MM_ROWS rows of b). b is read from memory once, MM_R
 * rows at a time (sequential streams, which the hardware prefetchers serve: the LM head is
 * bandwidth-bound); the block stays in L2 while every row of a is dotted with it. */
static void mm_trans_range(void* vctx, int64_t begin, int64_t end) {
  const mm_ctx* c = (const mm_ctx*)vctx;
  const int64_t K = c->K, N = c->N, M = c->M, esize = bk_dtype_size(c->btype);
  for (int64_t t = begin; t < end; ++t) {
    const int64_t batch = t / c->blocks, n0 = MM_ROWS * (t % c->blocks);
    const int64_t n1 = n0 + MM_ROWS < N ? n0 + MM_ROWS : N;
    const float* a = c->a + batch * c->a_batch;
    float* o = c->o + batch * c->o_batch;
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = n0; n < n1; n += MM_R) {
        const int rows = n1 - n < MM_R ? (int)(n1 - n) : MM_R;
        const uint8_t* brow[MM_R];
        for (int r = 0; r < MM_R; ++r)
          brow[r] = c->b + (batch * c->b_batch + (n + (r < rows ? r : 0)) * K) * esize;
        mm_dot_rows(c, a + m * K, brow, rows, o + m * N + n);
      }
  }
}

/* ---- f32_sum: 32 f32 partials over k mod 32 (docs/IR.md), products rounded, then added ---- */

#define MM32_LANES 32

/* 16 elements of b widened exactly to f32 (through a pointer, as mm_load8_f32). */
static inline void mm32_load16(mm_v16f* out, int64_t btype, const uint8_t* b, int64_t i) {
  mm_v16f f;
  if (btype == BITNET_BF16) {
    mm_v16h h;
    memcpy(&h, (const uint16_t*)b + i, sizeof h);
    const mm_v16u u = __builtin_convertvector(h, mm_v16u) << 16;
    memcpy(&f, &u, sizeof f);
  } else if (btype == BITNET_I8) {
    mm_v16c c;
    memcpy(&c, (const int8_t*)b + i, sizeof c);
    f = __builtin_convertvector(c, mm_v16f);
  } else if (btype == BITNET_F32) {
    memcpy(&f, (const float*)b + i, sizeof f);
  } else {
    float t[16];
    for (int j = 0; j < 16; ++j) t[j] = mm_load(btype, b, i + j);
    memcpy(&f, t, sizeof f);
  }
  *out = f;
}

/* f32 dot product of a[0..K) and b's elements [off, off + K) in the f32_sum order. */
static float mm32_dot(const float* a, int64_t btype, const uint8_t* b, int64_t off, int64_t K) {
  mm_v16f s0 = {0}, s1 = {0}; /* s0 lane j = s_j, s1 lane j = s_{16+j}; every partial from +0 */
  int64_t k = 0;
  for (; k + MM32_LANES <= K; k += MM32_LANES) {
    mm_v16f x0, x1;
    memcpy(&x0, a + k, sizeof x0);
    memcpy(&x1, a + k + 16, sizeof x1);
    mm_v16f w0, w1;
    mm32_load16(&w0, btype, b, off + k);
    mm32_load16(&w1, btype, b, off + k + 16);
    const mm_v16f p0 = x0 * w0, p1 = x1 * w1;
    s0 = s0 + p0;
    s1 = s1 + p1;
  }
  float s[MM32_LANES];
  memcpy(s, &s0, sizeof s0);
  memcpy(s + 16, &s1, sizeof s1);
  /* The last K % 32 products go to s_0 ..; the other partials are left as they are. */
  for (int64_t j = 0; k + j < K; ++j) {
    const float p = a[k + j] * mm_load(btype, b, off + k + j);
    s[j] = s[j] + p;
  }
  for (int w = MM32_LANES / 2; w >= 1; w /= 2)
    for (int j = 0; j < w; ++j) s[j] = s[j] + s[j + w];
  return s[0];
}

/* transpose_b, f32_sum: task = (batch, block of MM_ROWS rows of b); rows of b one at a time
 * against every row of a (for one row of a: one sequential stream over the table). */
static void mm32_trans_range(void* vctx, int64_t begin, int64_t end) {
  const mm_ctx* c = (const mm_ctx*)vctx;
  const int64_t K = c->K, N = c->N;
  for (int64_t t = begin; t < end; ++t) {
    const int64_t batch = t / c->blocks, n0 = MM_ROWS * (t % c->blocks);
    const int64_t n1 = n0 + MM_ROWS < N ? n0 + MM_ROWS : N;
    const float* a = c->a + batch * c->a_batch;
    float* o = c->o + batch * c->o_batch;
    for (int64_t m = 0; m < c->M; ++m)
      for (int64_t n = n0; n < n1; ++n)
        o[m * N + n] = mm32_dot(a + m * K, c->btype, c->b, batch * c->b_batch + n * K, K);
  }
}

/* b [K, N], f32_sum: o[0 .. n) = a . columns b[k, col0 + i] (b's elements from boff + k * N);
 * per column the 32 partials. */
static void mm32_plain_cols(const mm_ctx* c, const float* a, float* o, int64_t boff, int64_t n) {
  float s[MM32_LANES][MM_COLS];
  memset(s, 0, sizeof s);
  for (int64_t k = 0; k < c->K; ++k) {
    float* sj = s[k & (MM32_LANES - 1)];
    for (int64_t i = 0; i < n; ++i) {
      const float p = a[k] * mm_load(c->btype, c->b, boff + k * c->N + i);
      sj[i] = sj[i] + p;
    }
  }
  for (int w = MM32_LANES / 2; w >= 1; w /= 2)
    for (int j = 0; j < w; ++j)
      for (int64_t i = 0; i < n; ++i) s[j][i] = s[j][i] + s[j + w][i];
  for (int64_t i = 0; i < n; ++i) o[i] = s[0][i];
}

/* s[i] += x * b[i] for the columns i < n. */
static void axpy_f64(double* restrict s, float x, const float* restrict b, int64_t n) {
  MM_EXACT_FMA
  const double xd = x;
  for (int64_t i = 0; i < n; ++i) s[i] += xd * (double)b[i];
}

/* b [K, N]: task = (batch, block of MM_COLS output columns); per column the sixteen partial
 * sums of the reference (k = j mod 16), folded at the end (or the f32 order: mm32_plain_cols). */
static void mm_plain_range(void* vctx, int64_t begin, int64_t end) {
  const mm_ctx* c = (const mm_ctx*)vctx;
  const int64_t K = c->K, N = c->N;
  float conv[MM_COLS];
  double s[MM_LANES][MM_COLS];
  for (int64_t t = begin; t < end; ++t) {
    const int64_t batch = t / c->blocks, n0 = MM_COLS * (t % c->blocks);
    const int64_t n = N - n0 < MM_COLS ? N - n0 : MM_COLS;
    for (int64_t m = 0; m < c->M; ++m) {
      const float* a = c->a + batch * c->a_batch + m * K;
      float* o = c->o + batch * c->o_batch + m * N + n0;
      if (c->f32_sum) {
        mm32_plain_cols(c, a, o, batch * c->b_batch + n0, n);
        continue;
      }
      memset(s, 0, sizeof s);
      for (int64_t k = 0; k < K; ++k) {
        const int64_t off = batch * c->b_batch + k * N + n0;
        const float* row = (const float*)c->b + off;
        if (c->btype != BITNET_F32) {
          for (int64_t i = 0; i < n; ++i) conv[i] = mm_load(c->btype, c->b, off + i);
          row = conv;
        }
        axpy_f64(s[k & (MM_LANES - 1)], a[k], row, n);
      }
      for (int w = MM_LANES / 2; w >= 1; w /= 2)
        for (int j = 0; j < w; ++j)
          for (int64_t i = 0; i < n; ++i) s[j][i] += s[j + w][i];
      for (int64_t i = 0; i < n; ++i) o[i] = (float)s[0][i];
    }
  }
}

int64_t bitnetk_matmul(const bitnet_call* call, const bitnet_kernel_args* args) {
  int64_t st = bitnetk__check_arity(call, args, 2, 2, 1);
  if (st) return st;
  if (args->operands[1].dtype == BITNET_TERNARY) return bitnetk__matmul_ternary(call, args);
  const bitnet_tensor *a = &args->operands[0], *b = &args->operands[1], *o = &args->results[0];
  const int64_t trans = bk_int_attr(args, 0) != 0, last_row = bk_int_attr(args, 1) != 0;
  const int64_t f32_sum = bk_int_attr(args, 2) != 0;
  if (a->dtype != BITNET_F32 || !(bk_is_float(b->dtype) || b->dtype == BITNET_I8) || a->rank < 1 || b->rank < 2 ||
      o->dtype != BITNET_F32)
    return bitnetk__fail(call, args, BITNET_ERR_INTERNAL, "expects a f32 [..., K] and b float [.., K, N]");
  mm_ctx c;
  memset(&c, 0, sizeof c);
  c.a = (const float*)a->data;
  c.b = (const uint8_t*)b->data;
  c.o = (float*)o->data;
  c.btype = b->dtype;
  c.f32_sum = f32_sum;
  c.K = bk_last_dim(a);
  c.N = trans ? b->dims[b->rank - 2] : b->dims[b->rank - 1];
  const int64_t bK = trans ? b->dims[b->rank - 1] : b->dims[b->rank - 2];
  int64_t batches = 1;
  if (b->rank > 2) {
    batches = bk_dims_product(b, 0, b->rank - 2);
    c.M = a->rank >= 2 ? a->dims[a->rank - 2] : 1;
    c.b_batch = c.K * c.N;
  } else {
    c.M = c.K ? bk_numel(a) / c.K : bk_dims_product(a, 0, a->rank - 1);
  }
  if (last_row) { /* a [M, K] -> out [1, N]: the last row only (the LM head of a prefill) */
    if (a->rank != 2 || b->rank != 2 || c.M < 1)
      return bitnetk__fail(call, args, BITNET_ERR_INTERNAL, "last_row expects a [M, K] and a 2-D b");
    c.a += (c.M - 1) * c.K;
    c.M = 1;
  }
  c.a_batch = c.M * c.K;
  c.o_batch = c.M * c.N;
  if (bK != c.K || bk_numel(o) != batches * c.M * c.N)
    return bitnetk__fail_ii(call, args, BITNET_ERR_INTERNAL, "the contracted dims ", c.K, " and ",
                            bK, " differ or the result has the wrong size");
  if (bk_numel(o) == 0) return 0;
  if (trans) {
    c.blocks = (c.N + MM_ROWS - 1) / MM_ROWS;
    bk_parallel_for(call, batches * c.blocks, MM_ROWS * c.M * c.K, f32_sum ? mm32_trans_range : mm_trans_range, &c);
  } else {
    c.blocks = (c.N + MM_COLS - 1) / MM_COLS;
    bk_parallel_for(call, batches * c.blocks, MM_COLS * c.M * c.K, mm_plain_range, &c);
  }
  return 0;
}
