/* matmul_nbits (com.microsoft MatMulNBits): a f32 [..., K], b u8 [N, blocks, blob] (element j
 * of a block at bit offset j * bits of its blob, low bits first), scales f32 [N * blocks],
 * zero_points u8 (per row of N, ceil(blocks * bits / 8) bytes, packed the same way) -> f32
 * [..., N]: y = a @ W^T with W[n, k] = f32(code - zp) * scale (f32), summed in the matmul
 * order (matmul_order.h). Attributes: ints = [K, N, bits, block_size]. Tasks: columns n. */
#include "targets/kernels/kernel_util.h"
#include "targets/kernels/matmul_order.h"

typedef struct nb_ctx {
  const float* a;
  const uint8_t *b, *zp;
  const float* scales;
  float* y;
  int64_t M, K, N, bits, block, blocks, blob, zp_bytes;
} nb_ctx;

static inline int64_t packed(const uint8_t* row, int64_t j, int64_t bits) {
  const int64_t bit = j * bits;
  return (row[bit / 8] >> (bit % 8)) & ((1 << bits) - 1);
}

static void nb_range(void* vctx, int64_t begin, int64_t end) {
  const nb_ctx* c = (const nb_ctx*)vctx;
  for (int64_t n = begin; n < end; ++n) {
    const uint8_t* brow = c->b + n * c->blocks * c->blob;
    const uint8_t* zrow = c->zp + n * c->zp_bytes;
    for (int64_t m = 0; m < c->M; ++m) {
      const float* a = c->a + m * c->K;
      double s[BK_DOT_LANES] = {0};
      for (int64_t k = 0; k < c->K; ++k) {
        const int64_t blk = k / c->block;
        const int64_t code = packed(brow + blk * c->blob, k % c->block, c->bits);
        const float w = (float)(code - packed(zrow, blk, c->bits)) * c->scales[n * c->blocks + blk];
        bk_dot_add(s, k, a[k], w);
      }
      c->y[m * c->N + n] = bk_dot_fold(s);
    }
  }
}

int64_t bitnetk_matmul_nbits(const bitnet_call* call, const bitnet_kernel_args* args) {
  int64_t st = bitnetk__check_arity(call, args, 4, 4, 1);
  if (st) return st;
  const bitnet_tensor *a = &args->operands[0], *b = &args->operands[1], *sc = &args->operands[2];
  const bitnet_tensor *zp = &args->operands[3], *o = &args->results[0];
  nb_ctx c;
  c.K = bk_int_attr(args, 0), c.N = bk_int_attr(args, 1), c.bits = bk_int_attr(args, 2), c.block = bk_int_attr(args, 3);
  if (c.K <= 0 || c.N <= 0 || c.block <= 0 || (c.bits != 2 && c.bits != 4 && c.bits != 8))
    return bitnetk__fail(call, args, BITNET_ERR_INTERNAL, "bad K, N, bits or block_size");
  c.blocks = (c.K + c.block - 1) / c.block, c.blob = c.block * c.bits / 8, c.zp_bytes = (c.blocks * c.bits + 7) / 8;
  if (a->dtype != BITNET_F32 || b->dtype != BITNET_U8 || sc->dtype != BITNET_F32 || zp->dtype != BITNET_U8 ||
      o->dtype != BITNET_F32 || bk_last_dim(a) != c.K || bk_numel(b) != c.N * c.blocks * c.blob ||
      bk_numel(sc) != c.N * c.blocks || bk_numel(zp) != c.N * c.zp_bytes)
    return bitnetk__fail(call, args, BITNET_ERR_INTERNAL, "operands do not match K, N, bits and block_size");
  c.a = (const float*)a->data, c.b = (const uint8_t*)b->data, c.zp = (const uint8_t*)zp->data;
  c.scales = (const float*)sc->data, c.y = (float*)o->data, c.M = bk_numel(a) / c.K;
  bk_parallel_for(call, c.N, c.M * c.K * 4, nb_range, &c);
  return 0;
}
