// fuse-bitlinear: turns BitNet layers written out as float (or integer) ops back into
// act_quant + bitlinear, so they run on the ternary kernels:
//
//   fake-quant:  matmul(q / s, W)  [* ws | / ws]    W a float weight [K, N] (or [N, K] with
//                                                    transpose_b) holding T * a, T in {-1, 0, 1}
//   -> %x.q8, %x.qs = act_quant(%x);  bitlinear(%x.q8, %x.qs, @W.ternary)
//
// with q / s the chain of FakeQuantMatch.h. The new weight is T [N, K] packed straight into
// "hf_blocked_2bit" (owned); its scale is a (rule mul), or a * ws when that product is exact in
// f32, or ws with rule div when a = 1 and the matmul is divided by ws. A trailing mul/div that
// cannot be absorbed exactly (or by a per-channel vector) stays a float op after the bitlinear.
//
// What fusing changes: the float chain computes sum_k f32(q_k / s) * W[k, n] (f64 sum, rounded
// to f32); bitlinear computes (f32(sum_k q_k T[k, n]) * a) / s exactly per docs/IR.md. With the
// same q, the two differ only by the rounding of q_k / s (and of reciprocal forms) and of the
// final products: |fused - float| <= 2^-20 * (a / s) * sum_k |q_k T[k, n]| (test/unit/
// passes_fuse_bitlinear_test.cpp checks it). Where the chain computes s as 127 * (1 / c) instead
// of 127 / c, s may differ by an ulp and a q_k exactly at a rounding boundary by one step.
// Non-finite activations: the float chain gives NaN, act_quant gives q = 0.
//
// Every matmul gets one -v remark: fused, or why not (the first mismatch found). Fused ops leave
// the float chain dead (dce removes it); identical act_quants of one activation merge in cse.
#include <cmath>
#include <map>
#include <sstream>
#include <tuple>

#include "compiler/ir/OpDefs.h"
#include "passes/FakeQuantMatch.h"
#include "passes/PatternUtils.h"
#include "passes/Passes.h"

namespace bitnetc {

namespace {

std::string num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

// A float weight whose every element is T * a with T in {-1, 0, 1} and one a > 0.
struct TernaryValues {
  std::vector<int8_t> t;  // [N, K] row-major (bitlinear's orientation)
  float a = 1.0f;
  int64_t n = 0, k = 0;
};

// Reads W ([K, N], or [N, K] when transposed) into T [N, K]; nullopt with `why` otherwise.
std::optional<TernaryValues> ternaryValues(const Value* b, bool transposed, std::string& why) {
  if (!b->isWeight() || !b->weight) {
    why = "its weight " + b->ref() + " is computed, not a constant";
    return std::nullopt;
  }
  const Weight& w = *b->weight;
  if (!isFloat(w.type.dtype) || w.type.rank() != 2) {
    why = "its weight " + b->ref() + " is " + w.type.str() + ", expected a 2-D float weight";
    return std::nullopt;
  }
  TernaryValues r;
  const int64_t rows = w.type.dims[0].size, cols = w.type.dims[1].size;
  r.n = transposed ? rows : cols;
  r.k = transposed ? cols : rows;
  r.t.resize(size_t(r.n * r.k));
  bool haveScale = false;
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < cols; ++j) {
      const float v = w.floatAt(i * cols + j);
      int8_t t = 0;
      if (v != 0.0f) {
        const float mag = std::fabs(v);
        if (!std::isfinite(v)) {
          why = "its weight " + b->ref() + " holds " + num(v) + " at [" + std::to_string(i) + ", " + std::to_string(j) + "]";
          return std::nullopt;
        }
        if (!haveScale) r.a = mag, haveScale = true;
        if (mag != r.a) {
          why = "its weight " + b->ref() + " is not ternary times one scale: [" + std::to_string(i) + ", " +
                std::to_string(j) + "] = " + num(v) + " but another element has magnitude " + num(r.a);
          return std::nullopt;
        }
        t = v > 0 ? 1 : -1;
      }
      const int64_t n = transposed ? i : j, k = transposed ? j : i;
      r.t[size_t(n * r.k + k)] = t;
    }
  }
  return r;
}

// a * b when it is exact in f32.
std::optional<float> exactProduct(float a, float b) {
  const float p = a * b;
  if (!std::isfinite(p) || double(p) != double(a) * double(b)) return std::nullopt;
  return p;
}

class FuseBitLinear : public Pass {
 public:
  std::string_view name() const override { return "fuse-bitlinear"; }
  std::string_view description() const override {
    return "fake-quant activation chain + matmul on a ternary(-times-one-scale) weight -> act_quant + bitlinear";
  }

