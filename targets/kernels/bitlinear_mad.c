/* The MAD bitlinear family over the mad_2bit layout (bitlinear_common.h): the driver shared by
 * every variant (operands, the per-token activation sums, threads, the scale rule) and the
 * portable variant `mad` (plain C the backend's O3 vectorizes for the target). The ISA variants
 * live in bitlinear_mad_x86.c (AVX2, AVX-VNNI, AVX-512 VNNI) and bitlinear_mad_arm.c (NEON
 * dotprod): they only supply the dot products.
 *
 * Threads split the row groups (bitnet_rt_parallel_for). One token (decode): each range streams
 * its groups once. Several tokens (prefill): a variant with a GEMM walks its groups once and
 * reuses each unpacked weight tile for every token; without one, groups are walked in chunks
 * that stay in L2 while every token passes over them. */
#include "targets/kernels/bitlinear_common.h"

#define MAD_TOKENS 256         /* tokens per pass: the activation sums live on the stack */
#define MAD_GROUP_CHUNK 16     /* groups per dots buffer in the GEMV loop */
#define MAD_L2_CHUNK_BYTES 131072 /* weights walked per chunk while every token passes */
#define MAD_GEMM_MIN_TOKENS 32 /* from this many tokens on, a variant's GEMM runs (measured: at 16 the
                                  * per-group unpack is not yet paid back, 137 vs 163 G w/s) */

typedef struct mad_ctx {
  bl_ctx c;
  const mad_isa* isa;
  int64_t KB;        /* 256-column blocks per row */
  int64_t m0, mc;    /* the tokens of this pass */
  const int32_t* qsum; /* [mc]: sum_k q[m0 + m, k] */
} mad_ctx;

/* y[m, 4g + i] for the groups [g0, g0 + n) of token m from their raw dot products. */
static void mad_store(const mad_ctx* x, int64_t m, int64_t g0, int64_t n, const int32_t* dots,
                      int64_t stride) {
  const bl_ctx* c = &x->c;
  float* y = c->y + (x->m0 + m) * c->N;
  const float s = c->s[x->m0 + m];
  const int32_t qs = x->qsum[m];
  for (int64_t g = 0; g < n; ++g)
    for (int64_t i = 0; i < 4; ++i) {
      const int64_t row = 4 * (g0 + g) + i;
      if (row < c->N) y[row] = bl_output(c, dots[g * stride + i] - qs, s, (x->m0 + m) * c->N + row);
    }
}

static void mad_range(void* vctx, int64_t begin, int64_t end) {
  const mad_ctx* x = (const mad_ctx*)vctx;
  const bl_ctx* c = &x->c;
  if (x->isa->gemm && x->mc >= MAD_GEMM_MIN_TOKENS) {
    int32_t dots[4 * MAD_TOKENS];
    for (int64_t g = begin; g < end; ++g) {
      x->isa->gemm(c->q + x->m0 * c->K, x->mc, c->K, c->w, g, dots);
      for (int64_t m = 0; m < x->mc; ++m) mad_store(x, m, g, 1, dots + 4 * m, 4);
    }
    return;
  }
  int64_t chunk = MAD_L2_CHUNK_BYTES / (x->KB * 256);
  if (chunk < 1) chunk = 1;
  for (int64_t g0 = begin; g0 < end; g0 += chunk) {
    const int64_t g1 = g0 + chunk < end ? g0 + chunk : end;
    for (int64_t m = 0; m < x->mc; ++m) {
      const int8_t* q = c->q + (x->m0 + m) * c->K;
      for (int64_t s0 = g0; s0 < g1; s0 += MAD_GROUP_CHUNK) {
        const int64_t s1 = s0 + MAD_GROUP_CHUNK < g1 ? s0 + MAD_GROUP_CHUNK : g1;
        int32_t dots[4 * MAD_GROUP_CHUNK];
        x->isa->gemv(q, c->K, c->w, s0, s1, dots);
        mad_store(x, m, s0, s1 - s0, dots, 4);
      }
    }
  }
}

int64_t bitnetk__mad_run(const bitnet_call* call, const bitnet_kernel_args* args, const mad_isa* isa) {
  mad_ctx x;
  const int64_t st = bitnetk__bl_prepare(call, args, BITNET_LAYOUT_MAD_2BIT, &x.c);
  if (st) return st;
  if (x.c.K > MAD_MAX_K)
    return bitnetk__fail_i(call, args, BITNET_ERR_INTERNAL, "the mad kernels take K <= ", MAD_MAX_K,
                           " (int32 lanes of shifted codes)");
  x.isa = isa;
  x.KB = (x.c.K + 255) / 256;
  x.c.R = (x.c.N + 3) / 4;
  int32_t qsum[MAD_TOKENS];
  for (int64_t m0 = 0; m0 < x.c.M; m0 += MAD_TOKENS) {
    x.m0 = m0;
    x.mc = x.c.M - m0 < MAD_TOKENS ? x.c.M - m0 : MAD_TOKENS;
    for (int64_t m = 0; m < x.mc; ++m) {
      const int8_t* q = x.c.q + (m0 + m) * x.c.K;
      int32_t s = 0;
      for (int64_t k = 0; k < x.c.K; ++k) s += q[k];
      qsum[m] = s;
    }
    x.qsum = qsum;
    bk_parallel_for(call, x.c.R, 4 * x.c.K * x.mc, mad_range, &x);
  }
  return 0;
}

/* ---- the portable variant ---- */

/* sum over one 256-column block of a row: 64 bytes of codes against 256 activations. int16
 * lanes: 4 products of |code * q| <= 256 per lane. */
static inline int32_t mad_block_portable(const uint8_t* restrict w, const int8_t* restrict q) {
  int16_t lane[64];
  for (int c = 0; c < 64; ++c) {
    const uint8_t b = w[c];
    lane[c] = (int16_t)((b & 3) * q[c] + ((b >> 2) & 3) * q[64 + c] + ((b >> 4) & 3) * q[128 + c] +
                        (b >> 6) * q[192 + c]);
  }
  int32_t s = 0;
  for (int c = 0; c < 64; ++c) s += lane[c];
  return s;
}

static void mad_gemv_portable(const int8_t* q, int64_t K, const uint8_t* w, int64_t g0, int64_t g1,
                              int32_t* dots) {
  const int64_t KB = (K + 255) / 256, full = K / 256;
  int8_t tail[256];
  mad_tail_block(tail, q, K);
  for (int64_t g = g0; g < g1; ++g) {
    const uint8_t* wg = w + g * KB * 256;
    for (int64_t i = 0; i < 4; ++i) {
      int32_t acc = 0;
      for (int64_t b = 0; b < KB; ++b)
        acc += mad_block_portable(wg + b * 256 + 64 * i, b < full ? q + 256 * b : tail);
      dots[4 * (g - g0) + i] = acc;
    }
  }
}

static const mad_isa mad_portable = {mad_gemv_portable, NULL};

int64_t bitnetk_bitlinear_mad(const bitnet_call* call, const bitnet_kernel_args* args) {
  return bitnetk__mad_run(call, args, &mad_portable);
}
