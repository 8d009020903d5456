#include "compiler/patterns/FakeQuantMatch.h"

#include <cfloat>
#include <cmath>
#include <set>
#include <sstream>

#include "compiler/ir/OpDefs.h"
#include "compiler/patterns/PatternUtils.h"

namespace bitnetc {

namespace {


// "%v (produced by op)" for messages.
std::string origin(const Value* v) {
  if (v->isWeight()) return v->ref() + " (a weight)";
  if (v->kind != Value::Kind::Result) return v->ref() + " (a function input)";
  return v->ref() + " (" + v->producer->opcode + ")";
}

// For mul(a, b) with one operand a scalar-like weight: that weight's value and the other operand.
std::optional<std::pair<float, Value*>> mulByScalar(const Op& op) {
  for (unsigned i = 0; i < 2; ++i)
    if (auto c = scalarWeight(op.operand(i))) return std::make_pair(*c, op.operand(1 - i));
  return std::nullopt;
}

// v = clamp(src, lo, hi) written as any stack of clip, max(., c) and min(., c) ops (c a scalar
// weight, no broadcast): clamps with intersecting ranges compose to one clamp of the
// intersection (NaN passes through all of them). `layers` counts the ops peeled.
struct Clamp {
  Value* src;
  double lo, hi;
  int layers;
};

Clamp peelClamp(Value* v) {
  Clamp c{v, -INFINITY, INFINITY, 0};
  for (;;) {
    const Op* op = c.src->producer;
    if (!op) return c;
    double lo = -INFINITY, hi = INFINITY;
    Value* next = op->operand(0);
    if (op->opcode == "clip") {
      lo = op->attrs.getFloat("min");
      hi = op->attrs.getFloat("max");
    } else if (op->opcode == "max" || op->opcode == "min") {
      auto k = scalarWeight(op->operand(1));
      if (!k && (k = scalarWeight(op->operand(0)))) next = op->operand(1);
      if (!k || std::isnan(*k)) return c;
      (op->opcode == "max" ? lo : hi) = double(*k);
    } else {
      return c;
    }
    if (!sameType(op->result()->type, next->type)) return c;
    if (std::max(lo, c.lo) > std::min(hi, c.hi)) return c;  // disjoint: not one clamp
    c = Clamp{next, std::max(lo, c.lo), std::min(hi, c.hi), c.layers + 1};
  }
}

std::string range(double lo, double hi) { return "[" + numberText(lo) + ", " + numberText(hi) + "]"; }

// c = max(m, 1e-5), as clip [1e-5, inf] or max(., 1e-5) (or a stack of clamps that is). Returns m.
Value* matchEpsClamp(Value* c, std::string& why) {
  const Clamp k = peelClamp(c);
  if (k.layers == 0) {
    why = "the absmax " + origin(c) + " is not clamped to [1e-05, inf]";
    return nullptr;
  }
  // The clip kernel compares in f32: bounds that round to the same f32 are the same clamp.
  if (float(k.lo) != 1e-5f || !(k.hi >= double(FLT_MAX))) {
    why = "the clamp " + c->ref() + " bounds the absmax to " + range(k.lo, k.hi) + ", expected [1e-05, inf]";
    return nullptr;
  }
  return k.src;
}

// True if s has x's shape with the last dim reduced to 1 (or is scalar-like for a 1-D x): the
// scale of x's row, broadcast along the row only.
bool isRowScaleShape(const TensorType& s, const TensorType& x) {
  if (x.rank() == 1) return isScalarLike(s);
  if (s.rank() != x.rank() || s.dims.back() != Dim::fixed(1)) return false;
  for (size_t i = 0; i + 1 < x.rank(); ++i)
    if (!sameDim(s.dims[i], x.dims[i])) return false;
  return true;
}

}  // namespace

// Reshapes keep the row-major order of the elements: an absmax reduced without keepdims and
// unsqueezed again (or a scale reshaped) is the same per-row value; the scale's final shape is
// checked against the activation's rows below.
Value* throughReshapes(Value* v) {
  while (const Op* r = producedBy(v, "reshape")) v = r->operand(0);
  return v;
}

std::optional<QuantMatch> matchQuantScale(Value* s, std::string& why) {
  QuantMatch m;
  m.scale = s;
  const Op* op = throughReshapes(s)->producer;
  Value* c = nullptr;
  if (op && op->opcode == "div") {
    const auto k = scalarWeight(op->operand(0));
    if (!k || *k != 127.0f) {
      why = "the scale " + s->ref() + " divides " + origin(op->operand(0)) + ", expected 127 / absmax";
      return std::nullopt;
    }
    c = op->operand(1);
  } else if (op && op->opcode == "mul") {
    const auto k = mulByScalar(*op);
    const Op* r = k ? producedBy(k->second, "reciprocal") : nullptr;
    if (!k || k->first != 127.0f || !r) {
      why = "the scale " + s->ref() + " is a mul but not 127 * reciprocal(absmax)";
      return std::nullopt;
    }
    c = r->operand(0);
    m.exactScale = false;
  } else {
    why = "the scale " + origin(s) + " is not 127 / max(reduce_max(abs(x)), 1e-05)";
    return std::nullopt;
  }
  Value* mx = matchEpsClamp(throughReshapes(c), why);
  if (!mx) return std::nullopt;
  mx = throughReshapes(mx);
  const Op* red = producedBy(mx, "reduce_max");
  if (!red) {
    why = "the absmax " + origin(mx) + " is not a reduce_max";
    return std::nullopt;
  }
  const Op* ab = producedBy(red->operand(0), "abs");
  if (!ab) {
    why = "the reduce_max " + mx->ref() + " reads " + origin(red->operand(0)) + ", expected abs(x)";
    return std::nullopt;
  }
  m.x = ab->operand(0);
  const TensorType& xt = m.x->type;
  if (xt.dtype != DType::F32 || xt.rank() == 0) {
    why = "the activation " + m.x->ref() + " is " + xt.str() + ", expected f32 of rank >= 1";
    return std::nullopt;
  }
  std::set<int64_t> axes;
  if (const Attribute* a = red->attrs.find("axes")) {
    for (int64_t axis : std::get<std::vector<int64_t>>(*a)) axes.insert(axis < 0 ? axis + int64_t(xt.rank()) : axis);
  }
  if (axes.empty())  // absent or [] reduces every axis
    for (size_t i = 0; i < xt.rank(); ++i) axes.insert(int64_t(i));
  if (axes != std::set<int64_t>{int64_t(xt.rank()) - 1}) {
    why = "the reduce_max " + mx->ref() + " reduces axes other than the last one of " + m.x->ref() +
          " (per-token absmax is over the last axis)";
    return std::nullopt;
  }
  if (s->type.dtype != DType::F32 || !isRowScaleShape(s->type, xt)) {
    why = "the scale " + s->ref() + " is " + s->type.str() + ": it does not broadcast along the rows of " +
          m.x->ref() + " " + xt.str() + " (reduce_max without keepdims?)";
    return std::nullopt;
  }
  return m;
}

std::optional<QuantMatch> matchQuantized(Value* q, std::string& why) {
  const Clamp clip = peelClamp(q);
  if (clip.layers == 0) {
    why = "the quantized value " + origin(q) + " is not clip(round(x * s), -128, 127)";
    return std::nullopt;
  }
  if (float(clip.lo) != -128.0f || float(clip.hi) != 127.0f) {
    why = "the clamp " + q->ref() + " bounds it to " + range(clip.lo, clip.hi) + ", expected [-128, 127]";
    return std::nullopt;
  }
  const Op* round = producedBy(clip.src, "round");
  if (!round) {
    why = "the clamp " + q->ref() + " reads " + origin(clip.src) + ", expected round(x * s)";
    return std::nullopt;
  }
  Value* xs = round->operand(0);
  const Op* mul = producedBy(xs, "mul");
  if (!mul) {
    why = "the round " + clip.src->ref() + " reads " + origin(xs) + ", expected x * s";
    return std::nullopt;
  }
  // Either operand may be the scale; explain the one that looks like a scale computation.
  std::string first;
  for (unsigned i = 0; i < 2; ++i) {
    std::string w;
    auto m = matchQuantScale(mul->operand(i), w);
    if (m) {
      if (mul->operand(1 - i) == m->x && sameType(xs->type, m->x->type) && sameType(q->type, m->x->type)) return m;
      why = xs->ref() + " multiplies " + mul->operand(1 - i)->ref() + " by the scale of another value, " + m->x->ref();
      return std::nullopt;
    }
    const Op* p = mul->operand(i)->producer;
    if (first.empty() && p && (p->opcode == "div" || p->opcode == "mul")) first = w;
  }
  why = first.empty() ? "the product " + xs->ref() + " is not x * s with s = 127 / max(reduce_max(abs(x)), 1e-05)"
                      : first;
  return std::nullopt;
}

std::optional<QuantMatch> matchFakeQuant(Value* xq, std::string& why) {
  // The straight-through estimator of training code, x + (xq - x), is xq: xq is within half a
  // quantization step of x, so x lies within a factor 2 of xq, xq - x is exact (Sterbenz) and so
  // is x + (xq - x). (Only where x * s rounds to within an ulp of +-0.5 can the factor exceed 2
  // by an ulp and the sum differ from xq by one ulp; for q = 0 it is +0 where xq may be -0.)
  Value* ste = nullptr;
  if (const Op* add = producedBy(xq, "add")) {
    for (unsigned i = 0; i < 2 && !ste; ++i) {
      const Op* sub = producedBy(add->operand(1 - i), "sub");
      if (sub && sub->operand(1) == add->operand(i) && sameType(xq->type, sub->operand(0)->type)) {
        ste = add->operand(i);
        xq = sub->operand(0);
      }
    }
  }
  const Op* op = xq->producer;
  Value *q = nullptr, *s = nullptr;
  if (op && op->opcode == "div") {
    q = op->operand(0);
    s = op->operand(1);
  } else if (op && op->opcode == "mul") {
    for (unsigned i = 0; i < 2 && !q; ++i)
      if (const Op* r = producedBy(op->operand(i), "reciprocal")) {
        q = op->operand(1 - i);
        s = r->operand(0);
      }
  }
  if (!q) {
    why = "the activation " + origin(xq) + " is not fake-quantized (q / s)";
    return std::nullopt;
  }
  auto m = matchQuantized(q, why);
  if (!m) return std::nullopt;
  if (s != m->scale) {
    // A recomputed scale is the same value when it is the same computation of the same x.
    std::string ignored;
    auto again = matchQuantScale(s, ignored);
    if (!again || again->x != m->x || again->exactScale != m->exactScale) {
      why = "the dequantization " + xq->ref() + " divides by " + s->ref() + ", not by the scale " +
            m->scale->ref() + " that quantized " + q->ref();
      return std::nullopt;
    }
  }
  if (!sameType(xq->type, m->x->type)) {
    why = "the dequantized " + xq->ref() + " is " + xq->type.str() + ", not the activation's type " + m->x->type.str();
    return std::nullopt;
  }
  if (ste && ste != m->x) {
    why = "the straight-through sum adds " + ste->ref() + " and subtracts it from the quantized " + m->x->ref();
    return std::nullopt;
  }
  return m;
}

std::optional<QuantMatch> matchQuantizedI8(Value* q8, std::string& why) {
  const Op* cast = producedBy(q8, "cast");
  if (!cast || q8->type.dtype != DType::I8) {
    why = "the i8 activation " + origin(q8) + " is not a cast to i8 of clip(round(x * s), -128, 127)";
    return std::nullopt;
  }
  Value* v = cast->operand(0);
  // cast truncates toward zero and saturates: cast(round(x * s)) equals q (round gives an
  // integer, the saturation is the clamp), cast(x * s) does not. A clip is matched by
  // matchQuantized (it must be exactly -128..127).
  if (peelClamp(v).layers == 0) {
    if (const Op* round = producedBy(v, "round")) {
      if (const Op* mul = producedBy(round->operand(0), "mul")) {
        for (unsigned i = 0; i < 2; ++i) {
          std::string w;
          auto m = matchQuantScale(mul->operand(i), w);
          if (m && mul->operand(1 - i) == m->x && sameType(v->type, m->x->type)) return m;
        }
      }
    }
    why = "the i8 activation " + q8->ref() + " casts " + origin(cast->operand(0)) +
          ", expected clip(round(x * s), -128, 127) or round(x * s) (cast truncates)";
    return std::nullopt;
  }
  auto m = matchQuantized(v, why);
  if (m && !sameType(TensorType(DType::F32, q8->type.dims), m->x->type)) {
    why = "the i8 activation " + q8->ref() + " does not have the activation's shape";
    return std::nullopt;
  }
  return m;
}

}  // namespace bitnetc
