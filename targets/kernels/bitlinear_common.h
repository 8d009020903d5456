/* Internal to the bitlinear kernels (bitlinear.c: hf2, i8; bitlinear_mad*.c: the MAD family;
 * bitlinear_lut*.c: the LUT family):
 * the checked operands of one call and the scale rule. */
#ifndef BITNET_BITLINEAR_COMMON_H
#define BITNET_BITLINEAR_COMMON_H

#include "targets/kernels/kernel_util.h"

typedef struct bl_ctx {
  const int8_t* q;
  const float* s;
  const uint8_t* w;
  float* y;
  const float* r;     /* the residual [M, N] added to every output (fuse-residual), or NULL */
  int64_t M, N, K, R; /* R: packed rows (hf2) or groups of four rows (i8, mad) */
  int64_t chunk;      /* packed rows / groups per cache chunk */
  int64_t rule;
  float ws;
} bl_ctx;

/* The scale rule exactly as docs/IR.md (same f32 operations as the interpreter). */
static inline float bl_scale(int32_t acc, int64_t rule, float ws, float s) {
  const float a = (float)acc;
  switch (rule) {
    case BITNET_SCALE_MUL: return (a * ws) / s;
    case BITNET_SCALE_DIV: return a / (ws * s);
    default: return a / s;
  }
}

/* Output i (= m * N + n) of token m from its int32 sum: the scale rule, then the residual when
 * there is one (the same f32 add as the `add` it replaced). */
static inline float bl_output(const bl_ctx* c, int32_t acc, float s, int64_t i) {
  const float y = bl_scale(acc, c->rule, c->ws, s);
  return c->r ? y + c->r[i] : y;
}

/* Checks the operands of a bitlinear (q i8 [..., K], s f32 [...], w ternary [N, K] in `layout`,
 * an optional residual f32 [..., N], y f32 [..., N]) and fills the context; 0 or a status with
 * the message written. */
int64_t bitnetk__bl_prepare(const bitnet_call* call, const bitnet_kernel_args* args, int64_t layout,
                            bl_ctx* c);

/* ---- the MAD family over the mad_2bit layout (bitlinear_mad.c) ----
 * Weights: u8 [G = ceil(N/4), KB = ceil(K/256), 4, 64]; byte c of row i of (g, b) holds in bits
 * 2j..2j+1 the code (T + 1) of T[4g + i, 256b + 64j + c]; padding is code 1.
 * A variant supplies the raw dot products of the codes (0..2) with the int8 activations; the
 * driver subtracts sum_k q_k once per token (undoing the +1) and applies the scale rule. Every
 * sum is exact in int32 (|dot| <= 2 * 128 * K, K <= MAD_MAX_K). */
#define MAD_MAX_K ((int64_t)1 << 22)

typedef struct mad_isa {
  /* dots[4 * (g - g0) + i] = sum_{k < K} code(4g + i, k) * q[k] for the groups [g0, g1). Reads
   * no activation at or past q[K]. */
  void (*gemv)(const int8_t* q, int64_t K, const uint8_t* w, int64_t g0, int64_t g1, int32_t* dots);
  /* The same for the M token rows of q ([M, K]) and one group g: dots[4 * m + i]. NULL: the driver
   * runs gemv per token over cache-sized chunks of groups. */
  void (*gemm)(const int8_t* q, int64_t M, int64_t K, const uint8_t* w, int64_t g, int32_t* dots);
} mad_isa;

/* The bitlinear over a mad_2bit weight with the variant's dot products. */
int64_t bitnetk__mad_run(const bitnet_call* call, const bitnet_kernel_args* args, const mad_isa* isa);

/* A zero-padded copy of the partial last 256-column block of a row of K activations (all zero
 * when K is a multiple of 256): what a block past the end of q reads instead. */
static inline void mad_tail_block(int8_t tail[256], const int8_t* q, int64_t K) {
  memset(tail, 0, 256);
  const int64_t full = K / 256 * 256;
  if (K > full) memcpy(tail, q + full, (size_t)(K - full));
}

/* ---- the LUT family over the lut3_5bit layout (bitlinear_lut.c) ----
 * Weights: u16 words [ceil(KW/28)][ceil(N/128)][cw][128] (compiler/ir/Weights.h): bits 5j..5j+4
 * of word x of a row index the 27 sums of three activations times (-1, 0, 1). Per token and
 * chunk of 28 words, the driver builds one int16 table of 32 entries per 3 activations (entries
 * 27..31 zero); a variant adds the lookups of one 128-row tile into int32 accumulators. */
#define LUT_TILE_ROWS 128
#define LUT_CHUNK_WORDS 28 /* 84 lookups of |sum| <= 384 per int16 lane: <= 32256 */
#define LUT_TABLE 32       /* int16 entries per table */
#define LUT_TOKENS 4       /* tokens whose tables are built together */
#define LUT_TABLES_PER_TOKEN (3 * LUT_CHUNK_WORDS * LUT_TABLE) /* int16 per token and chunk */
#define LUT_MAX_K ((int64_t)1 << 24) /* int32 accumulators: |acc| <= 128 K */

typedef struct lut_isa {
  /* acc[t * stride + i] += sum over the tile's words x < cw (words[x * 128 + i]) of the three
   * lookups tables[t * LUT_TABLES_PER_TOKEN + (3x + j) * 32 + index_j] for the rows i < rows and
   * tokens t < T. */
  void (*tile)(const uint16_t* words, int64_t cw, const int16_t* tables, int T, int32_t* acc,
               int64_t stride, int64_t rows);
} lut_isa;

/* The bitlinear over a lut3_5bit weight with the variant's tile. */
int64_t bitnetk__lut_run(const bitnet_call* call, const bitnet_kernel_args* args, const lut_isa* isa);

#endif /* BITNET_BITLINEAR_COMMON_H */
