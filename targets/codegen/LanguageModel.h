// Recognizes the language-model shape of docs/IR.md (module attribute `architecture` and a
// function @forward(%tokens: tensor<?seq x i32>, %pos: tensor<i64>) -> (tensor<?seq x V x f32>))
// and gives the bounds the memory plan uses for each dynamic dim: an LM's forward is called with
// at most max_batch tokens (the runtime splits longer prefills), and so is @forward_last; every
// other dim at its bound.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "compiler/ir/IR.h"

namespace bitnetc::target {

struct LanguageModelInfo {
  const Function* forward = nullptr;
  std::string seqDim;     // the name of tokens' dynamic dim ("seq")
  int64_t seqMax = 0;     // its declared bound (the context length)
  int64_t maxBatch = 0;   // tokens per call: min(seqMax, the requested max batch)
};

// nullopt for a generic graph. maxBatch must be >= 1.
std::optional<LanguageModelInfo> findLanguageModel(const Module& module, int64_t maxBatch);

// The size every module dim takes when planning `function`'s memory, by dim name.
std::map<std::string, int64_t> planningBounds(const Module& module, const Function& function,
                                              int64_t maxBatch);

}  // namespace bitnetc::target
