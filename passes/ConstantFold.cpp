// constant-fold: evaluates every op whose operands are all weights with the interpreter's kernels
// (so a folded value is bit-identical to what the unfolded graph computes) and replaces its
// results by new owned weights. This turns online weight-quantization chains on float
// initializers (Abs, ReduceMean, Clip, Div, Mul, Round, Clip -1..1, Div back; Transpose) into
// plain float weights holding ternary-times-one-scale values, which fuse-bitlinear recognizes.
//
// Size rule: a result is folded when it is at most 64 MiB or no larger than its largest weight
// operand. Chains on an initializer (elementwise, reductions, transposes) always fold, since the
// folded weight replaces one of the same size; what would grow the weights (an expand or a
// range of a scalar to a huge tensor) beyond 64 MiB stays an op and is reported with -v.
// Intermediate weights this pass made are dropped as soon as nothing reads them, so a chain of
// ops on one initializer holds at most two copies of it at a time.
#include <set>

#include "compiler/interp/Interpreter.h"
#include "compiler/support/Error.h"
#include "compiler/patterns/PatternUtils.h"
#include "passes/Passes.h"

namespace bitnetc {

namespace {

constexpr uint64_t kMaxGrowthBytes = uint64_t(64) << 20;

uint64_t typeBytes(const TensorType& t) {
  if (t.dtype == DType::Ternary) return 0;
  return uint64_t(t.numElementsUpperBound()) * dtypeSize(t.dtype);
}

class ConstantFold : public Pass {
 public:
  std::string_view name() const override { return "constant-fold"; }
  std::string_view description() const override {
    return "evaluate ops whose operands are all weights (with the interpreter's kernels) into new weights";
  }

  void run(Module& module) override {
    for (const auto& f : module.functions()) foldFunction(module, *f);
  }

 private:
  // Why `op` cannot be folded, or empty when it can.
  std::string obstacle(const Op& op) const {
    if (op.operands.empty() || op.mayWriteState()) return "-";
    uint64_t largestOperand = 0;
    for (const Value* v : op.operands) {
      if (!v->isWeight() || !v->weight) return "-";
      largestOperand = std::max<uint64_t>(largestOperand, v->weight->byteSize);
    }
    uint64_t bytes = 0;
    for (const Value* r : op.results) {
      if (!r->type.isStatic() || r->type.dtype == DType::Ternary) return "its result type " + r->type.str() + " is not static";
      bytes += typeBytes(r->type);
    }
    if (bytes > kMaxGrowthBytes && bytes > largestOperand)
      return "its result of " + std::to_string(bytes) + " bytes would add more than 64 MiB of weights";
    return {};
  }

  // Evaluates op on its weight operands in a scratch module (the weights share their bytes).
  static std::vector<HostTensor> evaluate(const Op& op) {
    Module scratch;
    std::vector<Value*> operands;
    for (const Value* v : op.operands) {
      Value* w = scratch.weightValue(v->name);
      operands.push_back(w ? w : scratch.addWeight(*v->weight));
    }
    Function* f = scratch.addFunction("fold");
    std::vector<std::pair<std::string, TensorType>> results;
    for (const Value* r : op.results) results.emplace_back(r->name, r->type);
    Op* copy = f->addOp(op.opcode, operands, results, op.attrs);
    f->setOutputs(copy->results);
    InterpreterOptions options;
    options.weightCacheBytes = 0;  // each op runs once: decoding whole weights up front buys nothing
    return Interpreter(scratch, *f, options).run({});
  }

  void foldFunction(Module& module, Function& f) {
    std::map<const Value*, int> uses = countUses(f);
    std::set<std::string> made;  // weights this pass created, dropped once unused
    std::set<const Op*> folded;
    uint64_t foldedBytes = 0;
    for (const auto& op : f.ops()) {
      bool used = false;  // a dead op (e.g. a transpose canonicalize bypassed) is left to dce
      for (const Value* r : op->results) used = used || uses[r] > 0;
      if (!used) continue;
      const std::string why = obstacle(*op);
      if (why == "-") continue;
      if (!why.empty()) {
        remark("not folded ", op->describe(), ": ", why);
        continue;
      }
      std::vector<HostTensor> values;
      try {
        values = evaluate(*op);
      } catch (const Error& e) {
        // A constant op that fails to evaluate (e.g. a gather index out of range) would fail at
        // run time too; leave it in place so the error surfaces where it belongs.
        remark("not folded ", op->describe(), ": ", e.what());
        continue;
      }
      for (size_t i = 0; i < op->results.size(); ++i) {
        Value* r = op->results[i];
        const std::string name = freshWeightName(module, r->name);
        foldedBytes += values[i].bytes.size();
        Value* w = module.addWeight(makeOwnedWeight(name, r->type, std::move(values[i].bytes)));
        made.insert(name);
        uses[w] = uses[r];
        replaceAllUses(f, r, w);
      }
      folded.insert(op.get());
      for (const Value* v : op->operands)
        if (--uses[v] == 0 && made.count(v->name)) module.removeWeight(v->name);
    }
    if (folded.empty()) return;
    f.removeOpsIf([&](const Op& op) { return folded.count(&op) > 0; });
    remark("@", f.name(), ": folded ", folded.size(), " ops into weights (", foldedBytes, " bytes)");
  }
};

}  // namespace

std::unique_ptr<Pass> createConstantFoldPass() { return std::make_unique<ConstantFold>(); }

}  // namespace bitnetc
