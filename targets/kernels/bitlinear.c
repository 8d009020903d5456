/* bitlinear: y[m, n] = scale(acc[m, n]), acc = sum_k q[m, k] * T[n, k] exact in int32
 * (docs/IR.md). Variants by weight layout:
 *   bitnetk_bitlinear_hf2  hf_blocked_2bit: u8 [R = ceil(N/4), K]; packed row r holds the codes
 *                          (T + 1) of output rows r, R+r, 2R+r, 3R+r in bits 0-1, 2-3, 4-5, 6-7.
 *                          acc_i = sum_k q_k * code_i,k - sum_k q_k (the +1 offset undone once).
 *   bitnetk_bitlinear_i8   i8: int8 [N, K].
 *   bitnetk_bitlinear      dispatches on the weight's layout.
 * The inner loops are written for the auto-vectorizer: int16 lanes (products <= 256 in
 * magnitude, at most BL_BLOCK per lane before widening, so they cannot overflow), one weight
 * load shared by four output rows. Rows are split across the pool; weight rows are walked in
 * chunks that stay in L1/L2 while every activation row passes over them (prefill).
 * Test-only faults (bitnet__fault): interleaved-packing (hf2), divide-scale, as the interpreter. */
#include "targets/kernels/bitlinear_common.h"

#define BL_LANES 32 /* int16 lanes per accumulator */
#define BL_BLOCK 64 /* lane products per int16 accumulation round: 64 * 256 < 32768 */
#define BL_CHUNK_BYTES 16384

/* acc[i] = sum_k q[k] * (((p[k] >> 2i) & 3) - 1) for i = 0..3. */
static void dot_hf2_x4(const int8_t* restrict q, const uint8_t* restrict p, int64_t K,
                       int32_t acc[4]) {
  int32_t t0 = 0, t1 = 0, t2 = 0, t3 = 0, tq = 0;
  int64_t k = 0;
  while (k + BL_LANES <= K) {
    int16_t a0[BL_LANES] = {0}, a1[BL_LANES] = {0}, a2[BL_LANES] = {0}, a3[BL_LANES] = {0};
    int16_t aq[BL_LANES] = {0};
    int64_t end = k + (int64_t)BL_BLOCK * BL_LANES;
    if (end > K) end = K - (K - k) % BL_LANES;
    for (; k < end; k += BL_LANES) {
      for (int l = 0; l < BL_LANES; ++l) {
        const int16_t x = q[k + l];
        const uint16_t b = p[k + l];
        a0[l] += (int16_t)(x * (int16_t)(b & 3));
        a1[l] += (int16_t)(x * (int16_t)((b >> 2) & 3));
        a2[l] += (int16_t)(x * (int16_t)((b >> 4) & 3));
        a3[l] += (int16_t)(x * (int16_t)(b >> 6));
        aq[l] += x;
      }
    }
    for (int l = 0; l < BL_LANES; ++l) {
      t0 += a0[l];
      t1 += a1[l];
      t2 += a2[l];
      t3 += a3[l];
      tq += aq[l];
    }
  }
  for (; k < K; ++k) {
    const int32_t x = q[k];
    const uint32_t b = p[k];
    t0 += x * (int32_t)(b & 3);
    t1 += x * (int32_t)((b >> 2) & 3);
    t2 += x * (int32_t)((b >> 4) & 3);
    t3 += x * (int32_t)(b >> 6);
    tq += x;
  }
  acc[0] = t0 - tq;
  acc[1] = t1 - tq;
  acc[2] = t2 - tq;
  acc[3] = t3 - tq;
}

