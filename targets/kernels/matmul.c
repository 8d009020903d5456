/* matmul: a f32 [..., M, K] x b f32/bf16/f16 [K, N] (or [N, K] with transpose_b) -> f32
 * [..., N]; or batched, b with a's leading dims.
 * Sums exactly as the interpreter (compiler/interp/LinearOps.cpp dotF64): f64, four partial
 * sums s_l over k = l (mod 4), the K % 4 tail added to s_0 in order, then (s0 + s1) + (s2 + s3),
 * rounded once to f32. A product of two f32 values is exact in f64, so a fused multiply-add
 * gives the same sums (contraction is allowed here) and the results are bit-identical to the
 * interpreter's.
 * transpose_b (the LM head, logits = h @ embed^T with a bf16 table): rows of b are streamed
 * once, four at a time (sixteen independent f64 sums in flight), and dotted with every row of a
 * while the block of MM_ROWS rows stays in L2. Otherwise out[m, cols] accumulates a[m, k] *
 * b[k, cols] over column blocks in four f64 partial sums per column.
 * Cost of the exact sums: the LM head of the 2B-4T shape (128256 x 2560 bf16) streams at ~7.5
 * GB/s single-threaded on this 2-core Zen 4 VM, where f32 sums reached ~16 GB/s (measured: the
 * f64 conversions and FMAs, not the memory, are the limit; other lane layouts did no better).
 * Attributes: ints = [transpose_b]. */
#include "targets/kernels/kernel_util.h"
#include "targets/kernels/matmul_order.h"

#define MM_CHUNK 256  /* elements of an f16 row converted at a time (a multiple of 4) */
#define MM_COLS 256   /* output columns per task of the non-transposed form */
#define MM_ROWS 16    /* rows of b per task of the transposed form (a multiple of 4) */

#ifdef __clang__
#define MM_EXACT_FMA _Pragma("clang fp contract(fast)")
#else
#define MM_EXACT_FMA
#endif

/* Four f64 lanes: lane l of row r's vector is the interpreter's partial sum s_l of that row.
 * Generic vectors (GCC and Clang): the backend maps them to the target's registers (two SSE2 /
 * NEON registers, one AVX2 / AVX-512 register) without relying on the SLP vectorizer. */
typedef float mm_v4f __attribute__((vector_size(16)));
typedef double mm_v4d __attribute__((vector_size(32)));
typedef uint16_t mm_v4h __attribute__((vector_size(8)));
typedef uint32_t mm_v4u __attribute__((vector_size(16)));

/* (Results through a pointer: a vector return value would be an ABI question for GCC.) */
static inline void mm_load4_f32(mm_v4d* out, const float* p) {
  mm_v4f v;
  memcpy(&v, p, sizeof v);
  *out = __builtin_convertvector(v, mm_v4d);
}

/* bf16 -> f32 is a 16-bit shift of the bits (exact), then f32 -> f64 (exact). */
static inline void mm_load4_bf16(mm_v4d* out, const uint16_t* p) {
  mm_v4h h;
  memcpy(&h, p, sizeof h);
  const mm_v4u u = __builtin_convertvector(h, mm_v4u) << 16;
  mm_v4f f;
  memcpy(&f, &u, sizeof f);
  *out = __builtin_convertvector(f, mm_v4d);
}

/* The four partial sums of four rows of b: s[r][l] += a[k + l] * b_r[k + l] for k = 0, 4, ..
 * < n (n a multiple of 4). */
typedef struct mm_acc4 {
  double s[4][4];
} mm_acc4;

static void acc4_f32(mm_acc4* restrict acc, const float* restrict a, const float* restrict b0,
                     const float* restrict b1, const float* restrict b2, const float* restrict b3,
                     int64_t n) {
  MM_EXACT_FMA
  mm_v4d s[4];
  memcpy(s, acc->s, sizeof s);
  for (int64_t k = 0; k < n; k += 4) {
    mm_v4d x, w0, w1, w2, w3;
    mm_load4_f32(&x, a + k);
    mm_load4_f32(&w0, b0 + k);
    mm_load4_f32(&w1, b1 + k);
    mm_load4_f32(&w2, b2 + k);
    mm_load4_f32(&w3, b3 + k);
    s[0] += x * w0;
    s[1] += x * w1;
    s[2] += x * w2;
    s[3] += x * w3;
  }
  memcpy(acc->s, s, sizeof s);
}

