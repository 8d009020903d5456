// The static memory plan of one function: every op result that is not written straight into
// an output buffer gets an offset in call->scratch, sized for its dims at the planning bounds
// (LanguageModel.h). Values whose live ranges (defining op .. last op reading it) overlap never
// share bytes; others may, so scratch is about the peak of live values, not their sum. An op's
// results never overlap its operands (kernels need not support in-place updates).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "compiler/ir/IR.h"

namespace bitnetc::target {

inline constexpr uint64_t kScratchAlignment = 64;

struct MemoryPlan {
  struct Slot {
    const Value* value;
    uint64_t offset;  // in scratch, a multiple of kScratchAlignment
    uint64_t bytes;   // the value's size at the planning bounds
    size_t firstOp;   // index of the op defining the value
    size_t lastOp;    // index of the last op reading it (firstOp when none does)
  };
  std::vector<Slot> slots;  // in definition order
  // Results that the first output naming them receives directly: value -> output index.
  std::map<const Value*, size_t> directOutputs;
  uint64_t scratchBytes = 0;  // a multiple of kScratchAlignment
  // The dim sizes the plan holds for (each dynamic dim by name): a call with a larger one would
  // overrun scratch, so the entry refuses it.
  std::map<std::string, int64_t> bounds;

  const Slot* find(const Value* v) const;  // nullptr for values not in scratch

 private:
  friend MemoryPlan planMemory(const Function&, const std::map<std::string, int64_t>&);
  std::map<const Value*, size_t> index_;
};

// Bytes of a tensor of `type` with each dynamic dim at bounds[name] (throws when a bound is
// missing or the size overflows).
uint64_t plannedBytes(const TensorType& type, const std::map<std::string, int64_t>& bounds);

MemoryPlan planMemory(const Function& function, const std::map<std::string, int64_t>& bounds);

}  // namespace bitnetc::target
