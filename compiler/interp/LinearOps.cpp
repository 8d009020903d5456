// matmul: a [..., K] x b [K, N] (or [N, K] with transpose_b) -> [..., N], or batched with equal
// leading dims: a [..., M, K] x b [..., K, N] -> [..., M, N]; b float or i8 (exact integers, e.g.
// a per-row quantized LM head, scaled by a following mul); with last_row, a [M, K] -> [1, N]
// from a's last row only. fp64 accumulation in the matmul order (docs/IR.md), rounded once; with
// f32_sum (the LM head) the f32 order instead.
#include "compiler/interp/Kernels.h"

namespace bitnetc::interp {
namespace {

// The reference summation order of every matmul dot product (docs/IR.md): sixteen f64 partial
// sums, s_j takes the products of k = j (mod 16) in increasing k from +0; then halving folds
// s_j += s_{j+w} for w = 8, 4, 2, 1; s_0 is the sum. Products of two f32 are exact in f64, so only
// the sums round. The order was chosen for vectors: two 8-lane AVX-512 registers, four AVX2,
// eight NEON/SSE2 registers each hold the sixteen partials in lane order, and the folds are
// halving shuffles. Cloned for AVX2 with a run-time CPU check; the order is fixed by the code, so
// both clones give identical results.
constexpr int64_t kLanes = 16;

__attribute__((target_clones("avx2", "default"))) double dotF64(const float* a, const float* b, int64_t k) {
  double s[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= k; i += kLanes)
    for (int64_t j = 0; j < kLanes; ++j) s[j] += double(a[i + j]) * double(b[i + j]);
  for (int64_t j = 0; i + j < k; ++j) s[j] += double(a[i + j]) * double(b[i + j]);
  for (int64_t w = kLanes / 2; w >= 1; w /= 2)
    for (int64_t j = 0; j < w; ++j) s[j] += s[j + w];
  return s[0];
}

// The f32_sum order (docs/IR.md): 32 f32 partial sums over k = j (mod 32) from +0, each product
// rounded to f32 and then added (no fused multiply-add: this library is built with
// -ffp-contract=off), then halving folds s_j += s_{j+w} for w = 16, .., 1. A bf16 table widens
// to f32 with one shift and the sums run 16 lanes to a vector, so the compiled LM head is bound
// by memory, not by f64 conversions (docs/PERFORMANCE.md).
constexpr int64_t kLanesF32 = 32;

float dotF32(const float* a, const float* b, int64_t k) {
  float s[kLanesF32] = {};
  for (int64_t i = 0; i < k; ++i) {
    const float p = a[i] * b[i];
    s[i % kLanesF32] = s[i % kLanesF32] + p;
  }
  for (int64_t w = kLanesF32 / 2; w >= 1; w /= 2)
    for (int64_t j = 0; j < w; ++j) s[j] = s[j] + s[j + w];
  return s[0];
}

std::vector<float> toF32(const TensorView& v, int64_t offset, int64_t count) {
  std::vector<float> out(static_cast<size_t>(count));
  v.toF32(offset, count, out.data());
  return out;
}

// out[m, n] = sum_k a[m, k] * B[n, k], where B row n is read from b (at bOffset) either as row n
// of [N, K] (transposed) or as column n of [K, N].
// bCache: b's elements widened to f32 (a weight from the cache), or nullptr to convert here.
void multiply(const TensorView& a, int64_t aOffset, const TensorView& b, const float* bCache, int64_t bOffset,
              bool transB, bool f32Sum, int64_t M, int64_t K, int64_t N, HostTensor& r, int64_t rOffset) {
  const std::vector<float> af = toF32(a, aOffset, M * K);
  std::vector<float> brow(static_cast<size_t>(K));
  for (int64_t n = 0; n < N; ++n) {
    const float* row = brow.data();
    if (transB && bCache) {
      row = bCache + bOffset + n * K;
    } else if (transB && b.dtype == DType::I8) {
      for (int64_t k = 0; k < K; ++k) brow[size_t(k)] = float(b.as<int8_t>()[bOffset + n * K + k]);
    } else if (transB) {
      b.toF32(bOffset + n * K, K, brow.data());
    } else {
      for (int64_t k = 0; k < K; ++k) {
        const int64_t i = bOffset + k * N + n;
        brow[size_t(k)] = bCache ? bCache[i] : b.dtype == DType::I8 ? float(b.as<int8_t>()[i]) : b.floatAt(i);
      }
    }
    for (int64_t m = 0; m < M; ++m)
      storeFloat(r, rOffset + m * N + n,
                 f32Sum ? dotF32(af.data() + m * K, row, K) : float(dotF64(af.data() + m * K, row, K)));
  }
}

void matmulKernel(OpCall& call) {
  call.expectOperands(2);
  const TensorView &a = call.in(0), &b = call.in(1);
  if (!isFloat(a.dtype) || !(isFloat(b.dtype) || b.dtype == DType::I8))
    call.error("operands " + a.describe() + " and " + b.describe() + " must be float (b may also be i8)");
  if (!isFloat(call.resultDType())) call.error("the result must be float");
  const bool transB = call.op.attrs.getBool("transpose_b", false);
  const bool f32Sum = call.op.attrs.getBool("f32_sum", false);
  if (a.shape.empty() || b.shape.size() < 2)
    call.error("operands " + a.describe() + " and " + b.describe() + " have unsupported ranks");
  const size_t rb = b.shape.size();
  const int64_t bK = transB ? b.shape[rb - 1] : b.shape[rb - 2];
  const int64_t N = transB ? b.shape[rb - 2] : b.shape[rb - 1];
  const int64_t K = a.shape.back();
  if (K != bK) call.error("inner dims differ: " + a.describe() + " x " + b.describe());
  const float* bCache = b.weight && call.weightCache ? call.weightCache->floats(*b.weight) : nullptr;
  if (call.op.attrs.getBool("last_row", false)) {  // only a's last row: [M, K] -> [1, N]
    if (a.shape.size() != 2 || rb != 2 || a.shape[0] < 1)
      call.error("last_row needs a [M >= 1, K] and a 2-D b: " + a.describe() + " x " + b.describe());
    HostTensor r = HostTensor::zeros(call.resultDType(), {1, N});
    multiply(a, (a.shape[0] - 1) * K, b, bCache, 0, transB, f32Sum, 1, K, N, r, 0);
    call.results.push_back(std::move(r));
    return;
  }
  if (rb == 2) {
    std::vector<int64_t> outShape = a.shape;
    outShape.back() = N;
    HostTensor r = HostTensor::zeros(call.resultDType(), outShape);
    multiply(a, 0, b, bCache, 0, transB, f32Sum, product(a.shape, 0, a.shape.size() - 1), K, N, r, 0);
    call.results.push_back(std::move(r));
    return;
  }
  // Batched: same leading dims.
  if (a.shape.size() != rb) call.error("batched matmul needs equal ranks: " + a.describe() + " x " + b.describe());
  for (size_t d = 0; d + 2 < rb; ++d)
    if (a.shape[d] != b.shape[d]) call.error("batch dims differ: " + a.describe() + " x " + b.describe());
  const int64_t M = a.shape[rb - 2], batch = product(a.shape, 0, rb - 2);
  std::vector<int64_t> outShape = a.shape;
  outShape.back() = N;
  HostTensor r = HostTensor::zeros(call.resultDType(), outShape);
  for (int64_t i = 0; i < batch; ++i) multiply(a, i * M * K, b, bCache, i * K * N, transB, f32Sum, M, K, N, r, i * M * N);
  call.results.push_back(std::move(r));
}

}  // namespace

void registerLinearOps(KernelTable& table) { table["matmul"] = matmulKernel; }

}  // namespace bitnetc::interp
