// fuse-bitlinear: turns BitNet layers written out as float (or integer) ops back into
// act_quant + bitlinear, so they run on the ternary kernels. Three forms (BITNET.md section 4):
//
//   fake-quant:  matmul(q / s, W) [* ws | / ws]       W a float weight [K, N] (or [N, K] with
//                                                     transpose_b) holding T * a, T in {-1, 0, 1}
//   integer:     matmul_integer(i8(q), Wi, 0, zp) -> cast f32 -> * ws, / s in any order (also
//                * reciprocal(s), * (ws / s), / (s * ws)); Wi - zp ternary (times a)
//   nbits:       matmul_nbits(q / s, codes, scales, zero points) [* ws | / ws] (bits = 2) whose
//                dequantized weight is T * a
//   q in float:  matmul(q or f32(i8(q)), W) rescaled like the integer form (Hugging Face's
//                offline BitLinear: F.linear(q, T) / (ws * s))
//   -> %x.q8, %x.qs = act_quant(%x);  bitlinear(%x.q8, %x.qs, @W.ternary)
//
// with q, s the chain of FakeQuantMatch.h. The new weight is T [N, K] packed straight into
// "hf_blocked_2bit" (owned); its scale is a (rule mul), or a * ws when that product is exact in
// f32, or ws with rule div when a = 1 and the result is divided by ws. A trailing mul/div that
// cannot be absorbed exactly stays a float op after the bitlinear. A weight with one magnitude
// a_n per output channel fuses too, as bitlinear followed by a mul by the vector a
// (@W.scales): that scale factors out of the sum over k. Per-input-channel magnitudes (or
// MatMulNBits block scales that differ along K) do not factor out and are not fused.
//
// What fusing changes: the float chain computes sum_k f32(q_k / s) * W[k, n] (f64 sum, rounded
// to f32); bitlinear computes (f32(sum_k q_k T[k, n]) * a) / s exactly per docs/IR.md. With the
// same q, the two differ only by the rounding of q_k / s (and of reciprocal forms) and of the
// final products: |fused - float| <= 2^-20 * (a / s) * sum_k |q_k T[k, n]| (test/unit/
// passes_fuse_bitlinear_test.cpp checks it). Where the chain computes s as 127 * (1 / c) instead
// of 127 / c, s may differ by an ulp and a q_k exactly at a rounding boundary by one step.
// Non-finite activations: the float chain gives NaN, act_quant gives q = 0.
//
// Every matmul-like op gets one -v remark: fused, or why not (the first mismatch found). Fused
// ops leave the float chain dead (dce removes it); identical act_quants of one activation merge
// in cse.
#include <cmath>
#include <cstring>
#include <map>
#include <sstream>
#include <tuple>

#include "compiler/ir/OpDefs.h"
#include "compiler/patterns/FakeQuantMatch.h"
#include "compiler/patterns/PatternUtils.h"
#include "compiler/patterns/TernaryValues.h"
#include "passes/Passes.h"

namespace bitnetc {

namespace {


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
    columnCache_.clear();
    for (const auto& f : module.functions()) {
      // Collect first: rewriting inserts ops.
      std::vector<Op*> matmuls;
      for (const auto& op : f->ops())
        if (op->opcode == "matmul" || op->opcode == "matmul_integer" || op->opcode == "matmul_nbits")
          matmuls.push_back(op.get());
      for (Op* mm : matmuls) {
        const std::string result = mm->result()->ref();
        std::string why;
        std::optional<Fusion> fusion = mm->opcode == "matmul"           ? matchMatmul(*f, *mm, why)
                                       : mm->opcode == "matmul_integer" ? matchMatmulInteger(*f, *mm, why)
                                                                        : matchMatmulNBits(*mm, why);
        std::string done;
        if (fusion) done = rewrite(module, *f, *fusion, why);
        if (done.empty()) remark("@", f->name(), ": not fused ", result, " (", mm->opcode, "): ", why);
        else remark("@", f->name(), ": fused ", done);
      }
    }
  }

 private:
  struct Scale {
    ScaleRule rule;
    float value;
  };

  // A matched layer, before any change to the IR.
  struct Fusion {
    QuantMatch quant;
    TernaryValues values;
    std::pair<const Weight*, int> source;  // for sharing the new weights: (weight, form)
    Op* matmul = nullptr;                  // the matched op
    Op* last = nullptr;                    // the op whose result the bitlinear (or its scale) replaces
    std::optional<Scale> rescale;          // integer form: the weight scale of the rescale chain
  };