  void run(Module& module) override {
    cache_.clear();
    for (const auto& f : module.functions()) {
      // Collect first: rewriting inserts ops.
      std::vector<Op*> matmuls;
      for (const auto& op : f->ops())
        if (op->opcode == "matmul") matmuls.push_back(op.get());
      for (Op* mm : matmuls) {
        const std::string result = mm->result()->ref();
        std::string why;
        const std::string done = fuseMatmul(module, *f, *mm, why);
        if (done.empty()) remark("@", f->name(), ": not fused ", result, ": ", why);
        else remark("@", f->name(), ": fused ", done);
      }
    }
  }

 private:
  struct Scale {
    ScaleRule rule;
    float value;
  };

  // Fuses one float matmul; returns the remark text, or empty with `why`.
  std::string fuseMatmul(Module& module, Function& f, Op& mm, std::string& why) {
    auto quant = matchFakeQuant(mm.operand(0), why);
    if (!quant) return {};
    const bool transposed = mm.attrs.getBool("transpose_b", false);
    if (mm.operand(1)->type.rank() != 2) {
      why = "its weight " + mm.operand(1)->ref() + " is batched";
      return {};
    }
    auto values = ternaryValues(mm.operand(1), transposed, why);
    if (!values) return {};
    // An optional trailing weight scale: y * ws or y / ws with a scalar ws.
    Op* last = &mm;
    Scale scale{ScaleRule::Mul, values->a};
    if (Op* user = soleUser(f, mm.result())) {
      if (auto ws = trailingScale(*user, mm.result()); ws && sameType(user->result()->type, mm.result()->type)) {
        if (user->opcode == "mul") {
          if (auto p = exactProduct(values->a, *ws)) scale = {ScaleRule::Mul, *p}, last = user;
        } else if (values->a == 1.0f) {
          scale = {ScaleRule::Div, *ws}, last = user;
        }
      }
    }
    Value* w = ternaryWeight(module, *mm.operand(1)->weight, transposed, *values, scale);
    Value* x = quant->x;
    std::vector<Dim> rows(x->type.dims.begin(), x->type.dims.end() - 1);
    Op* aq = f.insertOpBefore(last, "act_quant", {x},
                              {{freshValueName(f, x->name + ".q8"), TensorType(DType::I8, x->type.dims)},
                               {freshValueName(f, x->name + ".qs"), TensorType(DType::F32, rows)}});
    const std::string replaced = last == &mm ? "" : " and its " + last->opcode + " by " + num(scale.value);
    last->opcode = "bitlinear";
    last->operands = {aq->result(0), aq->result(1), w};
    last->attrs = AttributeList();
    std::string text = last->result()->ref() + ": matmul " + mm.result()->ref() + replaced + " -> act_quant(" +
                       x->ref() + ") + bitlinear " + w->ref() + " (scale " + std::string(scaleRuleName(scale.rule)) +
                       " " + num(scale.value) + ")";
    if (!quant->exactScale) text += "; the chain's scale is 127 * (1 / absmax): may differ from act_quant's by an ulp";
    return text;
  }

  // The only op reading v (and v is not an output), else nullptr.
  static Op* soleUser(const Function& f, const Value* v) {
    for (const Value* o : f.outputs())
      if (o == v) return nullptr;
    Op* user = nullptr;
    for (const auto& op : f.ops())
      for (const Value* operand : op->operands)
        if (operand == v) {
          if (user) return nullptr;
          user = op.get();
        }
    return user;
  }

  // ws of user = y * ws, ws * y or y / ws with a scalar-like finite non-zero f32 weight ws.
  static std::optional<float> trailingScale(const Op& user, const Value* y) {
    std::optional<float> ws;
    if (user.opcode == "mul") ws = scalarWeight(user.operand(0) == y ? user.operand(1) : user.operand(0));
    else if (user.opcode == "div" && user.operand(0) == y) ws = scalarWeight(user.operand(1));
    if (!ws || !std::isfinite(*ws) || *ws == 0.0f) return std::nullopt;
    return ws;
  }

  // One ternary weight per (source, orientation, scale): q/k/v reading one weight share it.
  Value* ternaryWeight(Module& module, const Weight& src, bool transposed, const TernaryValues& v, Scale s) {
    auto key = std::make_tuple(&src, transposed, s.rule, s.value);
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
    const std::string name = freshWeightName(module, src.name + ".ternary");
    Value* w = module.addWeight(makeTernaryWeight(name, v.n, v.k, v.t, kLayoutHFBlocked, s.rule, s.value));
    cache_[key] = w;
    return w;
  }

  std::map<std::tuple<const Weight*, bool, ScaleRule, float>, Value*> cache_;
};

}  // namespace

std::unique_ptr<Pass> createFuseBitLinearPass() { return std::make_unique<FuseBitLinear>(); }

}  // namespace bitnetc
