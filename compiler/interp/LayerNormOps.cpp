// layer_norm (ONNX LayerNormalization, stash_type float): per row of the dims axis..rank-1 of x,
//   mean = f32(sum x / N)            (sum in f64 in index order, divided in f64, rounded once)
//   d    = x - mean                  (f32)
//   var  = f32(sum d * d / N)        (the squares of f32 values are exact in f64)
//   r    = 1 / sqrt(var + eps)       (f32)
//   y    = (d * r) * scale + bias    (f32, in that order; scale and bias widened exactly to f32)
#include <cmath>

#include "compiler/interp/Kernels.h"

namespace bitnetc::interp {
namespace {

void layerNormKernel(OpCall& call) {
  call.expectOperands(3);
  call.expectDType(0, {DType::F32});
  const TensorView &x = call.in(0), &scale = call.in(1), &bias = call.in(2);
  const int64_t rank = int64_t(x.shape.size());
  const int64_t axis = normalizeAxis(call, call.op.attrs.getInt("axis"), rank);
  const int64_t N = product(x.shape, size_t(axis)), rows = product(x.shape, 0, size_t(axis));
  if (scale.numElements() != N || bias.numElements() != N)
    call.error("scale " + scale.describe() + " and bias " + bias.describe() + " must have the " +
               std::to_string(N) + " normalized elements of " + x.describe());
  if (call.resultDType() != DType::F32) call.error("the result must be f32");
  const float eps = float(call.op.attrs.getFloat("eps"));
  std::vector<float> sc(static_cast<size_t>(N)), bi(static_cast<size_t>(N)), d(static_cast<size_t>(N));
  scale.toF32(0, N, sc.data());
  bias.toF32(0, N, bi.data());
  HostTensor r = HostTensor::zeros(DType::F32, x.shape);
  const float* in = x.as<float>();
  float* out = r.as<float>();
  for (int64_t row = 0; row < rows; ++row) {
    const float* xr = in + row * N;
    double sum = 0;
    for (int64_t i = 0; i < N; ++i) sum += double(xr[i]);
    const float mean = float(sum / double(N));
    double sq = 0;
    for (int64_t i = 0; i < N; ++i) {
      d[size_t(i)] = xr[i] - mean;
      sq += double(d[size_t(i)]) * double(d[size_t(i)]);
    }
    const float var = float(sq / double(N));
    const float rs = 1.0f / std::sqrt(var + eps);
    for (int64_t i = 0; i < N; ++i) out[row * N + i] = (d[size_t(i)] * rs) * sc[size_t(i)] + bi[size_t(i)];
  }
  call.results.push_back(std::move(r));
}

}  // namespace

void registerLayerNormOps(KernelTable& table) { table["layer_norm"] = layerNormKernel; }

}  // namespace bitnetc::interp
