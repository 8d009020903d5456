/* matmul_integer (ONNX MatMulInteger): a i8/u8 [..., M, K] (or [K]), b i8/u8 [K, N] or batched
 * [..., K, N] with a's leading dims, zero points with one element or one per row of a (M) /
 * column of b (N) -> i32: sum_k (a - a_zp) * (b - b_zp), exact in int64, stored wrapping. */
#include "targets/kernels/kernel_util.h"

int64_t bitnetk_matmul_integer(const bitnet_call* call, const bitnet_kernel_args* args) {
  int64_t st = bitnetk__check_arity(call, args, 4, 4, 1);
  if (st) return st;
  const bitnet_tensor *a = &args->operands[0], *b = &args->operands[1];
  const bitnet_tensor *az = &args->operands[2], *bz = &args->operands[3], *o = &args->results[0];
  const int a_ok = a->dtype == BITNET_I8 || a->dtype == BITNET_U8;
  const int b_ok = b->dtype == BITNET_I8 || b->dtype == BITNET_U8;
  if (!a_ok || !b_ok || az->dtype != a->dtype || bz->dtype != b->dtype || o->dtype != BITNET_I32 ||
      a->rank < 1 || b->rank < 2)
    return bitnetk__fail(call, args, BITNET_ERR_INTERNAL, "expects i8/u8 operands and zero points, an i32 result");
  const int64_t K = bk_last_dim(a), N = b->dims[b->rank - 1];
  const int64_t M = a->rank >= 2 ? a->dims[a->rank - 2] : 1;
  const int batched = b->rank > 2;
  const int64_t rows = K ? bk_numel(a) / K : bk_dims_product(a, 0, a->rank - 1);
  const int64_t naz = bk_numel(az), nbz = bk_numel(bz);
  if (b->dims[b->rank - 2] != K || (naz != 1 && naz != M) || (nbz != 1 && nbz != N))
    return bitnetk__fail(call, args, BITNET_ERR_INTERNAL, "operand shapes do not match");
  int32_t* out = (int32_t*)o->data;
  for (int64_t row = 0; row < rows; ++row) {
    const int64_t batch = batched ? row / M : 0, m = row % M;
    const int64_t za = bk_load_int(az->dtype, az->data, naz == 1 ? 0 : m);
    for (int64_t n = 0; n < N; ++n) {
      const int64_t zb = bk_load_int(bz->dtype, bz->data, nbz == 1 ? 0 : n);
      int64_t acc = 0;
      for (int64_t k = 0; k < K; ++k)
        acc += (bk_load_int(a->dtype, a->data, row * K + k) - za) *
               (bk_load_int(b->dtype, b->data, (batch * K + k) * N + n) - zb);
      out[row * N + n] = (int32_t)(uint32_t)(uint64_t)acc;
    }
  }
  return 0;
}