static void acc4_bf16(mm_acc4* restrict acc, const float* restrict a, const uint16_t* restrict b0,
                      const uint16_t* restrict b1, const uint16_t* restrict b2,
                      const uint16_t* restrict b3, int64_t n) {
  MM_EXACT_FMA
  mm_v4d s[4];
  memcpy(s, acc->s, sizeof s);
  for (int64_t k = 0; k < n; k += 4) {
    mm_v4d x, w0, w1, w2, w3;
    mm_load4_f32(&x, a + k);
    mm_load4_bf16(&w0, b0 + k);
    mm_load4_bf16(&w1, b1 + k);
    mm_load4_bf16(&w2, b2 + k);
    mm_load4_bf16(&w3, b3 + k);
    s[0] += x * w0;
    s[1] += x * w1;
    s[2] += x * w2;
    s[3] += x * w3;
  }
  memcpy(acc->s, s, sizeof s);
}

/* Row r's result: the tail k in [K4, K) added to s_0 in order, then (s0 + s1) + (s2 + s3). */
static float acc4_finish(const mm_acc4* acc, int r, const float* a, const float* tail, int64_t n) {
  MM_EXACT_FMA
  double s0 = acc->s[r][0];
  for (int64_t i = 0; i < n; ++i) s0 += (double)a[i] * (double)tail[i];
  return (float)((s0 + acc->s[r][1]) + (acc->s[r][2] + acc->s[r][3]));
}

