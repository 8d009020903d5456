#include "targets/codegen/MemoryPlan.h"

#include <algorithm>

#include "compiler/support/Error.h"

namespace bitnetc::target {
namespace {

constexpr uint64_t kMaxBytes = uint64_t(1) << 62;

uint64_t roundUp(uint64_t n, uint64_t a) { return (n + a - 1) / a * a; }

// Space a slot reserves: at least one alignment unit, so every slot has a distinct extent.
uint64_t reserved(uint64_t bytes) { return roundUp(std::max<uint64_t>(bytes, 1), kScratchAlignment); }

bool overlapInTime(const MemoryPlan::Slot& a, const MemoryPlan::Slot& b) {
  return a.firstOp <= b.lastOp && b.firstOp <= a.lastOp;
}

}  // namespace

const MemoryPlan::Slot* MemoryPlan::find(const Value* v) const {
  auto it = index_.find(v);
  return it == index_.end() ? nullptr : &slots[it->second];
}

uint64_t plannedBytes(const TensorType& type, const std::map<std::string, int64_t>& bounds) {
  if (type.dtype == DType::Ternary) fail("a ternary ", type.str(), " is not a planned value");
  uint64_t n = dtypeSize(type.dtype);
  for (const Dim& d : type.dims) {
    int64_t size = d.size;
    if (d.isDynamic()) {
      auto it = bounds.find(d.name);
      if (it == bounds.end()) fail("dynamic dim ?", d.name, " of ", type.str(), " has no bound");
      size = it->second;
    }
    if (size != 0 && n > kMaxBytes / uint64_t(size))
      fail(type.str(), " is too large to plan (over 2^62 bytes)");
    n *= uint64_t(size);
  }
  return n;
}

MemoryPlan planMemory(const Function& function, const std::map<std::string, int64_t>& bounds) {
  MemoryPlan plan;
  plan.bounds = bounds;
  const auto& outputs = function.outputs();
  for (size_t j = 0; j < outputs.size(); ++j)
    if (outputs[j]->kind == Value::Kind::Result) plan.directOutputs.emplace(outputs[j], j);

  // Live ranges, in definition order.
  const auto& ops = function.ops();
  for (size_t i = 0; i < ops.size(); ++i) {
    for (const Value* r : ops[i]->results) {
      if (plan.directOutputs.count(r)) continue;
      plan.index_[r] = plan.slots.size();
      plan.slots.push_back({r, 0, plannedBytes(r->type, bounds), i, i});
    }
    for (const Value* v : ops[i]->operands)
      if (auto it = plan.index_.find(v); it != plan.index_.end())
        plan.slots[it->second].lastOp = i;
  }

  // Largest first, each at the lowest offset clear of every placed slot live at the same time.
  std::vector<size_t> order(plan.slots.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return reserved(plan.slots[a].bytes) > reserved(plan.slots[b].bytes);
  });
  std::vector<size_t> placed;
  for (size_t s : order) {
    MemoryPlan::Slot& slot = plan.slots[s];
    std::vector<std::pair<uint64_t, uint64_t>> busy;  // [begin, end) of conflicting slots
    for (size_t p : placed)
      if (overlapInTime(slot, plan.slots[p]))
        busy.push_back({plan.slots[p].offset, plan.slots[p].offset + reserved(plan.slots[p].bytes)});
    std::sort(busy.begin(), busy.end());
    uint64_t offset = 0;
    for (const auto& [begin, end] : busy) {
      if (offset + reserved(slot.bytes) <= begin) break;
      offset = std::max(offset, end);
    }
    if (offset > kMaxBytes) fail("@", function.name(), ": scratch over 2^62 bytes");
    slot.offset = offset;
    plan.scratchBytes = std::max(plan.scratchBytes, offset + reserved(slot.bytes));
    placed.push_back(s);
  }
  return plan;
}

}  // namespace bitnetc::target
