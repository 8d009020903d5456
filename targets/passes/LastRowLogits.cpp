// last-row-logits: a language model's prefill usually wants the logits of its last token only
// (BITNET_LOGITS_LAST) or none, yet @forward computes them for every row: the LM head (vocab x
// hidden) is the largest GEMV, and in a prefill of S tokens it is an S-row GEMM whose rows are
// thrown away. This pass adds @forward_last: a copy of @forward whose logits matmul has
// `last_row = true` (a [S, K] -> [1, N], docs/IR.md; and the int8 head's row-scale mul on that
// one row), so it computes the last row only. The
// runtime calls it when the caller does not want every row (runtime/eval.c); every op before the
// head is the same, so its row is bit-identical to @forward's last row.
// The pass does nothing on modules without an LM-shaped @forward (generic graphs) or that
// already have @forward_last.
#include "compiler/support/Error.h"
#include "targets/passes/LmHeadPasses.h"

#include <unordered_map>

namespace bitnetc::target {
namespace {

constexpr const char* kSource = "forward";
constexpr const char* kLastRow = "forward_last";

// The LM head of @forward: the op producing its only output, matmul(x [S, K], b [N, K]), or
// mul(matmul(...), scale [N]) (quantize-lm-head). Null when the function has another shape.
struct Head {
  const Op* matmul = nullptr;
  const Op* mul = nullptr;  // the row scales, or null
};

Head findHead(const Function& f) {
  if (f.outputs().size() != 1) return {};
  Head h;
  const Op* op = f.outputs()[0]->producer;
  if (op && op->opcode == "mul" && op->operands.size() == 2 && op->operand(1)->type.rank() == 1) {
    h.mul = op;
    op = op->operand(0)->producer;
    for (const auto& other : f.ops())  // the matmul's result must feed the mul only
      for (const Value* v : other->operands)
        if (op && v == op->result(0) && other.get() != h.mul) return {};
  }
  if (!op || op->opcode != "matmul" || op->attrs.getBool("last_row", false)) return {};
  if (op->operands.size() != 2 || op->operand(0)->type.rank() != 2 || op->operand(1)->type.rank() != 2)
    return {};
  h.matmul = op;
  return h;
}

class LastRowLogitsPass : public Pass {
 public:
  std::string_view name() const override { return "last-row-logits"; }
  std::string_view description() const override {
    return "adds @forward_last: @forward with the logits of the last row only (prefill)";
  }

  void run(Module& module) override {
    const Function* src = module.function(kSource);
    if (!src || module.function(kLastRow)) return;
    const Head head = findHead(*src);
    if (!head.matmul) return;
    Function* dst = module.addFunction(kLastRow);
    std::unordered_map<const Value*, Value*> map;
    auto mapped = [&](Value* v) -> Value* {
      if (v->isWeight()) return v;  // module-level: shared by both functions
      auto it = map.find(v);
      if (it == map.end()) fail("last-row-logits: @", kSource, " uses ", v->ref(), " before defining it");
      return it->second;
    };
    for (Value* in : src->inputs()) map[in] = dst->addInput(in->name, in->type);
    for (Value* st : src->states()) map[st] = dst->addState(st->name, st->type);
    for (const auto& op : src->ops()) {
      std::vector<Value*> operands;
      for (Value* v : op->operands) operands.push_back(mapped(v));
      std::vector<std::pair<std::string, TensorType>> results;
      AttributeList attrs = op->attrs;
      for (Value* r : op->results) results.emplace_back(r->name, r->type);
      if (op.get() == head.matmul || op.get() == head.mul) {  // [S, N] -> [1, N]
        if (op.get() == head.matmul) attrs.set("last_row", true);
        results[0].second = TensorType(DType::F32, {Dim::fixed(1), op->result(0)->type.dims.back()});
      }
      Op* copy = dst->addOp(op->opcode, std::move(operands), std::move(results), std::move(attrs));
      for (size_t i = 0; i < op->results.size(); ++i) map[op->results[i]] = copy->results[i];
    }
    dst->setOutputs({mapped(src->outputs()[0])});
  }
};

}  // namespace

std::unique_ptr<Pass> createLastRowLogitsPass() { return std::make_unique<LastRowLogitsPass>(); }

}  // namespace bitnetc::target