  std::optional<Fusion> matchMatmul(Function& f, Op& mm, std::string& why) {
    auto quant = matchFakeQuant(mm.operand(0), why);
    if (!quant) {
      // Not q / s: perhaps q itself, rescaled after the matmul. Explain the fake-quant mismatch
      // unless the activation is a quantized one.
      std::string integerWhy;
      if (auto fusion = matchIntegerValuedMatmul(f, mm, integerWhy)) return fusion;
      if (isQuantizedLooking(mm.operand(0))) why = integerWhy;
      return std::nullopt;
    }
    const bool transposed = mm.attrs.getBool("transpose_b", false);
    if (mm.operand(1)->type.rank() != 2) {
      why = "its weight " + mm.operand(1)->ref() + " is batched";
      return std::nullopt;
    }
    auto values = floatWeightTernary(mm.operand(1), transposed, why);
    if (!values) return std::nullopt;
    return Fusion{*quant, std::move(*values), {mm.operand(1)->weight, transposed ? 1 : 0}, &mm, &mm, std::nullopt};
  }

  std::optional<Fusion> matchMatmulNBits(Op& mm, std::string& why) {
    auto quant = matchFakeQuant(mm.operand(0), why);
    if (!quant) return std::nullopt;
    auto values = nbitsWeightTernary(mm, why);
    if (!values) return std::nullopt;
    return Fusion{*quant, std::move(*values), {mm.operand(1)->weight, 2}, &mm, &mm, std::nullopt};
  }

  // i8(q) x Wi in i32, cast to f32, rescaled by ws and 1 / s in any arrangement of mul/div.
  std::optional<Fusion> matchMatmulInteger(Function& f, Op& mm, std::string& why) {
    auto quant = matchQuantizedI8(mm.operand(0), why);
    if (!quant) return std::nullopt;
    const Value* az = mm.operand(2);
    if (!az->isWeight() || !az->weight || !isScalarLike(az->type) || az->weight->data[0] != 0 ||
        dtypeSize(az->type.dtype) != 1) {
      why = "its activation zero point " + az->ref() + " is not the constant 0";
      return std::nullopt;
    }
    auto values = integerWeightTernary(mm.operand(1), mm.operand(3), why);
    if (!values) return std::nullopt;
    Op* cast = soleUser(f, mm.result());
    if (!cast || cast->opcode != "cast" || cast->result()->type.dtype != DType::F32) {
      why = "its i32 result is not cast to f32 (and used only there)";
      return std::nullopt;
    }
    auto rescaled = rescaleChain(f, cast, *quant, why);
    if (!rescaled) return std::nullopt;
    return Fusion{*quant, std::move(*values), {mm.operand(1)->weight, 3}, &mm, rescaled->first, rescaled->second};
  }

  // A float matmul of the quantized activation itself (integer values q, or i8(q) cast back to
  // f32) on a ternary weight, then rescaled like the integer form: Hugging Face's offline
  // BitLinear (F.linear(q, T) / (ws * s)). With integer-valued operands the f64 sum is exact.
  std::optional<Fusion> matchIntegerValuedMatmul(Function& f, Op& mm, std::string& why) {
    Value* a = mm.operand(0);
    std::optional<QuantMatch> quant;
    if (const Op* c = producedBy(a, "cast"); c && a->type.dtype == DType::F32) quant = matchQuantizedI8(c->operand(0), why);
    else quant = matchQuantized(a, why);
    if (!quant) return std::nullopt;
    const bool transposed = mm.attrs.getBool("transpose_b", false);
    if (mm.operand(1)->type.rank() != 2) {
      why = "its weight " + mm.operand(1)->ref() + " is batched";
      return std::nullopt;
    }
    auto values = floatWeightTernary(mm.operand(1), transposed, why);
    if (!values) return std::nullopt;
    auto rescaled = rescaleChain(f, &mm, *quant, why);
    if (!rescaled) return std::nullopt;
    return Fusion{*quant, std::move(*values), {mm.operand(1)->weight, transposed ? 1 : 0}, &mm, rescaled->first,
                  rescaled->second};
  }

