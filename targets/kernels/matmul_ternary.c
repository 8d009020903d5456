/* matmul with a ternary weight as b (called by bitnetk_matmul): b's logical matrix T [R, C]
 * (layout hf_blocked_2bit, i8, mad_2bit or lut3_5bit) has the values T * ws (scale rule mul), T / ws (div)
 * or T (none), each one f32 operation; with transpose_b it is [N, K], else [K, N]. Summed in
 * the matmul order (matmul_order.h), as the interpreter's matmul over those values.
 * Attributes: ints = [transpose_b, last_row (a's last row only, when the op has it)]. */
#include "targets/kernels/kernel_util.h"
#include "targets/kernels/matmul_order.h"

/* T[r, c] of a ternary weight with `rows` x `cols` logical elements (weights were checked by
 * pack-weights: no code 3). */
static inline int ternary_at(const bitnet_tensor* w, int64_t r, int64_t c) {
  const uint8_t* p = (const uint8_t*)w->data;
  const int64_t rows = w->dims[0], cols = w->dims[1];
  switch (w->layout) {
    case BITNET_LAYOUT_I8: return ((const int8_t*)p)[r * cols + c];
    case BITNET_LAYOUT_HF_BLOCKED_2BIT: {
      const int64_t R = (rows + 3) / 4;
      return ((p[(r % R) * cols + c] >> (2 * (r / R))) & 3) - 1;
    }
    case BITNET_LAYOUT_LUT3_5BIT: { /* compiler/ir/Weights.h */
      const int64_t words = (cols + 8) / 9, tiles = (rows + 127) / 128, x = c / 9, chunk = x / 28;
      const int64_t cw = words - 28 * chunk < 28 ? words - 28 * chunk : 28;
      const uint16_t* wp = (const uint16_t*)p + chunk * 28 * tiles * 128 + (r / 128) * cw * 128 + (x % 28) * 128 + r % 128;
      const int index = (*wp >> (5 * (c % 9 / 3))) & 31, digit = c % 3;
      return (digit == 0 ? index / 9 : digit == 1 ? index / 3 % 3 : index % 3) - 1;
    }
    default: { /* mad_2bit: compiler/ir/Weights.h */
      const int64_t blocks = (cols + 255) / 256;
      const int64_t row_at = (r / 4) * blocks * 256 + (r % 4) * 64, col_at = (c / 256) * 256 + c % 64;
      return ((p[row_at + col_at] >> (2 * ((c % 256) / 64))) & 3) - 1;
    }
  }
}

typedef struct mt_ctx {
  const float* a;
  const bitnet_tensor* w;
  float* y;
  int64_t M, K, N, trans, rule;
  float scale;
} mt_ctx;

static void mt_range(void* vctx, int64_t begin, int64_t end) {
  const mt_ctx* c = (const mt_ctx*)vctx;
  for (int64_t n = begin; n < end; ++n)
    for (int64_t m = 0; m < c->M; ++m) {
      const float* a = c->a + m * c->K;
      double s[BK_DOT_LANES] = {0};
      for (int64_t k = 0; k < c->K; ++k) {
        const float t = (float)(c->trans ? ternary_at(c->w, n, k) : ternary_at(c->w, k, n));
        const float v = c->rule == BITNET_SCALE_MUL ? t * c->scale : c->rule == BITNET_SCALE_DIV ? t / c->scale : t;
        bk_dot_add(s, k, a[k], v);
      }
      c->y[m * c->N + n] = bk_dot_fold(s);
    }
}

int64_t bitnetk__matmul_ternary(const bitnet_call* call, const bitnet_kernel_args* args) {
  const bitnet_tensor *a = &args->operands[0], *b = &args->operands[1], *o = &args->results[0];
  const int64_t trans = bk_int_attr(args, 0) != 0, last_row = bk_int_attr(args, 1) != 0;
  if (a->dtype != BITNET_F32 || o->dtype != BITNET_F32 || a->rank < 1 || b->rank != 2 ||
      (b->layout != BITNET_LAYOUT_I8 && b->layout != BITNET_LAYOUT_HF_BLOCKED_2BIT && b->layout != BITNET_LAYOUT_MAD_2BIT &&
       b->layout != BITNET_LAYOUT_LUT3_5BIT))
    return bitnetk__fail(call, args, BITNET_ERR_INTERNAL, "expects a f32 [..., K] and a 2-D ternary weight");
  mt_ctx c = {(const float*)a->data, b, (float*)o->data, 0, bk_last_dim(a), trans ? b->dims[0] : b->dims[1],
              trans, b->scale_rule, (float)b->scale};
  if ((trans ? b->dims[1] : b->dims[0]) != c.K)
    return bitnetk__fail(call, args, BITNET_ERR_INTERNAL, "the contracted dims differ");
  c.M = c.K ? bk_numel(a) / c.K : 0;
  if (last_row && c.M > 0) { /* [M, K] -> [1, N]: the last row only */
    c.a += (c.M - 1) * c.K;
    c.M = 1;
  }
  bk_parallel_for(call, c.N, c.M * c.K * 8, mt_range, &c);
  return 0;
}
