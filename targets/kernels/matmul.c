/* matmul: a f32 [..., M, K] x b f32/bf16/f16 [K, N] (or [N, K] with transpose_b) -> f32
 * [..., N]; or batched, b with a's leading dims. Sums in f32 (the interpreter sums in f64:
 * last-ulp differences, docs/IR.md allows it).
 * transpose_b (the LM head, logits = h @ embed^T with a bf16 table): one row of b at a time,
 * streamed once and dotted with every row of a (32 f32 lanes: the additions of four AVX2 / two
 * AVX-512 registers overlap). Otherwise out[m, cols] += a[m, k] * b[k, cols] over column blocks.
 * Attributes: ints = [transpose_b]. */
#include "targets/kernels/kernel_util.h"

#define MM_LANES 32
#define MM_CHUNK 256  /* elements of an f16 row converted at a time */
#define MM_COLS 256   /* output columns per task of the non-transposed form */
#define MM_ROWS 16    /* rows of b per task of the transposed form */

/* sum_k a[k] * b[k] in MM_LANES partial sums. */
static float dot_f32(const float* restrict a, const float* restrict b, int64_t K) {
  float s[MM_LANES] = {0};
  int64_t k = 0;
  for (; k + MM_LANES <= K; k += MM_LANES)
    for (int l = 0; l < MM_LANES; ++l) s[l] += a[k + l] * b[k + l];
  for (int l = 0; k + l < K; ++l) s[l] += a[k + l] * b[k + l];
  for (int w = MM_LANES / 2; w > 0; w /= 2)
    for (int l = 0; l < w; ++l) s[l] += s[l + w];
  return s[0];
}

static float dot_bf16(const float* restrict a, const uint16_t* restrict b, int64_t K) {
  float s[MM_LANES] = {0};
  int64_t k = 0;
  for (; k + MM_LANES <= K; k += MM_LANES)
    for (int l = 0; l < MM_LANES; ++l) s[l] += a[k + l] * bk_bf16_to_f32(b[k + l]);
  for (int l = 0; k + l < K; ++l) s[l] += a[k + l] * bk_bf16_to_f32(b[k + l]);
  for (int w = MM_LANES / 2; w > 0; w /= 2)
    for (int l = 0; l < w; ++l) s[l] += s[l + w];
  return s[0];
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

/* transpose_b: task = (batch, block of MM_ROWS rows of b). b is read from memory once, row
 * after row as one sequential stream (what the hardware prefetcher serves best: the LM head is
 * bandwidth-bound); the block stays in L2 while every row of a is dotted with it. */
static void mm_trans_range(void* vctx, int64_t begin, int64_t end) {
  const mm_ctx* c = (const mm_ctx*)vctx;
  const int64_t K = c->K, N = c->N, M = c->M;
  float conv[MM_CHUNK];
  for (int64_t t = begin; t < end; ++t) {
    const int64_t batch = t / c->blocks, n0 = MM_ROWS * (t % c->blocks);
    const int64_t n1 = n0 + MM_ROWS < N ? n0 + MM_ROWS : N;
    const float* a = c->a + batch * c->a_batch;
    float* o = c->o + batch * c->o_batch;
    if (c->btype == BITNET_F32 || c->btype == BITNET_BF16) {
      /* The block of b rows stays in L2 while each row of a passes over it. */
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = n0; n < n1; ++n) {
          const int64_t boff = batch * c->b_batch + n * K;
          o[m * N + n] = c->btype == BITNET_F32
                             ? dot_f32(a + m * K, (const float*)c->b + boff, K)
                             : dot_bf16(a + m * K, (const uint16_t*)c->b + boff, K);
        }
      continue;
    }
    for (int64_t n = n0; n < n1; ++n) { /* f16: converted in chunks into f32 on the stack */
      const int64_t boff = batch * c->b_batch + n * K;
      for (int64_t m = 0; m < M; ++m) o[m * N + n] = 0.0f;
      for (int64_t k0 = 0; k0 < K; k0 += MM_CHUNK) {
        const int64_t len = K - k0 < MM_CHUNK ? K - k0 : MM_CHUNK;
        const uint16_t* row = (const uint16_t*)c->b + boff + k0;
        for (int64_t i = 0; i < len; ++i) conv[i] = bk_f16_to_f32(row[i]);
        for (int64_t m = 0; m < M; ++m) o[m * N + n] += dot_f32(a + m * K + k0, conv, len);
      }
    }
  }
}

/* o[0, n) += x * b[0, n) */
static void axpy_f32(float* restrict o, float x, const float* restrict b, int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] += x * b[i];
}
static void axpy_bf16(float* restrict o, float x, const uint16_t* restrict b, int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] += x * bk_bf16_to_f32(b[i]);
}

/* b [K, N]: task = (batch, block of MM_COLS output columns). */
static void mm_plain_range(void* vctx, int64_t begin, int64_t end) {
  const mm_ctx* c = (const mm_ctx*)vctx;
  const int64_t K = c->K, N = c->N;
  float conv[MM_COLS];
  for (int64_t t = begin; t < end; ++t) {
    const int64_t batch = t / c->blocks, n0 = MM_COLS * (t % c->blocks);
    const int64_t n = N - n0 < MM_COLS ? N - n0 : MM_COLS;
    for (int64_t m = 0; m < c->M; ++m) {
      const float* a = c->a + batch * c->a_batch + m * K;
      float* o = c->o + batch * c->o_batch + m * N + n0;
      for (int64_t i = 0; i < n; ++i) o[i] = 0.0f;
      for (int64_t k = 0; k < K; ++k) {
        const int64_t off = batch * c->b_batch + k * N + n0;
        if (c->btype == BITNET_F32) {
          axpy_f32(o, a[k], (const float*)c->b + off, n);
        } else if (c->btype == BITNET_BF16) {
          axpy_bf16(o, a[k], (const uint16_t*)c->b + off, n);
        } else {
          for (int64_t i = 0; i < n; ++i) conv[i] = bk_f16_to_f32(((const uint16_t*)c->b)[off + i]);
          axpy_f32(o, a[k], conv, n);
        }
      }
    }
  }
}

int64_t bitnetk_matmul(const bitnet_call* call, const bitnet_kernel_args* args) {
  int64_t st = bitnetk__check_arity(call, args, 2, 2, 1);
  if (st) return st;
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
