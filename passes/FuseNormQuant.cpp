// fuse-norm-quant: `%y = rms_norm(%x, W) {eps}` whose only reader is `%q, %s = act_quant(%y)`
// becomes `%q, %s = rms_norm_quant(%x, W) {eps}` (docs/IR.md): the same operations, one pass
// over the activation instead of writing %y and reading it back. BitNet normalizes the input
// of every quantized projection this way (the input norms before q/k/v and gate/up, the
// sub-norms before o_proj and down_proj). A %y that anything else reads (a function output,
// another op) stays as it is; run after cse, which merges the act_quants q/k/v share.
#include <algorithm>

#include "compiler/patterns/PatternUtils.h"
#include "passes/Passes.h"

namespace bitnetc {
namespace {

class FuseNormQuant : public Pass {
 public:
  std::string_view name() const override { return "fuse-norm-quant"; }
  std::string_view description() const override {
    return "fuse rms_norm into the act_quant that is its only reader (rms_norm_quant)";
  }

  void run(Module& module) override {
    for (const auto& f : module.functions()) {
      const std::map<const Value*, int> uses = countUses(*f);
      std::vector<const Op*> fused;  // the rms_norms now inside an rms_norm_quant
      for (const auto& op : f->ops()) {
        if (op->opcode != "act_quant") continue;
        Op* norm = producedBy(op->operand(0), "rms_norm");
        if (!norm || uses.at(op->operand(0)) != 1) continue;
        op->opcode = "rms_norm_quant";
        op->operands = norm->operands;
        op->attrs = norm->attrs;
        fused.push_back(norm);
      }
      f->removeOpsIf([&](const Op& op) { return std::find(fused.begin(), fused.end(), &op) != fused.end(); });
    }
  }
};

}  // namespace

std::unique_ptr<Pass> createFuseNormQuantPass() { return std::make_unique<FuseNormQuant>(); }

}  // namespace bitnetc
