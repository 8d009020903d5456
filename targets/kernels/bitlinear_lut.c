/* The LUT bitlinear family over the lut3_5bit layout (bitlinear_common.h): the driver shared by
 * every variant (operands, tables, threads, the scale rule) and the portable variant `lut`. The
 * AVX-512 variant lives in bitlinear_lut_x86.c and only supplies the tile.
 *
 * One lookup replaces three multiply-adds: per 3 activations (a0, a1, a2) a table holds the 27
 * sums (d0 - 1) a0 + (d1 - 1) a1 + (d2 - 1) a2, indexed 9 d0 + 3 d1 + d2, and a weight row
 * stores one 5-bit index per 3 weights (1.78 bits a weight: 11% fewer bytes than 2-bit codes,
 * which is what a memory-bound decode reads).
 *
 * Threads split the 128-row tiles. Each range walks the chunks of 28 words in order (the weight
 * bytes of one chunk are contiguous over the tiles), builds the tables of the chunk for up to 4
 * tokens at a time and passes every tile of its range over them, so the tables stay in L1 and
 * with several tokens (prefill) a chunk's weights are read from L2 once per 4 tokens. The int32
 * sums live in y itself (4 bytes per output, like the f32 they become) until the scale rule. */
#include "targets/kernels/bitlinear_common.h"

typedef struct lut_ctx {
  bl_ctx c;
  const lut_isa* isa;
  int64_t KW, tiles; /* words per row, 128-row tiles */
} lut_ctx;

/* The entries' ternary digits minus one: entry i = 9 d0 + 3 d1 + d2 (entries 27..31 are 0). */
static const int16_t lut_digit[3][LUT_TABLE] = {
    {-1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0},
    {-1, -1, -1, 0, 0, 0, 1, 1, 1, -1, -1, -1, 0, 0, 0, 1, 1, 1, -1, -1, -1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0},
    {-1, 0, 1, -1, 0, 1, -1, 0, 1, -1, 0, 1, -1, 0, 1, -1, 0, 1, -1, 0, 1, -1, 0, 1, -1, 0, 1, 0, 0, 0, 0, 0}};

/* The tables of `groups` groups of 3 activations from group g0 of one token (zero past K). */
static void lut_build_tables(const int8_t* q, int64_t K, int64_t g0, int64_t groups, int16_t* tables) {
  for (int64_t g = 0; g < groups; ++g) {
    const int64_t k = 3 * (g0 + g);
    const int16_t a0 = k < K ? q[k] : 0, a1 = k + 1 < K ? q[k + 1] : 0, a2 = k + 2 < K ? q[k + 2] : 0;
    int16_t* t = tables + g * LUT_TABLE;
    for (int i = 0; i < LUT_TABLE; ++i)
      t[i] = (int16_t)(lut_digit[0][i] * a0 + lut_digit[1][i] * a1 + lut_digit[2][i] * a2);
  }
}

static void lut_range(void* vctx, int64_t begin, int64_t end) {
  const lut_ctx* x = (const lut_ctx*)vctx;
  const bl_ctx* c = &x->c;
  int32_t* acc = (int32_t*)c->y; /* the int32 sums, in place of the f32 outputs */
  const int64_t r0 = begin * LUT_TILE_ROWS, r1 = end * LUT_TILE_ROWS < c->N ? end * LUT_TILE_ROWS : c->N;
  for (int64_t m = 0; m < c->M; ++m) memset(acc + m * c->N + r0, 0, (size_t)(r1 - r0) * sizeof(int32_t));
  int16_t tables[LUT_TOKENS * LUT_TABLES_PER_TOKEN] __attribute__((aligned(64)));
  const uint16_t* w = (const uint16_t*)c->w;
  for (int64_t ch = 0; ch * LUT_CHUNK_WORDS < x->KW; ++ch) {
    const int64_t cw = x->KW - ch * LUT_CHUNK_WORDS < LUT_CHUNK_WORDS ? x->KW - ch * LUT_CHUNK_WORDS : LUT_CHUNK_WORDS;
    const uint16_t* chunk = w + ch * LUT_CHUNK_WORDS * x->tiles * LUT_TILE_ROWS;
    for (int64_t m0 = 0; m0 < c->M; m0 += LUT_TOKENS) {
      const int T = c->M - m0 < LUT_TOKENS ? (int)(c->M - m0) : LUT_TOKENS;
      for (int t = 0; t < T; ++t)
        lut_build_tables(c->q + (m0 + t) * c->K, c->K, 3 * LUT_CHUNK_WORDS * ch, 3 * cw,
                         tables + t * LUT_TABLES_PER_TOKEN);
      for (int64_t tile = begin; tile < end; ++tile) {
        const int64_t rows = c->N - tile * LUT_TILE_ROWS < LUT_TILE_ROWS ? c->N - tile * LUT_TILE_ROWS : LUT_TILE_ROWS;
        x->isa->tile(chunk + tile * cw * LUT_TILE_ROWS, cw, tables, T, acc + m0 * c->N + tile * LUT_TILE_ROWS,
                     c->N, rows);
      }
    }
  }
  for (int64_t m = 0; m < c->M; ++m) {
    const float s = c->s[m];
    for (int64_t n = r0; n < r1; ++n) c->y[m * c->N + n] = bl_output(c, acc[m * c->N + n], s, m * c->N + n);
  }
}

int64_t bitnetk__lut_run(const bitnet_call* call, const bitnet_kernel_args* args, const lut_isa* isa) {
  lut_ctx x;
  const int64_t st = bitnetk__bl_prepare(call, args, BITNET_LAYOUT_LUT3_5BIT, &x.c);
  if (st) return st;
  if (x.c.K > LUT_MAX_K)
    return bitnetk__fail_i(call, args, BITNET_ERR_INTERNAL, "the lut kernels take K <= ", LUT_MAX_K,
                           " (int32 sums)");
  x.isa = isa;
  x.KW = (x.c.K + 8) / 9;
  x.tiles = (x.c.N + LUT_TILE_ROWS - 1) / LUT_TILE_ROWS;
  if (x.c.M == 0 || x.c.N == 0) return 0;
  bk_parallel_for(call, x.tiles, LUT_TILE_ROWS * x.c.K * x.c.M, lut_range, &x);
  return 0;
}

/* ---- the portable variant ---- */

static void lut_tile_portable(const uint16_t* words, int64_t cw, const int16_t* tables, int T,
                              int32_t* acc, int64_t stride, int64_t rows) {
  for (int t = 0; t < T; ++t) {
    const int16_t* tt = tables + t * LUT_TABLES_PER_TOKEN;
    for (int64_t i = 0; i < rows; ++i) {
      int32_t s = 0;
      for (int64_t x = 0; x < cw; ++x) {
        const uint16_t v = words[x * LUT_TILE_ROWS + i];
        const int16_t* tb = tt + 3 * x * LUT_TABLE;
        s += tb[v & 31] + tb[LUT_TABLE + ((v >> 5) & 31)] + tb[2 * LUT_TABLE + ((v >> 10) & 31)];
      }
      acc[t * stride + i] += s;
    }
  }
}

static const lut_isa lut_portable = {lut_tile_portable};

int64_t bitnetk_bitlinear_lut(const bitnet_call* call, const bitnet_kernel_args* args) {
  return bitnetk__lut_run(call, args, &lut_portable);
}
