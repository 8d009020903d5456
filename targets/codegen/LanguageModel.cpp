#include "targets/codegen/LanguageModel.h"

#include <algorithm>

#include "compiler/support/Error.h"

namespace bitnetc::target {

std::optional<LanguageModelInfo> findLanguageModel(const Module& module, int64_t maxBatch) {
  if (maxBatch < 1) fail("max batch ", maxBatch, " is not positive");
  if (!module.attrs.has("architecture")) return std::nullopt;
  const Function* f = module.function("forward");
  if (!f || f->inputs().size() != 2 || f->outputs().size() != 1) return std::nullopt;
  const Value* tokens = f->inputs()[0];
  const Value* pos = f->inputs()[1];
  if (tokens->name != "tokens" || pos->name != "pos") return std::nullopt;
  if (tokens->type.dtype != DType::I32 || tokens->type.rank() != 1 ||
      !tokens->type.dims[0].isDynamic())
    return std::nullopt;
  if (pos->type != TensorType(DType::I64, {})) return std::nullopt;
  const TensorType& logits = f->outputs()[0]->type;
  if (logits.dtype != DType::F32 || logits.rank() != 2 || logits.dims[0] != tokens->type.dims[0] ||
      logits.dims[1].isDynamic())
    return std::nullopt;
  const Dim& seq = tokens->type.dims[0];
  return LanguageModelInfo{f, seq.name, seq.max, std::min(seq.max, maxBatch)};
}

std::map<std::string, int64_t> planningBounds(const Module& module, const Function& function,
                                              int64_t maxBatch) {
  std::map<std::string, int64_t> bounds;
  for (const auto& [name, max] : module.dims()) bounds[name] = max;
  // The runtime calls @forward and @forward_last (the last-row-logits pass) alike, with chunks
  // of at most max_batch tokens; @forward_last planned at the context length used to need more
  // scratch than @forward, and the runtime then refused it (every prefill paid the LM head on
  // every row).
  if (auto lm = findLanguageModel(module, maxBatch);
      lm && (lm->forward == &function || function.name() == "forward_last"))
    bounds[lm->seqDim] = lm->maxBatch;
  return bounds;
}

}  // namespace bitnetc::target
