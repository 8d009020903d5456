// The bounded cache of decoded weights (see Kernels.h).
#include "compiler/interp/Kernels.h"

namespace bitnetc::interp {

const int8_t* WeightCache::ternary(const Weight& w, Fault fault) {
  auto it = ternary_.find(&w);
  if (it != ternary_.end()) return it->second.data();
  const int64_t out = w.type.dims.at(0).size, in = w.type.dims.at(1).size;
  const size_t bytes = size_t(out * in);
  if (used_ + bytes > budget_) return nullptr;
  std::vector<int8_t> m(bytes);
  for (int64_t n = 0; n < out; ++n) decodeTernaryRow(w, n, fault, m.data() + n * in);
  used_ += bytes;
  return ternary_.emplace(&w, std::move(m)).first->second.data();
}

const float* WeightCache::floats(const Weight& w) {
  if (w.type.dtype != DType::BF16 && w.type.dtype != DType::F16) return nullptr;
  auto it = floats_.find(&w);
  if (it != floats_.end()) return it->second.data();
  const size_t bytes = size_t(w.numElements()) * 4;
  if (used_ + bytes > budget_) return nullptr;
  std::vector<float> f = w.toFloats();
  used_ += bytes;
  return floats_.emplace(&w, std::move(f)).first->second.data();
}

}  // namespace bitnetc::interp