/* acc[i] = sum_k q[k] * w[i * K + k] for the rows i < rows (rows <= 4; missing rows read row 0). */
static void dot_i8_x4(const int8_t* restrict q, const int8_t* restrict w, int64_t K, int rows,
                      int32_t acc[4]) {
  const int8_t* w0 = w;
  const int8_t* w1 = rows > 1 ? w + K : w;
  const int8_t* w2 = rows > 2 ? w + 2 * K : w;
  const int8_t* w3 = rows > 3 ? w + 3 * K : w;
  int32_t t0 = 0, t1 = 0, t2 = 0, t3 = 0;
  int64_t k = 0;
  while (k + BL_LANES <= K) {
    int16_t a0[BL_LANES] = {0}, a1[BL_LANES] = {0}, a2[BL_LANES] = {0}, a3[BL_LANES] = {0};
    int64_t end = k + (int64_t)BL_BLOCK * BL_LANES;
    if (end > K) end = K - (K - k) % BL_LANES;
    for (; k < end; k += BL_LANES) {
      for (int l = 0; l < BL_LANES; ++l) {
        const int16_t x = q[k + l];
        a0[l] += (int16_t)(x * w0[k + l]);
        a1[l] += (int16_t)(x * w1[k + l]);
        a2[l] += (int16_t)(x * w2[k + l]);
        a3[l] += (int16_t)(x * w3[k + l]);
      }
    }
    for (int l = 0; l < BL_LANES; ++l) {
      t0 += a0[l];
      t1 += a1[l];
      t2 += a2[l];
      t3 += a3[l];
    }
  }
  for (; k < K; ++k) {
    const int32_t x = q[k];
    t0 += x * w0[k];
    t1 += x * w1[k];
    t2 += x * w2[k];
    t3 += x * w3[k];
  }
  acc[0] = t0;
  acc[1] = t1;
  acc[2] = t2;
  acc[3] = t3;
}

static void hf2_range(void* vctx, int64_t begin, int64_t end) {
  const bl_ctx* c = (const bl_ctx*)vctx;
  for (int64_t r0 = begin; r0 < end; r0 += c->chunk) {
    const int64_t r1 = r0 + c->chunk < end ? r0 + c->chunk : end;
    for (int64_t m = 0; m < c->M; ++m) {
      const int8_t* q = c->q + m * c->K;
      float* y = c->y + m * c->N;
      const float sm = c->s[m];
      for (int64_t r = r0; r < r1; ++r) {
        int32_t acc[4];
        dot_hf2_x4(q, c->w + r * c->K, c->K, acc);
        for (int64_t i = 0; i < 4; ++i) {
          int64_t row = i * c->R + r;
          if (bitnet__fault == BITNET_FAULT_INTERLEAVED_PACKING) row = 4 * r + i; /* test-only */
          if (row < c->N) y[row] = bl_output(c, acc[i], sm, m * c->N + row);
        }
      }
    }
  }
}

static void i8_range(void* vctx, int64_t begin, int64_t end) {
  const bl_ctx* c = (const bl_ctx*)vctx;
  const int8_t* w = (const int8_t*)c->w;
  for (int64_t g0 = begin; g0 < end; g0 += c->chunk) {
    const int64_t g1 = g0 + c->chunk < end ? g0 + c->chunk : end;
    for (int64_t m = 0; m < c->M; ++m) {
      const int8_t* q = c->q + m * c->K;
      float* y = c->y + m * c->N;
      const float sm = c->s[m];
      for (int64_t g = g0; g < g1; ++g) {
        const int64_t n0 = 4 * g;
        const int rows = c->N - n0 < 4 ? (int)(c->N - n0) : 4;
        int32_t acc[4];
        dot_i8_x4(q, w + n0 * c->K, c->K, rows, acc);
        for (int i = 0; i < rows; ++i) y[n0 + i] = bl_output(c, acc[i], sm, m * c->N + n0 + i);
      }
    }
  }
}

