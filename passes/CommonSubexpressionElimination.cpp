// cse: merges ops with the same opcode, operands, attributes and result types into the first
// one, so e.g. the q/k/v BitLinears of a layer share one act_quant. Ops with a state operand are
// never merged: each may write the state.
#include <algorithm>
#include <map>
#include <set>

#include "compiler/ir/Printer.h"
#include "passes/Passes.h"

namespace bitnetc {

namespace {

// Identity of an op's computation. Operands are compared by address (values are unique), and
// attributes by their printed form, independent of their order.
std::string opKey(const Op& op) {
  std::string key = op.opcode + "(";
  for (const Value* v : op.operands) key += std::to_string(reinterpret_cast<uintptr_t>(v)) + ",";
  std::vector<std::string> attrs;
  for (const auto& [name, value] : op.attrs.entries()) attrs.push_back(name + "=" + printAttribute(value));
  std::sort(attrs.begin(), attrs.end());
  key += ")";
  for (const std::string& a : attrs) key += a + ";";
  for (const Value* r : op.results) key += ":" + r->type.str();
  return key;
}

class CommonSubexpressionElimination : public Pass {
 public:
  std::string_view name() const override { return "cse"; }
  std::string_view description() const override {
    return "merge ops with the same opcode, operands and attributes (never ops with state operands)";
  }

  void run(Module& module) override {
    for (const auto& f : module.functions()) {
      std::map<std::string, const Op*> first;
      std::map<Value*, Value*> replacement;
      std::set<const Op*> merged;
      for (const auto& op : f->ops()) {
        for (Value*& v : op->operands)
          if (auto it = replacement.find(v); it != replacement.end()) v = it->second;
        if (op->mayWriteState()) continue;
        auto [it, inserted] = first.emplace(opKey(*op), op.get());
        if (inserted) continue;
        for (size_t i = 0; i < op->results.size(); ++i) replacement[op->results[i]] = it->second->results[i];
        merged.insert(op.get());
      }
      if (merged.empty()) continue;
      std::vector<Value*> outputs = f->outputs();
      for (Value*& v : outputs)
        if (auto it = replacement.find(v); it != replacement.end()) v = it->second;
      f->setOutputs(std::move(outputs));
      f->removeOpsIf([&](const Op& op) { return merged.count(&op) > 0; });
    }
  }
};

}  // namespace

std::unique_ptr<Pass> createCommonSubexpressionEliminationPass() {
  return std::make_unique<CommonSubexpressionElimination>();
}

}  // namespace bitnetc
