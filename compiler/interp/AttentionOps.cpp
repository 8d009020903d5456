// attention with KV-cache state: writes k, v rows t at cache rows pos + t, then each query row t
// and head h attends causally to cache rows 0 .. pos + t of kv head h / (heads / kv_heads).
// The f32 order (docs/IR.md): q . k and sum_j p_j v_j in f32, each product rounded to f32 and
// added in order (d = 0, 1, .. for q . k; j = 0, 1, .. for every output dim; no fused
// multiply-add, -ffp-contract=off); the softmax sum in fp64, j in order.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "compiler/interp/Kernels.h"

namespace bitnetc::interp {
namespace {

void attentionKernel(OpCall& call) {
  call.expectOperands(6);
  for (size_t i = 0; i < 5; ++i) call.expectDType(i, {DType::F32});
  for (size_t i = 0; i < 3; ++i) call.expectRank(i, 2);
  for (size_t i = 3; i < 5; ++i) {
    call.expectRank(i, 3);
    if (!call.states[i]) call.error("operand " + call.in(i).describe() + " must be a state value (the KV cache)");
  }
  const int64_t pos = scalarPosOperand(call, 5);
  const int64_t Hq = call.op.attrs.getInt("heads"), Hkv = call.op.attrs.getInt("kv_heads"),
                D = call.op.attrs.getInt("head_dim");
  const float scale = float(call.op.attrs.getFloat("scale"));
  if (Hq <= 0 || Hkv <= 0 || D <= 0 || Hq % Hkv != 0)
    call.error("heads must be a positive multiple of kv_heads, head_dim positive");
  const TensorView &q = call.in(0), &k = call.in(1), &v = call.in(2);
  const int64_t S = q.shape[0];
  if (q.shape[1] != Hq * D) call.error("q " + q.describe() + " must have heads * head_dim columns");
  for (const TensorView* x : {&k, &v})
    if (x->shape[0] != S || x->shape[1] != Hkv * D)
      call.error(x->describe() + " must be [" + std::to_string(S) + ", " + std::to_string(Hkv * D) + "]");
  HostTensor& kc = *call.states[3];
  HostTensor& vc = *call.states[4];
  const int64_t C = kc.shape[0];
  if (kc.shape != std::vector<int64_t>{C, Hkv, D} || vc.shape != kc.shape)
    call.error("caches must be [C, " + std::to_string(Hkv) + ", " + std::to_string(D) + "], are " +
               shapeString(kc.shape) + " and " + shapeString(vc.shape));
  if (pos + S > C)
    call.error("context overflow: pos " + std::to_string(pos) + " + " + std::to_string(S) +
               " tokens exceeds the cache length " + std::to_string(C));
  // 1. Write the new keys and values.
  const int64_t writeRow = call.fault == Fault::CacheAtZero ? 0 : pos;  // 0 is wrong on purpose
  std::memcpy(kc.as<float>() + writeRow * Hkv * D, k.data, size_t(S * Hkv * D) * 4);
  std::memcpy(vc.as<float>() + writeRow * Hkv * D, v.data, size_t(S * Hkv * D) * 4);
  // 2. Causal attention over the cache.
  const float* kcache = kc.as<float>();
  const float* vcache = vc.as<float>();
  const float* qs = q.as<float>();
  HostTensor r = HostTensor::zeros(DType::F32, q.shape);
  float* out = r.as<float>();
  const int64_t group = Hq / Hkv;
  std::vector<float> scores(size_t(pos + S));
  std::vector<float> acc(static_cast<size_t>(D));
  for (int64_t t = 0; t < S; ++t) {
    const int64_t len = pos + t + 1;
    for (int64_t h = 0; h < Hq; ++h) {
      int64_t kvh = h / group;
      if (call.fault == Fault::GqaModulo) kvh = h % Hkv;  // wrong on purpose
      const float* qh = qs + t * Hq * D + h * D;
      float m = -std::numeric_limits<float>::infinity();
      for (int64_t j = 0; j < len; ++j) {
        const float* kj = kcache + (j * Hkv + kvh) * D;
        float dot = 0;
        for (int64_t d = 0; d < D; ++d) dot += qh[d] * kj[d];
        scores[size_t(j)] = dot * scale;
        m = std::max(m, scores[size_t(j)]);
      }
      double sum = 0;
      for (int64_t j = 0; j < len; ++j) sum += scores[size_t(j)] = std::exp(scores[size_t(j)] - m);
      std::fill(acc.begin(), acc.end(), 0.0f);
      for (int64_t j = 0; j < len; ++j) {
        const float p = float(double(scores[size_t(j)]) / sum);
        const float* vj = vcache + (j * Hkv + kvh) * D;
        for (int64_t d = 0; d < D; ++d) acc[size_t(d)] += p * vj[d];
      }
      for (int64_t d = 0; d < D; ++d) out[t * Hq * D + h * D + d] = acc[size_t(d)];
    }
  }
  call.results.push_back(std::move(r));
}

}  // namespace

void registerAttentionOps(KernelTable& table) { table["attention"] = attentionKernel; }

}  // namespace bitnetc::interp
