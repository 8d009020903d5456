// fuse-residual: `%y = bitlinear(%q, %s, W)` whose only reader is `%h = add(%y, %r)` (or
// add(%r, %y)) of the same type becomes `%h = bitlinear(%q, %s, W, %r)` (docs/IR.md): the kernel
// adds the residual as it writes each output (the same f32 add; addition commutes bit for bit),
// so %y is never written and read back. BitNet adds o_proj and down_proj to the residual stream
// this way in every layer. An add that broadcasts, or a %y anything else reads, stays.
#include <algorithm>

#include "compiler/patterns/PatternUtils.h"
#include "passes/Passes.h"

namespace bitnetc {
namespace {

class FuseResidual : public Pass {
 public:
  std::string_view name() const override { return "fuse-residual"; }
  std::string_view description() const override {
    return "fuse an add of a bitlinear's result into the bitlinear (its residual operand)";
  }

  void run(Module& module) override {
    for (const auto& f : module.functions()) {
      const std::map<const Value*, int> uses = countUses(*f);
      std::vector<const Op*> fused;  // the bitlinears now inside an add's place
      for (const auto& op : f->ops()) {
        if (op->opcode != "add" || op->operands.size() != 2 || op->operand(0) == op->operand(1)) continue;
        for (int side = 0; side < 2; ++side) {
          Op* linear = producedBy(op->operand(side), "bitlinear");
          Value* residual = op->operands[1 - side];
          if (!linear || linear->operands.size() != 3 || uses.at(op->operand(side)) != 1 ||
              residual->type != op->operand(side)->type || op->results[0]->type != residual->type)
            continue;
          op->opcode = "bitlinear";
          op->operands = {linear->operands[0], linear->operands[1], linear->operands[2], residual};
          op->attrs = linear->attrs;
          fused.push_back(linear);
          break;
        }
      }
      f->removeOpsIf([&](const Op& op) { return std::find(fused.begin(), fused.end(), &op) != fused.end(); });
    }
  }
};

}  // namespace

std::unique_ptr<Pass> createFuseResidualPass() { return std::make_unique<FuseResidual>(); }

}  // namespace bitnetc