int64_t bitnetk__bl_prepare(const bitnet_call* call, const bitnet_kernel_args* args,
                          int64_t layout, bl_ctx* c) {
  int64_t st = bitnetk__check_arity(call, args, 3, 4, 1);
  if (st) return st;
  const bitnet_tensor *q = &args->operands[0], *s = &args->operands[1], *w = &args->operands[2];
  const bitnet_tensor* y = &args->results[0];
  const bitnet_tensor* r = args->num_operands == 4 ? &args->operands[3] : NULL;
  if (w->dtype != BITNET_TERNARY || w->rank != 2)
    return bitnetk__fail(call, args, BITNET_ERR_INTERNAL, "operand 2 is not a ternary [N, K] weight");
  if (w->layout != layout)
    return bitnetk__fail_ii(call, args, BITNET_ERR_INTERNAL, "the weight's layout ", w->layout,
                            " is not the kernel's layout ", layout, "");
  c->N = w->dims[0];
  c->K = w->dims[1];
  if (q->dtype != BITNET_I8 || q->rank < 1 || bk_last_dim(q) != c->K)
    return bitnetk__fail_i(call, args, BITNET_ERR_INTERNAL,
                           "the activations are not int8 [..., K] with K = ", c->K, "");
  c->M = c->K ? bk_numel(q) / c->K : bk_numel(s);
  if (bk_numel(s) != c->M || bk_numel(y) != c->M * c->N)
    return bitnetk__fail_ii(call, args, BITNET_ERR_INTERNAL, "scales or result do not match ", c->M,
                            " rows of ", c->N, " outputs");
  c->q = (const int8_t*)q->data;
  c->s = (const float*)s->data;
  c->w = (const uint8_t*)w->data;
  c->y = (float*)y->data;
  if (r && (r->dtype != BITNET_F32 || bk_numel(r) != c->M * c->N))
    return bitnetk__fail_ii(call, args, BITNET_ERR_INTERNAL, "the residual is not f32 with ", c->M,
                            " rows of ", c->N, " outputs");
  c->r = r ? (const float*)r->data : NULL;
  c->rule = w->scale_rule;
  if (bitnet__fault == BITNET_FAULT_DIVIDE_SCALE && c->rule == BITNET_SCALE_MUL)
    c->rule = BITNET_SCALE_DIV; /* test-only: the wrong scale rule */
  c->ws = (float)w->scale;
  c->chunk = c->K > 0 && BL_CHUNK_BYTES / c->K > 1 ? BL_CHUNK_BYTES / c->K : 1;
  return 0;
}

int64_t bitnetk_bitlinear_hf2(const bitnet_call* call, const bitnet_kernel_args* args) {
  bl_ctx c;
  const int64_t st = bitnetk__bl_prepare(call, args, BITNET_LAYOUT_HF_BLOCKED_2BIT, &c);
  if (st) return st;
  c.R = (c.N + 3) / 4;
  bk_parallel_for(call, c.R, 4 * c.K * c.M, hf2_range, &c);
  return 0;
}

int64_t bitnetk_bitlinear_i8(const bitnet_call* call, const bitnet_kernel_args* args) {
  bl_ctx c;
  const int64_t st = bitnetk__bl_prepare(call, args, BITNET_LAYOUT_I8, &c);
  if (st) return st;
  c.R = (c.N + 3) / 4;
  c.chunk = (c.chunk + 3) / 4;
  bk_parallel_for(call, c.R, 4 * c.K * c.M, i8_range, &c);
  return 0;
}

int64_t bitnetk_bitlinear(const bitnet_call* call, const bitnet_kernel_args* args) {
  int64_t st = bitnetk__check_arity(call, args, 3, 4, 1);
  if (st) return st;
  switch (args->operands[2].layout) {
    case BITNET_LAYOUT_HF_BLOCKED_2BIT: return bitnetk_bitlinear_hf2(call, args);
    case BITNET_LAYOUT_I8: return bitnetk_bitlinear_i8(call, args);
    case BITNET_LAYOUT_MAD_2BIT: return bitnetk_bitlinear_mad(call, args);
    case BITNET_LAYOUT_LUT3_5BIT: return bitnetk_bitlinear_lut(call, args);
    default:
      return bitnetk__fail_i(call, args, BITNET_ERR_INTERNAL, "unknown ternary layout ",
                             args->operands[2].layout, "");
  }
}
