// canonicalize: rewrites that never change a value (bit for bit, NaN and -0 included), so later
// passes see one form instead of several:
//  - commutative ops (add, mul, max, min) with a weight first and a computed value second get
//    their operands swapped: the constant is on the right;
//  - max(x, c) / min(x, c) with a scalar-like f32 weight c (and no broadcast) become
//    clip(x) {min = c, max = inf} / {min = -inf, max = c} (same NaN rule: NaN stays NaN), and
//    a clip of a clip with intersecting ranges becomes one clip of the intersection;
//  - div(1, x) becomes reciprocal(x) (both are the f32 division 1 / x);
//  - matmul(a, transpose(b) {perm = [1, 0]}) becomes matmul(a, b) {transpose_b = true} (the same
//    products summed in the same order), so a transposed weight is never materialized;
//  - no-ops go away: reshape and transpose that leave the type (and order) unchanged, cast to
//    the operand's own dtype, mul or div by a scalar-like 1.0 that does not broadcast.
// Rewrites that only hold up to rounding (x / c versus x * (1 / c)) are not done here: the
// pass that needs them (fuse-bitlinear) decides whether the difference matters.
#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "compiler/ir/OpDefs.h"
#include "compiler/patterns/PatternUtils.h"
#include "passes/Passes.h"

namespace bitnetc {

namespace {

bool isCommutative(std::string_view opcode) {
  return opcode == "add" || opcode == "mul" || opcode == "max" || opcode == "min";
}

bool isIdentityPerm(const std::vector<int64_t>& perm) {
  for (size_t i = 0; i < perm.size(); ++i)
    if (perm[i] != int64_t(i)) return false;
  return true;
}

class Canonicalize : public Pass {
 public:
  std::string_view name() const override { return "canonicalize"; }
  std::string_view description() const override {
    return "value-preserving rewrites: constants right, max/min by a scalar as clip, div(1, x) as reciprocal, "
           "transposed matmul operands, no-op reshape/transpose/cast/mul 1";
  }

  void run(Module& module) override {
    for (const auto& f : module.functions()) {
      // Each sweep visits ops in order, so a rewrite's operands are already canonical; a second
      // sweep catches patterns a later rewrite exposed (a removed no-op feeding a transpose).
      for (int sweep = 0; sweep < 4 && sweepFunction(*f); ++sweep) {
      }
    }
  }

 private:
  // Returns true if anything changed.
  bool sweepFunction(Function& f) {
    std::set<const Op*> removed;
    bool changed = false;
    for (const auto& holder : f.ops()) {
      Op& op = *holder;
      if (op.mayWriteState() || op.results.size() != 1) continue;
      if (Value* same = noOpSource(op)) {
        replaceAllUses(f, op.result(), same);
        removed.insert(&op);
        changed = true;
        continue;
      }
      changed |= rewrite(op);
    }
    if (!removed.empty()) f.removeOpsIf([&](const Op& op) { return removed.count(&op) > 0; });
    return changed;
  }

  // The operand an op merely passes through, or nullptr.
  static Value* noOpSource(const Op& op) {
    const Value* r = op.result();
    Value* x = op.operands.empty() ? nullptr : op.operand(0);
    if (!x || !sameType(x->type, r->type)) return nullptr;
    if (op.opcode == "reshape") return x;
    if (op.opcode == "cast") return x;  // to its own dtype (the types are equal)
    if (op.opcode == "transpose" && isIdentityPerm(op.attrs.getInts("perm"))) return x;
    if ((op.opcode == "mul" || op.opcode == "div") && x->type.dtype == DType::F32) {
      const auto one = scalarWeight(op.operand(1));
      if (one && *one == 1.0f) return x;  // x * 1 and x / 1 are x exactly (NaN and -0 too)
    }
    return nullptr;
  }

  static bool rewrite(Op& op) {
    if (isCommutative(op.opcode) && op.operand(0)->isWeight() && !op.operand(1)->isWeight()) {
      std::swap(op.operands[0], op.operands[1]);
      return true;
    }
    if ((op.opcode == "max" || op.opcode == "min") && op.result()->type.dtype == DType::F32 &&
        sameType(op.operand(0)->type, op.result()->type)) {
      const auto c = scalarWeight(op.operand(1));
      if (!c || std::isnan(*c)) return false;
      const double inf = std::numeric_limits<double>::infinity();
      AttributeList attrs;
      attrs.set("min", op.opcode == "max" ? double(*c) : -inf);
      attrs.set("max", op.opcode == "max" ? inf : double(*c));
      op.opcode = "clip";
      op.operands.resize(1);
      op.attrs = std::move(attrs);
      return true;
    }
    if (op.opcode == "clip" && op.result()->type.dtype == DType::F32) {
      // clip(clip(x, a, b), c, d) = clip(x, max(a, c), min(b, d)) when the ranges intersect.
      const Op* inner = producedBy(op.operand(0), "clip");
      if (!inner || !sameType(inner->operand(0)->type, op.result()->type)) return false;
      const double lo = std::max(inner->attrs.getFloat("min"), op.attrs.getFloat("min"));
      const double hi = std::min(inner->attrs.getFloat("max"), op.attrs.getFloat("max"));
      if (!(lo <= hi)) return false;
      AttributeList attrs;
      attrs.set("min", lo);
      attrs.set("max", hi);
      op.operands[0] = inner->operand(0);
      op.attrs = std::move(attrs);
      return true;
    }
    if (op.opcode == "div" && op.result()->type.dtype == DType::F32 &&
        sameType(op.operand(1)->type, op.result()->type)) {
      const auto one = scalarWeight(op.operand(0));
      if (!one || *one != 1.0f) return false;
      op.opcode = "reciprocal";
      op.operands.erase(op.operands.begin());
      return true;
    }
    if (op.opcode == "matmul" && !op.attrs.getBool("transpose_b", false)) {
      const Op* t = producedBy(op.operand(1), "transpose");
      if (!t || t->operand(0)->type.rank() != 2 || t->attrs.getInts("perm") != std::vector<int64_t>{1, 0})
        return false;
      op.operands[1] = t->operand(0);
      AttributeList attrs = op.attrs;
      attrs.set("transpose_b", true);
      op.attrs = std::move(attrs);
      return true;
    }
    return false;
  }
};

}  // namespace

std::unique_ptr<Pass> createCanonicalizePass() { return std::make_unique<Canonicalize>(); }

}  // namespace bitnetc