  // From `start` (its result holds the integer sums, as f32), the single-use chain of muls and
  // divs by scalar weights ws and by the activation scale (/ s, * reciprocal(s), * (ws / s),
  // / (s * ws)) in any order. Returns its last op and the weight scale, or nullopt with `why`.
  std::optional<std::pair<Op*, Scale>> rescaleChain(Function& f, Op* start, const QuantMatch& quantRef,
                                                    std::string& why) {
    const QuantMatch* quant = &quantRef;
    std::vector<float> muls, divs;
    bool divided = false;
    Op* last = start;
    for (Value* cur = start->result();;) {
      Op* user = soleUser(f, cur);
      if (!user || (user->opcode != "mul" && user->opcode != "div") || !sameType(user->result()->type, cur->type)) break;
      if (user->opcode == "div" && user->operand(0) != cur) break;
      Value* other = user->operand(0) == cur ? user->operand(1) : user->operand(0);
      const auto k = scalarWeight(other);
      const Op* p = other->producer;
      if (k) {
        (user->opcode == "mul" ? muls : divs).push_back(*k);
      } else if (divided) {
        break;
      } else if (user->opcode == "mul" && p && p->opcode == "reciprocal" && sameScale(p->operand(0), *quant)) {
        divided = true;  // * (1 / s)
      } else if (user->opcode == "mul" && p && p->opcode == "div" && scalarWeight(p->operand(0)) &&
                 sameScale(p->operand(1), *quant)) {
        muls.push_back(*scalarWeight(p->operand(0)));  // * (ws / s)
        divided = true;
      } else if (user->opcode == "div" && sameScale(other, *quant)) {
        divided = true;  // / s
      } else if (user->opcode == "div" && p && p->opcode == "mul" && mulByScale(*p, *quant, divs)) {
        divided = true;  // / (s * ws)
      } else {
        break;
      }
      last = user;
      cur = user->result();
    }
    if (!divided) {
      why = "its result is not divided by the activation scale " + quant->scale->ref() + " after the " +
            (start->opcode == "cast" ? "cast to f32" : start->opcode);
      return std::nullopt;
    }
    auto product = [](const std::vector<float>& v) -> std::optional<float> {
      float p = 1.0f;
      for (float x : v) {
        const float next = p * x;
        if (!std::isfinite(next) || double(next) != double(p) * double(x) || next == 0.0f) return std::nullopt;
        p = next;
      }
      return p;
    };
    std::optional<Scale> rescale;
    if (divs.empty()) {
      if (auto p = product(muls)) rescale = Scale{ScaleRule::Mul, *p};
    } else if (muls.empty()) {
      if (auto p = product(divs)) rescale = Scale{ScaleRule::Div, *p};
    }
    if (!rescale) {
      why = "its rescale multiplies and divides by weight scales whose combination is not exact in f32";
      return std::nullopt;
    }
    return std::make_pair(last, *rescale);
  }

  // An activation that is a clamp of round or a cast (the integer-valued forms' inputs).
  static bool isQuantizedLooking(const Value* a) {
    const Op* p = a->producer;
    return p && (p->opcode == "clip" || p->opcode == "min" || p->opcode == "max" || p->opcode == "cast");
  }

  // s * ws or ws * s (the same activation scale, a scalar weight): appends ws to divs.
  static bool mulByScale(const Op& p, const QuantMatch& q, std::vector<float>& divs) {
    for (unsigned i = 0; i < 2; ++i)
      if (auto k = scalarWeight(p.operand(i)); k && sameScale(p.operand(1 - i), q)) {
        divs.push_back(*k);
        return true;
      }
    return false;
  }

  // v is the quantization's scale, or the same computation of it.
  static bool sameScale(Value* v, const QuantMatch& q) {
    if (v == q.scale) return true;
    std::string ignored;
    auto again = matchQuantScale(v, ignored);
    return again && again->x == q.x && again->exactScale == q.exactScale;
  }

