/* Internal to the kernels: the reference order of every matmul dot product (docs/IR.md,
 * compiler/interp/LinearOps.cpp dotF64, matmul.c): sixteen f64 partial sums, s_j takes the
 * products of k = j (mod 16) in increasing k from +0, then s_j += s_{j+w} for w = 8, 4, 2, 1;
 * s_0 rounded once to f32. A product of two f32 values is exact in f64. For the matmuls whose b
 * is decoded element by element (ternary weights, matmul_nbits). */
#ifndef BITNET_MATMUL_ORDER_H
#define BITNET_MATMUL_ORDER_H

#include "targets/kernels/kernel_util.h"

#define BK_DOT_LANES 16

static inline void bk_dot_add(double s[BK_DOT_LANES], int64_t k, float a, float b) {
  s[k & (BK_DOT_LANES - 1)] += (double)a * (double)b;
}

static inline float bk_dot_fold(double s[BK_DOT_LANES]) {
  for (int w = BK_DOT_LANES / 2; w >= 1; w /= 2)
    for (int j = 0; j < w; ++j) s[j] += s[j + w];
  return (float)s[0];
}

/* matmul with a ternary weight as b (matmul_ternary.c); bitnetk_matmul hands it over. */
int64_t bitnetk__matmul_ternary(const bitnet_call* call, const bitnet_kernel_args* args);

#endif /* BITNET_MATMUL_ORDER_H */
