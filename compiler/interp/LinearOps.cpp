// matmul: a [..., K] x b [K, N] (or [N, K] with transpose_b) -> [..., N], or batched with equal
// leading dims: a [..., M, K] x b [..., K, N] -> [..., M, N]. fp64 accumulation, rounded once.
#include "compiler/interp/Kernels.h"

namespace bitnetc::interp {
namespace {

// Products of two f32 are exact in f64; only the sums round. Cloned for AVX2 with a run-time
// CPU check; the four partial sums keep their order, so both clones give identical results.
__attribute__((target_clones("avx2", "default"))) double dotF64(const float* a, const float* b, int64_t k) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int64_t i = 0;
  for (; i + 4 <= k; i += 4) {
    s0 += double(a[i]) * double(b[i]);
    s1 += double(a[i + 1]) * double(b[i + 1]);
    s2 += double(a[i + 2]) * double(b[i + 2]);
    s3 += double(a[i + 3]) * double(b[i + 3]);
  }
  for (; i < k; ++i) s0 += double(a[i]) * double(b[i]);
  return (s0 + s1) + (s2 + s3);
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
              bool transB, int64_t M, int64_t K, int64_t N, HostTensor& r, int64_t rOffset) {
  const std::vector<float> af = toF32(a, aOffset, M * K);
  std::vector<float> brow(static_cast<size_t>(K));
  for (int64_t n = 0; n < N; ++n) {
    const float* row = brow.data();
    if (transB && bCache) {
      row = bCache + bOffset + n * K;
    } else if (transB) {
      b.toF32(bOffset + n * K, K, brow.data());
    } else {
      for (int64_t k = 0; k < K; ++k)
        brow[size_t(k)] = bCache ? bCache[bOffset + k * N + n] : b.floatAt(bOffset + k * N + n);
    }
    for (int64_t m = 0; m < M; ++m)
      storeFloat(r, rOffset + m * N + n, float(dotF64(af.data() + m * K, row, K)));
  }
}

void matmulKernel(OpCall& call) {
  call.expectOperands(2);
  const TensorView &a = call.in(0), &b = call.in(1);
  if (!isFloat(a.dtype) || !isFloat(b.dtype))
    call.error("operands " + a.describe() + " and " + b.describe() + " must be float");
  if (!isFloat(call.resultDType())) call.error("the result must be float");
  const bool transB = call.op.attrs.getBool("transpose_b", false);
  if (a.shape.empty() || b.shape.size() < 2)
    call.error("operands " + a.describe() + " and " + b.describe() + " have unsupported ranks");
  const size_t rb = b.shape.size();
  const int64_t bK = transB ? b.shape[rb - 1] : b.shape[rb - 2];
  const int64_t N = transB ? b.shape[rb - 2] : b.shape[rb - 1];
  const int64_t K = a.shape.back();
  if (K != bK) call.error("inner dims differ: " + a.describe() + " x " + b.describe());
  const float* bCache = b.weight && call.weightCache ? call.weightCache->floats(*b.weight) : nullptr;
  if (rb == 2) {
    std::vector<int64_t> outShape = a.shape;
    outShape.back() = N;
    HostTensor r = HostTensor::zeros(call.resultDType(), outShape);
    multiply(a, 0, b, bCache, 0, transB, product(a.shape, 0, a.shape.size() - 1), K, N, r, 0);
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
  for (int64_t i = 0; i < batch; ++i) multiply(a, i * M * K, b, bCache, i * K * N, transB, M, K, N, r, i * M * N);
  call.results.push_back(std::move(r));
}

}  // namespace

void registerLinearOps(KernelTable& table) { table["matmul"] = matmulKernel; }

}  // namespace bitnetc::interp
