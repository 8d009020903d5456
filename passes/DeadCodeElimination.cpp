// dce: removes ops none of whose results is used, then weights no op or output refers to.
// An op with a state operand is never removed: it may write the state (attention appends to the
// KV cache even when its output is unused, and later calls read that cache).
#include <set>

#include "passes/Passes.h"

namespace bitnetc {

namespace {

class DeadCodeElimination : public Pass {
 public:
  std::string_view name() const override { return "dce"; }
  std::string_view description() const override {
    return "remove ops whose results are unused (and that write no state) and unreferenced weights";
  }

  void run(Module& module) override {
    std::set<std::string> usedWeights;
    for (const auto& f : module.functions()) {
      std::set<const Value*> used(f->outputs().begin(), f->outputs().end());
      std::set<const Op*> dead;
      // Walk backwards so an op's operands are marked before their producers are visited.
      for (auto it = f->ops().rbegin(); it != f->ops().rend(); ++it) {
        const Op& op = **it;
        bool live = op.mayWriteState();
        for (const Value* r : op.results) live = live || used.count(r);
        if (!live) {
          dead.insert(&op);
          continue;
        }
        used.insert(op.operands.begin(), op.operands.end());
      }
      f->removeOpsIf([&](const Op& op) { return dead.count(&op) > 0; });
      for (const Value* v : used)
        if (v->isWeight()) usedWeights.insert(v->name);
    }
    std::vector<std::string> unused;
    for (const auto& w : module.weights())
      if (!usedWeights.count(w->name)) unused.push_back(w->name);
    for (const std::string& name : unused) module.removeWeight(name);
  }
};

}  // namespace

std::unique_ptr<Pass> createDeadCodeEliminationPass() { return std::make_unique<DeadCodeElimination>(); }

}  // namespace bitnetc
