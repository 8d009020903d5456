// Elementwise ONNX ops: arithmetic, comparisons, Where, unary math, Clip, Cast, Identity.
// Integer tensors known at import (shape arithmetic) are computed here instead of emitted.
#include <cmath>
#include <limits>

#include "compiler/support/Error.h"
#include "frontends/onnx/Importer.h"

namespace bitnetc::onnxfe {

namespace {

DType boolType() {
  auto t = dtypeFromName("bool");
  if (!t) fail("the IR has no bool element type (yet)");
  return *t;
}

bool isCompare(std::string_view op) { return op == "Equal" || op == "Less" || op == "Greater"; }

std::string irOpcode(std::string_view onnxOp) {
  std::string s;
  for (char c : onnxOp) s += char(std::tolower(static_cast<unsigned char>(c)));
  return s;  // Add -> add, Equal -> equal, ...
}

// Binary op over inputs 0 and 1 (Max/Min/Sum fold more than two, left to right).
void binary(Importer& im) {
  const std::string op = im.node().op_type();
  if (im.numInputs() < 2 && !(op == "Max" || op == "Min")) fail("needs two inputs");
  if (im.allInputsKnown()) {
    SymTensor acc = *im.known(0);
    for (size_t i = 1; i < im.numInputs(); ++i) {
      const DType out = isCompare(op) ? boolType() : acc.dtype;
      acc = symBroadcast(op, acc, *im.known(i), out);
    }
    im.defineKnown(0, std::move(acc));
    return;
  }
  Value* acc = im.ir(0);
  for (size_t i = 1; i < im.numInputs(); ++i) {
    Value* b = im.ir(i);
    if (op == "Pow" && b->type.dtype != acc->type.dtype) {  // ONNX allows another exponent type
      AttributeList a;
      a.set("to", std::string(dtypeName(acc->type.dtype)));
      b = im.emit("cast", {b}, std::move(a), im.tmpName("exp"));
    }
    const bool last = i + 1 == im.numInputs();
    acc = im.emit(irOpcode(op), {acc, b}, {}, last ? im.outName(0) : im.tmpName("acc"));
  }
  im.define(0, acc);
}

void where(Importer& im) {
  if (im.allInputsKnown()) {
    const SymTensor &c = *im.known(0), &a = *im.known(1), &b = *im.known(2);
    SymTensor r;
    r.dtype = a.dtype;
    r.shape = broadcastShapes(broadcastShapes(c.shape, a.shape), b.shape);
    size_t n = 1;
    for (int64_t d : r.shape) n *= size_t(d);
    for (size_t i = 0; i < n; ++i) {
      const SymElem& ce = c.elems[broadcastIndex(c.shape, r.shape, i)];
      if (!ce.isConst()) {
        r.elems.push_back(SymElem::unknown("Where(" + ce.str() + ")"));
        continue;
      }
      r.elems.push_back(ce.value ? a.elems[broadcastIndex(a.shape, r.shape, i)]
                                 : b.elems[broadcastIndex(b.shape, r.shape, i)]);
    }
    im.defineKnown(0, std::move(r));
    return;
  }
  im.define(0, im.emit("where", {im.ir(0), im.ir(1), im.ir(2)}, {}, im.outName(0)));
}

void unary(Importer& im) {
  const std::string op = im.node().op_type();
  if ((op == "Neg" || op == "Abs" || op == "Not") && im.known(0)) {
    SymTensor r = *im.known(0);
    for (SymElem& e : r.elems) e = symUnary(op, e);
    im.defineKnown(0, std::move(r));
    return;
  }
  im.define(0, im.emit(irOpcode(op), {im.ir(0)}, {}, im.outName(0)));
}

void identity(Importer& im) { im.defineSame(0, im.in(0)); }

// A scalar bound of Clip: its value when constant.
std::optional<double> constScalar(Importer& im, size_t i) {
  auto v = im.constFloats(i);
  if (!v) return std::nullopt;
  if (v->size() != 1) fail("input ", i, " of Clip must be a scalar");
  return (*v)[0];
}

void clip(Importer& im) {
  const TensorType& t = im.typeOf(0);
  std::optional<double> lo = im.has(1) ? constScalar(im, 1) : -INFINITY;
  std::optional<double> hi = im.has(2) ? constScalar(im, 2) : INFINITY;
  if (im.opset() < 11) {  // bounds were attributes
    if (im.numInputs() > 1) fail("Clip before opset 11 takes its bounds as attributes");
    lo = im.attrFloat("min", -3.4028234663852886e38);
    hi = im.attrFloat("max", 3.4028234663852886e38);
  } else if (im.attr("min") || im.attr("max")) {
    fail("attributes min/max are Clip's form before opset 11; since then the bounds are inputs 1 and 2");
  }
  if (t.dtype == DType::F32 && lo && hi) {
    AttributeList a;
    a.set("min", *lo);
    a.set("max", *hi);
    im.define(0, im.emit("clip", {im.ir(0)}, std::move(a), im.outName(0)));
    return;
  }
  if (im.allInputsKnown()) {  // integer shape math
    SymTensor r = *im.known(0);
    if (im.has(1)) r = symBroadcast("Max", r, *im.known(1), r.dtype);
    if (im.has(2)) r = symBroadcast("Min", r, *im.known(2), r.dtype);
    im.defineKnown(0, std::move(r));
    return;
  }
  // Bounds computed at run time (or integer tensors): max then min.
  Value* v = im.ir(0);
  if (im.has(1)) v = im.emit("max", {v, im.ir(1)}, {}, im.has(2) ? im.tmpName("lo") : im.outName(0));
  if (im.has(2)) v = im.emit("min", {v, im.ir(2)}, {}, im.outName(0));
  im.define(0, v);
}

void castTo(Importer& im, DType to);

void cast(Importer& im) { castTo(im, irDType(int32_t(im.attrInt("to", 0)), "attribute 'to'")); }
void castLike(Importer& im) { castTo(im, im.typeOf(1).dtype); }

void castTo(Importer& im, DType to) {
  if (const SymTensor* k = im.known(0); k && isIntegerLike(to)) {
    SymTensor r = *k;
    r.dtype = to;
    for (SymElem& e : r.elems) {
      if (e.isConst()) e.value = castInt(e.value, to);
      else if (dtypeName(to) == "bool" || dtypeSize(to) < 4)
        e = SymElem::unknown("Cast(" + e.str() + ")");
    }
    im.defineKnown(0, std::move(r));
    return;
  }
  Value* x = im.ir(0);
  if (x->type.dtype == to) {
    im.define(0, x);
    return;
  }
  AttributeList a;
  a.set("to", std::string(dtypeName(to)));
  im.define(0, im.emit("cast", {x}, std::move(a), im.outName(0)));
}

}  // namespace

void addElementwiseLowerings(std::vector<Lowering>& out) {
  for (std::string_view op : {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Equal", "Less", "Greater"})
    out.push_back({"", op, {}, binary});
  out.push_back({"", "Where", {}, where});
  for (std::string_view op : {"Sqrt", "Reciprocal", "Abs", "Neg", "Relu", "Sigmoid", "Round", "Exp"})
    out.push_back({"", op, {}, unary});
  out.push_back({"", "Identity", {}, identity});
  out.push_back({"", "Clip", {"min", "max"}, clip});
  out.push_back({"", "Cast", {"to"}, cast});
  out.push_back({"", "CastLike", {}, castLike});
}

}  // namespace bitnetc::onnxfe
