// Numpy broadcasting for the elementwise kernels (ElementwiseOps, CompareOps): the result
// shape, operand strides aligned to it, and a walk over every result element.
#pragma once
#include <algorithm>
#include <vector>

#include "compiler/interp/Kernels.h"

namespace bitnetc::interp {

inline std::vector<int64_t> broadcastShape(const OpCall& call, const std::vector<int64_t>& a,
                                    const std::vector<int64_t>& b) {
  const size_t rank = std::max(a.size(), b.size());
  std::vector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      call.error("shapes " + shapeString(a) + " and " + shapeString(b) + " do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

// Strides of `shape` aligned to the output rank, 0 on broadcast dims.
inline std::vector<int64_t> broadcastStrides(const std::vector<int64_t>& shape, const std::vector<int64_t>& out) {
  std::vector<int64_t> strides(out.size(), 0);
  int64_t stride = 1;
  for (size_t k = shape.size(); k-- > 0;) {
    const size_t o = k + (out.size() - shape.size());
    strides[o] = shape[k] == 1 ? 0 : stride;
    stride *= shape[k];
  }
  return strides;
}

// Calls f(outIndex, aIndex, bIndex) for every output element.
template <typename F>
inline void forEachBroadcast(const std::vector<int64_t>& out, const std::vector<int64_t>& sa,
                      const std::vector<int64_t>& sb, F f) {
  const int64_t n = product(out);
  if (n == 0) return;
  std::vector<int64_t> idx(out.size(), 0);
  int64_t ia = 0, ib = 0;
  for (int64_t i = 0; i < n; ++i) {
    f(i, ia, ib);
    for (size_t d = out.size(); d-- > 0;) {
      ++idx[d];
      ia += sa[d];
      ib += sb[d];
      if (idx[d] < out[d]) break;
      ia -= sa[d] * out[d];
      ib -= sb[d] * out[d];
      idx[d] = 0;
    }
  }
}

}  // namespace bitnetc::interp
