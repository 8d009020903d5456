#include "compiler/ir/WeightTraffic.h"

#include <algorithm>
#include <map>

namespace bitnetc {

int64_t weightBytesPerToken(const Function& function) {
  std::map<const Value*, int64_t> bytes;  // per weight: the most any of its uses reads
  for (const auto& op : function.ops())
    for (size_t i = 0; i < op->operands.size(); ++i) {
      const Value* v = op->operands[i];
      if (!v->isWeight()) continue;
      const int64_t whole = int64_t(v->weight->byteSize);
      const int64_t rows = v->type.rank() >= 1 ? v->type.dims[0].size : 1;
      const bool gatherTable = op->opcode == "embedding" && i == 1 && rows > 0;
      const int64_t read = gatherTable ? whole / rows : whole;
      int64_t& b = bytes[v];
      b = std::max(b, read);
    }
  int64_t total = 0;
  for (const auto& [v, b] : bytes) total += b;
  return total;
}

int64_t stateBytesPerToken(const Function& function) {
  int64_t total = 0;
  for (const Value* state : function.states()) {
    const TensorType& t = state->type;
    int64_t bytes = int64_t(dtypeSize(t.dtype));
    for (size_t d = 1; d < t.rank(); ++d) bytes *= t.dims[d].upperBound();
    total += bytes;
  }
  return total;
}

}  // namespace bitnetc