/* The element type of b, converted exactly to f32. */
static inline float mm_load(int64_t btype, const uint8_t* b, int64_t i) {
  switch (btype) {
    case BITNET_BF16: return bk_bf16_to_f32(((const uint16_t*)b)[i]);
    case BITNET_F16: return bk_f16_to_f32(((const uint16_t*)b)[i]);
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
  int64_t a_batch, b_batch, o_batch; /* element strides between batches */
} mm_ctx;

/* out[m, n0 .. n0 + rows) for the rows of b at brow[0 .. rows) (rows <= 4; the others point
 * at brow[0] and are discarded). */
static void mm_dot4(const mm_ctx* c, const float* a, const uint8_t* const brow[4], int rows,
                    float* out) {
  const int64_t K = c->K, K4 = K & ~(int64_t)3;
  mm_acc4 acc;
  memset(&acc, 0, sizeof acc);
  float conv[4][MM_CHUNK];
  if (c->btype == BITNET_F32) {
    acc4_f32(&acc, a, (const float*)brow[0], (const float*)brow[1], (const float*)brow[2],
             (const float*)brow[3], K4);
  } else if (c->btype == BITNET_BF16) {
    acc4_bf16(&acc, a, (const uint16_t*)brow[0], (const uint16_t*)brow[1],
              (const uint16_t*)brow[2], (const uint16_t*)brow[3], K4);
  } else { /* f16: converted in chunks of MM_CHUNK (a multiple of 4: the lanes stay in step) */
    for (int64_t k0 = 0; k0 < K4; k0 += MM_CHUNK) {
      const int64_t len = K4 - k0 < MM_CHUNK ? K4 - k0 : MM_CHUNK;
      for (int r = 0; r < 4; ++r)
        for (int64_t i = 0; i < len; ++i) conv[r][i] = mm_load(c->btype, brow[r], k0 + i);
      acc4_f32(&acc, a + k0, conv[0], conv[1], conv[2], conv[3], len);
    }
  }
  for (int r = 0; r < rows; ++r) {
    float tail[4];
    for (int64_t i = 0; i < K - K4; ++i) tail[i] = mm_load(c->btype, brow[r], K4 + i);
    out[r] = acc4_finish(&acc, r, a + K4, tail, K - K4);
  }
}

/* transpose_b: task = (batch, block of MM_ROWS rows of b). b is read from memory once, four
 * rows at a time (four sequential streams, which the hardware prefetchers serve: the LM head is
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
      for (int64_t n = n0; n < n1; n += 4) {
        const int rows = n1 - n < 4 ? (int)(n1 - n) : 4;
        const uint8_t* brow[4];
        for (int r = 0; r < 4; ++r)
          brow[r] = c->b + (batch * c->b_batch + (n + (r < rows ? r : 0)) * K) * esize;
        mm_dot4(c, a + m * K, brow, rows, o + m * N + n);
      }
  }
}

/* s[l][i] += x * b[i] for the columns i < n (the partial sum l of each column). */
static void axpy_f64(double* restrict s, float x, const float* restrict b, int64_t n) {
  MM_EXACT_FMA
  const double xd = x;
  for (int64_t i = 0; i < n; ++i) s[i] += xd * (double)b[i];
}

/* b [K, N]: task = (batch, block of MM_COLS output columns); per column the four partial sums
 * of the interpreter (k = l mod 4 for k < K4, the tail into s_0). */
static void mm_plain_range(void* vctx, int64_t begin, int64_t end) {
  const mm_ctx* c = (const mm_ctx*)vctx;
  const int64_t K = c->K, N = c->N, K4 = K & ~(int64_t)3;
  float conv[MM_COLS];
  double s[4][MM_COLS];
  for (int64_t t = begin; t < end; ++t) {
    const int64_t batch = t / c->blocks, n0 = MM_COLS * (t % c->blocks);
    const int64_t n = N - n0 < MM_COLS ? N - n0 : MM_COLS;
    for (int64_t m = 0; m < c->M; ++m) {
      const float* a = c->a + batch * c->a_batch + m * K;
      float* o = c->o + batch * c->o_batch + m * N + n0;
      memset(s, 0, sizeof s);
      for (int64_t k = 0; k < K; ++k) {
        const int64_t off = batch * c->b_batch + k * N + n0;
        const float* row = (const float*)c->b + off;
        if (c->btype != BITNET_F32) {
          for (int64_t i = 0; i < n; ++i) conv[i] = mm_load(c->btype, c->b, off + i);
          row = conv;
        }
        axpy_f64(s[k < K4 ? k & 3 : 0], a[k], row, n);
      }
      for (int64_t i = 0; i < n; ++i) o[i] = (float)((s[0][i] + s[1][i]) + (s[2][i] + s[3][i]));
    }
  }
}

int64_t bitnetk_matmul(const bitnet_call* call, const bitnet_kernel_args* args) {
  int64_t st = bitnetk__check_arity(call, args, 2, 2, 1);
  if (st) return st;
  if (args->operands[1].dtype == BITNET_TERNARY) return bitnetk__matmul_ternary(call, args);
  const bitnet_tensor *a = &args->operands[0], *b = &args->operands[1], *o = &args->results[0];
  const int64_t trans = bk_int_attr(args, 0) != 0;
  if (a->dtype != BITNET_F32 || !bk_is_float(b->dtype) || a->rank < 1 || b->rank < 2 ||
      o->dtype != BITNET_F32)
    return bitnetk__fail(call, args, BITNET_ERR_INTERNAL, "expects a f32 [..., K] and b float [.., K, N]");
  mm_ctx c;
  memset(&c, 0, sizeof c);
  c.a = (const float*)a->data;
  c.b = (const uint8_t*)b->data;
  c.o = (float*)o->data;
  c.btype = b->dtype;
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
  c.a_batch = c.M * c.K;
  c.o_batch = c.M * c.N;
  if (bK != c.K || bk_numel(o) != batches * c.M * c.N)
    return bitnetk__fail_ii(call, args, BITNET_ERR_INTERNAL, "the contracted dims ", c.K, " and ",
                            bK, " differ or the result has the wrong size");
  if (bk_numel(o) == 0) return 0;
  if (trans) {
    c.blocks = (c.N + MM_ROWS - 1) / MM_ROWS;
    bk_parallel_for(call, batches * c.blocks, MM_ROWS * c.M * c.K, mm_trans_range, &c);
  } else {
    c.blocks = (c.N + MM_COLS - 1) / MM_COLS;
    bk_parallel_for(call, batches * c.blocks, MM_COLS * c.M * c.K, mm_plain_range, &c);
  }
  return 0;
}
