/* matmul: a f32 [..., M, K] x b f32/bf16/f16 [K, N] (or [N, K] with transpose_b) -> f32
 * [..., N]; or batched, b with a's leading dims. Sums in f32 (the interpreter sums in f64:
 * last-ulp differences, docs/IR.md allows it).
 * transpose_b (the LM head, logits = h @ embed^T with a bf16 table): four rows of b at a time,
 * each dotted with every row of a while they sit in L1, so b streams from memory once per call;
 * 16 f32 lanes per row (two AVX2 / one AVX-512 register). Otherwise out[m, cols] += a[m, k] *
 * b[k, cols] over column blocks. Attributes: ints = [transpose_b]. */
#include "targets/kernels/kernel_util.h"

#define MM_LANES 16
#define MM_CHUNK 256  /* elements of an f16 row converted at a time */
#define MM_COLS 256   /* output columns per task of the non-transposed form */

/* out[r] = sum_k a[k] * b_r[k] for four rows of f32. */
static void dot4_f32(const float* restrict a, const float* restrict b0, const float* restrict b1,
                     const float* restrict b2, const float* restrict b3, int64_t K, float out[4]) {
  float s0[MM_LANES] = {0}, s1[MM_LANES] = {0}, s2[MM_LANES] = {0}, s3[MM_LANES] = {0};
  int64_t k = 0;
  for (; k + MM_LANES <= K; k += MM_LANES)
    for (int l = 0; l < MM_LANES; ++l) {
      const float x = a[k + l];
      s0[l] += x * b0[k + l];
      s1[l] += x * b1[k + l];
      s2[l] += x * b2[k + l];
      s3[l] += x * b3[k + l];
    }
  for (int l = 0; k + l < K; ++l) {
    const float x = a[k + l];
    s0[l] += x * b0[k + l];
    s1[l] += x * b1[k + l];
    s2[l] += x * b2[k + l];
    s3[l] += x * b3[k + l];
  }
  for (int w = MM_LANES / 2; w > 0; w /= 2)
    for (int l = 0; l < w; ++l) {
      s0[l] += s0[l + w];
      s1[l] += s1[l + w];
      s2[l] += s2[l + w];
      s3[l] += s3[l + w];
    }
  out[0] = s0[0];
  out[1] = s1[0];
  out[2] = s2[0];
  out[3] = s3[0];
}

static void dot4_bf16(const float* restrict a, const uint16_t* restrict b0,
                      const uint16_t* restrict b1, const uint16_t* restrict b2,
                      const uint16_t* restrict b3, int64_t K, float out[4]) {
  float s0[MM_LANES] = {0}, s1[MM_LANES] = {0}, s2[MM_LANES] = {0}, s3[MM_LANES] = {0};
  int64_t k = 0;
  for (; k + MM_LANES <= K; k += MM_LANES)
    for (int l = 0; l < MM_LANES; ++l) {
      const float x = a[k + l];
      s0[l] += x * bk_bf16_to_f32(b0[k + l]);
      s1[l] += x * bk_bf16_to_f32(b1[k + l]);
      s2[l] += x * bk_bf16_to_f32(b2[k + l]);
      s3[l] += x * bk_bf16_to_f32(b3[k + l]);
    }
  for (int l = 0; k + l < K; ++l) {
    const float x = a[k + l];
    s0[l] += x * bk_bf16_to_f32(b0[k + l]);
    s1[l] += x * bk_bf16_to_f32(b1[k + l]);
    s2[l] += x * bk_bf16_to_f32(b2[k + l]);
    s3[l] += x * bk_bf16_to_f32(b3[k + l]);
  }
  for (int w = MM_LANES / 2; w > 0; w /= 2)
    for (int l = 0; l < w; ++l) {
      s0[l] += s0[l + w];
      s1[l] += s1[l + w];
      s2[l] += s2[l + w];
      s3[l] += s3[l + w];
    }
  out[0] = s0[0];
  out[1] = s1[0];
  out[2] = s2[0];
  out[3] = s3[0];
}

/* f16 rows: converted in chunks of MM_CHUNK into f32 on the stack. */
static void dot4_f16(const float* a, const uint16_t* const rows[4], int64_t K, float out[4]) {
  float buf[4][MM_CHUNK];
  out[0] = out[1] = out[2] = out[3] = 0.0f;
  for (int64_t k0 = 0; k0 < K; k0 += MM_CHUNK) {
    const int64_t n = K - k0 < MM_CHUNK ? K - k0 : MM_CHUNK;
    for (int r = 0; r < 4; ++r)
      for (int64_t i = 0; i < n; ++i) buf[r][i] = bk_f16_to_f32(rows[r][k0 + i]);
    float part[4];
    dot4_f32(a + k0, buf[0], buf[1], buf[2], buf[3], n, part);
    for (int r = 0; r < 4; ++r) out[r] += part[r];
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

/* transpose_b: task = (batch, block of four b rows). */
static void mm_trans_range(void* vctx, int64_t begin, int64_t end) {
  const mm_ctx* c = (const mm_ctx*)vctx;
  const int64_t K = c->K, N = c->N, esize = bk_dtype_size(c->btype);
  for (int64_t t = begin; t < end; ++t) {
    const int64_t batch = t / c->blocks, n0 = 4 * (t % c->blocks);
    const int rows = N - n0 < 4 ? (int)(N - n0) : 4;
    const uint8_t* bb = c->b + (batch * c->b_batch + n0 * K) * esize;
    const uint8_t* brow[4];
    for (int r = 0; r < 4; ++r) brow[r] = bb + (r < rows ? r : 0) * K * esize;
    for (int64_t m = 0; m < c->M; ++m) {
      const float* a = c->a + batch * c->a_batch + m * K;
      float out[4];
      if (c->btype == BITNET_F32)
        dot4_f32(a, (const float*)brow[0], (const float*)brow[1], (const float*)brow[2],
                 (const float*)brow[3], K, out);
      else if (c->btype == BITNET_BF16)
        dot4_bf16(a, (const uint16_t*)brow[0], (const uint16_t*)brow[1], (const uint16_t*)brow[2],
                  (const uint16_t*)brow[3], K, out);
      else
        dot4_f16(a, (const uint16_t* const*)brow, K, out);
      float* o = c->o + batch * c->o_batch + m * N + n0;
      for (int r = 0; r < rows; ++r) o[r] = out[r];
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
    c.blocks = (c.N + 3) / 4;
    bk_parallel_for(call, batches * c.blocks, 4 * c.M * c.K, mm_trans_range, &c);
  } else {
    c.blocks = (c.N + MM_COLS - 1) / MM_COLS;
    bk_parallel_for(call, batches * c.blocks, MM_COLS * c.M * c.K, mm_plain_range, &c);
  }
  return 0;
}