  // Rewrites a matched layer; returns the remark, or empty with `why` (the IR is then unchanged).
  std::string rewrite(Module& module, Function& f, Fusion& m, std::string& why) {
    Value* x = m.quant.x;
    const TernaryValues& v = m.values;
    std::string note;
    if (!m.quant.exactScale) note = "; the chain's scale is 127 * (1 / absmax): may differ from act_quant's by an ulp";
    // The weight scale: from the integer rescale, or the weight's magnitude and a trailing scalar.
    Op* last = m.last;
    std::optional<Scale> scale;
    if (!v.columnScales.empty()) {
      scale = m.rescale ? *m.rescale : Scale{ScaleRule::None, 1.0f};
    } else if (m.rescale) {
      if (v.a == 1.0f) scale = m.rescale;
      else if (m.rescale->rule == ScaleRule::Mul)
        if (auto p = exactProduct(v.a, m.rescale->value)) scale = Scale{ScaleRule::Mul, *p};
      if (!scale) {
        why = "its weight's magnitude " + numberText(v.a) + " and the rescale's " + numberText(m.rescale->value) +
              " do not combine exactly in f32";
        return {};
      }
    } else {
      scale = Scale{ScaleRule::Mul, v.a};
      if (Op* user = soleUser(f, last->result())) {
        if (auto ws = trailingScale(*user, last->result()); ws && sameType(user->result()->type, last->result()->type)) {
          if (user->opcode == "mul") {
            if (auto p = exactProduct(v.a, *ws)) scale = Scale{ScaleRule::Mul, *p}, last = user;
          } else if (v.a == 1.0f) {
            scale = Scale{ScaleRule::Div, *ws}, last = user;
          }
        }
      }
    }
    Value* w = ternaryWeight(module, m.source, v, *scale);
    std::vector<Dim> rows(x->type.dims.begin(), x->type.dims.end() - 1);
    Op* aq = f.insertOpBefore(last, "act_quant", {x},
                              {{freshValueName(f, x->name + ".q8"), TensorType(DType::I8, x->type.dims)},
                               {freshValueName(f, x->name + ".qs"), TensorType(DType::F32, rows)}});
    const std::string what = m.matmul->opcode + " " + m.matmul->result()->ref() +
                             (last == m.matmul ? "" : " .. " + last->opcode + " " + last->result()->ref());
    const std::string scaleText =
        std::string(scaleRuleName(scale->rule)) + (scale->rule == ScaleRule::None ? "" : " " + numberText(scale->value));
    if (!v.columnScales.empty()) {
      // y = bitlinear(...) * a_n: the last op becomes the mul by the channel scales.
      Value* scales = columnScaleWeight(module, m.source, v.columnScales);
      Op* bl = f.insertOpBefore(last, "bitlinear", {aq->result(0), aq->result(1), w},
                                {{freshValueName(f, last->result()->name + ".bitlinear"), last->result()->type}});
      last->opcode = "mul";
      last->operands = {bl->result(), scales};
      last->attrs = AttributeList();
      return last->result()->ref() + ": " + what + " -> act_quant(" + x->ref() + ") + bitlinear " + w->ref() +
             " (scale " + scaleText + ") * per-output-channel scales " + scales->ref() + note;
    }
    last->opcode = "bitlinear";
    last->operands = {aq->result(0), aq->result(1), w};
    last->attrs = AttributeList();
    return last->result()->ref() + ": " + what + " -> act_quant(" + x->ref() + ") + bitlinear " + w->ref() +
           " (scale " + scaleText + ")" + note;
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

  using Source = std::pair<const Weight*, int>;

  // One ternary weight per (source, form, scale): q/k/v reading one weight share it.
  Value* ternaryWeight(Module& module, Source src, const TernaryValues& v, Scale s) {
    auto key = std::make_tuple(src, s.rule, s.value);
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
    const std::string name = freshWeightName(module, src.first->name + ".ternary");
    Value* w = module.addWeight(makeTernaryWeight(name, v.n, v.k, v.t, kLayoutHFBlocked, s.rule, s.value));
    cache_[key] = w;
    return w;
  }

  // The per-output-channel scales [N] of a weight as an f32 weight.
  Value* columnScaleWeight(Module& module, Source src, const std::vector<float>& scales) {
    if (auto it = columnCache_.find(src); it != columnCache_.end()) return it->second;
    std::vector<uint8_t> bytes(scales.size() * sizeof(float));
    std::memcpy(bytes.data(), scales.data(), bytes.size());
    const TensorType type = TensorType::of(DType::F32, {int64_t(scales.size())});
    Value* w = module.addWeight(makeOwnedWeight(freshWeightName(module, src.first->name + ".scales"), type, std::move(bytes)));
    columnCache_[src] = w;
    return w;
  }

  std::map<std::tuple<Source, ScaleRule, float>, Value*> cache_;
  std::map<Source, Value*> columnCache_;
};

}  // namespace

std::unique_ptr<Pass> createFuseBitLinearPass() { return std::make_unique<FuseBitLinear>(); }

}  // namespace bitnetc
