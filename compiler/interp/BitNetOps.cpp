// The BitNet ops: embedding, rms_norm, act_quant, rms_norm_quant, bitlinear, rope (attention is in
// AttentionOps).
// Exactly per docs/IR.md: act_quant per row with an f32 multiply and round-half-to-even,
// bitlinear with exact int32 accumulation over the logical ternary values.
#include <algorithm>
#include <cmath>

#include "compiler/interp/Kernels.h"

namespace bitnetc::interp {
namespace {

void embeddingKernel(OpCall& call) {
  call.expectOperands(2);
  call.expectDType(0, {DType::I32, DType::I64});
  call.expectDType(1, {DType::F32, DType::BF16, DType::F16});
  call.expectRank(1, 2);
  const TensorView &ids = call.in(0), &table = call.in(1);
  const int64_t V = table.shape[0], H = table.shape[1], S = ids.numElements();
  std::vector<int64_t> outShape = ids.shape;
  outShape.push_back(H);
  HostTensor r = HostTensor::zeros(DType::F32, outShape);
  float* out = r.as<float>();
  for (int64_t t = 0; t < S; ++t) {
    const int64_t id = ids.intAt(t);
    if (id < 0 || id >= V)
      call.error("token id " + std::to_string(id) + " is out of range for the vocabulary size " +
                 std::to_string(V));
    table.toF32(id * H, H, out + t * H);
  }
  call.results.push_back(std::move(r));
}

// rms_norm of operands 0 (x) and 1 (w) with the op's eps.
HostTensor rmsNormValues(OpCall& call) {
  call.expectOperands(2);
  call.expectDType(0, {DType::F32});
  call.expectDType(1, {DType::F32, DType::BF16, DType::F16});
  call.expectRank(1, 1);
  const TensorView &x = call.in(0), &w = call.in(1);
  if (x.shape.empty() || x.shape.back() != w.shape[0])
    call.error("x " + x.describe() + " and weight " + w.describe() + " disagree on N");
  const float eps = float(call.op.attrs.getFloat("eps"));
  const int64_t N = w.shape[0], rows = product(x.shape, 0, x.shape.size() - 1);
  std::vector<float> wf(static_cast<size_t>(N));
  w.toF32(0, N, wf.data());
  HostTensor r = HostTensor::zeros(DType::F32, x.shape);
  const float* in = x.as<float>();
  float* out = r.as<float>();
  for (int64_t row = 0; row < rows; ++row) {
    const float* xr = in + row * N;
    double sum = 0;
    for (int64_t i = 0; i < N; ++i) sum += double(xr[i]) * double(xr[i]);
    const float mean = float(sum / double(N));
    const float rs = 1.0f / std::sqrt(mean + eps);
    for (int64_t i = 0; i < N; ++i) out[row * N + i] = wf[size_t(i)] * (xr[i] * rs);
  }
  return r;
}

void rmsNormKernel(OpCall& call) { call.results.push_back(rmsNormValues(call)); }

// Exact int32 dot product of int8 activations and ternary weights (|sum| <= 128 * K).
// Cloned for AVX2 with a run-time CPU check: integer sums are exact in any order.
__attribute__((target_clones("avx2", "default"))) int32_t dotI8(const int8_t* q, const int8_t* t, int64_t k) {
  int32_t sum = 0;
  for (int64_t i = 0; i < k; ++i) sum += int32_t(q[i]) * int32_t(t[i]);
  return sum;
}

int8_t quantize(float x, float s) {
  float q = std::nearbyint(x * s);  // f32 multiply, then round half to even
  if (std::isnan(q)) return 0;
  return int8_t(std::min(std::max(q, -128.0f), 127.0f));
}

// act_quant of the f32 rows `in` of `shape` (rank >= 1): pushes q and s.
void actQuantValues(OpCall& call, const float* in, const std::vector<int64_t>& shape) {
  const int64_t K = shape.back(), rows = product(shape, 0, shape.size() - 1);
  HostTensor q = HostTensor::zeros(DType::I8, shape);
  HostTensor s = HostTensor::zeros(DType::F32, std::vector<int64_t>(shape.begin(), shape.end() - 1));
  float tensorMax = 0.0f;  // only for Fault::PerTensorActQuant
  for (int64_t i = 0; i < rows * K; ++i) tensorMax = std::max(tensorMax, std::fabs(in[i]));
  for (int64_t row = 0; row < rows; ++row) {
    const float* xr = in + row * K;
    float scale;
    if (call.fault == Fault::SkipActQuant) {
      scale = 1.0f;  // wrong on purpose: no quantization scale
    } else {
      float absmax = 0.0f;
      for (int64_t k = 0; k < K; ++k) absmax = std::max(absmax, std::fabs(xr[k]));
      if (call.fault == Fault::PerTensorActQuant) absmax = tensorMax;  // wrong on purpose
      scale = 127.0f / std::max(absmax, 1e-5f);
    }
    s.as<float>()[row] = scale;
    for (int64_t k = 0; k < K; ++k) q.as<int8_t>()[row * K + k] = quantize(xr[k], scale);
  }
  call.results.push_back(std::move(q));
  call.results.push_back(std::move(s));
}

void actQuantKernel(OpCall& call) {
  call.expectOperands(1);
  call.expectDType(0, {DType::F32});
  const TensorView& x = call.in(0);
  if (x.shape.empty()) call.error("operand " + x.describe() + " must have rank >= 1");
  actQuantValues(call, x.as<float>(), x.shape);
}

// rms_norm then act_quant, the same operations in the same order (fuse-norm-quant's op).
void rmsNormQuantKernel(OpCall& call) {
  const HostTensor y = rmsNormValues(call);
  actQuantValues(call, y.as<float>(), y.shape);
}

// bitlinear, and with a 4th operand (fuse-residual) that residual added to each output in f32.
void bitlinearKernel(OpCall& call) {
  if (call.numOperands() != 4) call.expectOperands(3);
  call.expectDType(0, {DType::I8});
  call.expectDType(1, {DType::F32});
  const TensorView &q = call.in(0), &s = call.in(1), &wv = call.in(2);
  if (!wv.weight || wv.dtype != DType::Ternary) call.error("operand 2 " + wv.describe() + " must be a ternary weight");
  const Weight& w = *wv.weight;
  if (w.type.dims.size() != 2 || !w.type.isStatic()) call.error("weight @" + w.name + " must be a static [N, K] matrix");
  const int64_t N = w.type.dims[0].size, K = w.type.dims[1].size;
  if (!w.data || w.byteSize < w.expectedBytes())
    call.error("weight @" + w.name + " has " + std::to_string(w.byteSize) + " bytes, needs " +
               std::to_string(w.expectedBytes()));
  if (q.shape.empty() || q.shape.back() != K)
    call.error("activations " + q.describe() + " do not match weight @" + w.name + " [" +
               std::to_string(N) + ", " + std::to_string(K) + "]");
  std::vector<int64_t> lead(q.shape.begin(), q.shape.end() - 1);
  if (s.shape != lead) call.error("scales " + s.describe() + " must have shape " + shapeString(lead));
  const int64_t rows = product(lead);
  std::vector<int64_t> outShape = lead;
  outShape.push_back(N);
  HostTensor y = HostTensor::zeros(DType::F32, outShape);
  HostTensor acc = HostTensor::zeros(DType::I32, outShape);
  const int8_t* matrix = call.weightCache ? call.weightCache->ternary(w, call.fault) : nullptr;
  std::vector<int8_t> rowBuf(matrix ? 0 : size_t(K));
  const int8_t* qs = q.as<int8_t>();
  int32_t* accs = acc.as<int32_t>();
  for (int64_t n = 0; n < N; ++n) {
    const int8_t* t = matrix ? matrix + n * K : rowBuf.data();
    if (!matrix) decodeTernaryRow(w, n, call.fault, rowBuf.data());
    for (int64_t r = 0; r < rows; ++r) accs[r * N + n] = dotI8(qs + r * K, t, K);
  }
  ScaleRule rule = w.scaleRule;
  if (call.fault == Fault::DivideScale && rule == ScaleRule::Mul) rule = ScaleRule::Div;  // wrong on purpose
  const float ws = w.scale;
  float* out = y.as<float>();
  for (int64_t r = 0; r < rows; ++r) {
    const float sr = s.as<float>()[r];
    for (int64_t n = 0; n < N; ++n) {
      const float a = float(accs[r * N + n]);
      switch (rule) {
        case ScaleRule::Mul: out[r * N + n] = (a * ws) / sr; break;
        case ScaleRule::Div: out[r * N + n] = a / (ws * sr); break;
        case ScaleRule::None: out[r * N + n] = a / sr; break;
      }
    }
  }
  if (call.numOperands() == 4) {
    const TensorView& res = call.in(3);
    if (res.dtype != DType::F32 || res.shape != outShape)
      call.error("residual " + res.describe() + " must be f32 " + shapeString(outShape));
    const float* rv = res.as<float>();
    for (int64_t i = 0; i < rows * N; ++i) out[i] = out[i] + rv[i];
  }
  call.results.push_back(std::move(y));
  call.accumulators = std::move(acc);
  call.hasAccumulators = true;
}

int64_t scalarPos(const OpCall& call, size_t i) {
  const TensorView& p = call.in(i);
  if (p.dtype != DType::I64 || !p.shape.empty()) call.error("pos " + p.describe() + " must be a scalar i64");
  const int64_t pos = p.intAt(0);
  if (pos < 0) call.error("pos " + std::to_string(pos) + " is negative");
  return pos;
}

void ropeKernel(OpCall& call) {
  call.expectOperands(2);
  call.expectDType(0, {DType::F32});
  call.expectRank(0, 2);
  const TensorView& x = call.in(0);
  const int64_t pos = scalarPos(call, 1);
  const int64_t H = call.op.attrs.getInt("heads"), D = call.op.attrs.getInt("head_dim");
  const float theta = float(call.op.attrs.getFloat("theta"));
  if (H <= 0 || D <= 0 || D % 2 != 0) call.error("heads and head_dim must be positive, head_dim even");
  if (x.shape[1] != H * D)
    call.error("x " + x.describe() + " must have " + std::to_string(H * D) + " columns (heads * head_dim)");
  const int64_t S = x.shape[0], half = D / 2;
  std::vector<float> inv(static_cast<size_t>(half));
  for (int64_t i = 0; i < half; ++i) inv[size_t(i)] = 1.0f / std::pow(theta, float(2 * i) / float(D));
  HostTensor r = HostTensor::zeros(DType::F32, x.shape);
  const float* in = x.as<float>();
  float* out = r.as<float>();
  for (int64_t t = 0; t < S; ++t) {
    const float p = float(pos + t);
    for (int64_t i = 0; i < half; ++i) {
      const float a = p * inv[size_t(i)];
      // cos/sin in double rounded to f32: correctly rounded for all practical purposes.
      const float c = float(std::cos(double(a))), sn = float(std::sin(double(a)));
      for (int64_t h = 0; h < H; ++h) {
        const int64_t base = t * H * D + h * D;
        int64_t i0 = base + i, i1 = base + i + half;                           // rotate_half pairs
        if (call.fault == Fault::InterleavedRope) i0 = base + 2 * i, i1 = base + 2 * i + 1;  // wrong on purpose
        out[i0] = in[i0] * c - in[i1] * sn;
        out[i1] = in[i1] * c + in[i0] * sn;
      }
    }
  }
  call.results.push_back(std::move(r));
}

}  // namespace

// Shared with AttentionOps.
int64_t scalarPosOperand(const OpCall& call, size_t i) { return scalarPos(call, i); }

void registerBitNetOps(KernelTable& table) {
  table["embedding"] = embeddingKernel;
  table["rms_norm"] = rmsNormKernel;
  table["act_quant"] = actQuantKernel;
  table["rms_norm_quant"] = rmsNormQuantKernel;
  table["bitlinear"] = bitlinearKernel;
  table["rope"] = ropeKernel;
}

}  // namespace bitnetc::interp
