/* Internal to the kernels: a walk over every element of a result in row-major order with the
 * matching element offsets of up to three operands under numpy broadcasting (dims aligned from
 * the right; an operand dim of 1, or a missing one, repeats). For the element-by-element ops
 * (compare, where, expand, pow with mixed dtypes), where clarity beats speed. */
#ifndef BITNET_BROADCAST_WALK_H
#define BITNET_BROADCAST_WALK_H

#include "targets/kernels/kernel_util.h"

typedef struct bk_walk {
  int64_t rank, nops;
  int64_t dims[BITNET_MAX_RANK], idx[BITNET_MAX_RANK];
  int64_t stride[3][BITNET_MAX_RANK]; /* element strides per operand, 0 on broadcast dims */
  int64_t off[3];                     /* the current element of each operand */
} bk_walk;

/* out and up to three operands (NULL ends the list early). */
static inline void bk_walk_init(bk_walk* w, const bitnet_tensor* out, const bitnet_tensor* a,
                                const bitnet_tensor* b, const bitnet_tensor* c) {
  const bitnet_tensor* ops[3] = {a, b, c};
  memset(w, 0, sizeof *w);
  w->rank = out->rank;
  for (int64_t d = 0; d < out->rank; ++d) w->dims[d] = out->dims[d];
  for (int k = 0; k < 3 && ops[k]; ++k) {
    w->nops = k + 1;
    int64_t stride = 1;
    for (int64_t d = out->rank - 1; d >= 0; --d) {
      const int64_t td = d - (out->rank - ops[k]->rank);
      if (td < 0) continue;
      w->stride[k][d] = ops[k]->dims[td] == 1 ? 0 : stride;
      stride *= ops[k]->dims[td];
    }
  }
}

/* Advances to the next result element. */
static inline void bk_walk_next(bk_walk* w) {
  for (int64_t d = w->rank - 1; d >= 0; --d) {
    for (int k = 0; k < w->nops; ++k) w->off[k] += w->stride[k][d];
    if (++w->idx[d] < w->dims[d]) return;
    for (int k = 0; k < w->nops; ++k) w->off[k] -= w->stride[k][d] * w->dims[d];
    w->idx[d] = 0;
  }
}

#endif /* BITNET_BROADCAST_WALK_H */
