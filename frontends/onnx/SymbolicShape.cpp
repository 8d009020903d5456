#include "frontends/onnx/SymbolicShape.h"

#include <algorithm>

#include "compiler/support/Error.h"

namespace bitnetc::onnxfe {

std::string SymElem::str() const {
  switch (kind) {
    case Kind::Const: return std::to_string(value);
    case Kind::Dim: return "?" + dim.name;
    case Kind::Expr: return expr;
  }
  return {};
}

SymTensor SymTensor::constant(DType t, std::vector<int64_t> shape, const std::vector<int64_t>& values) {
  SymTensor s;
  s.dtype = t;
  s.shape = std::move(shape);
  for (int64_t v : values) s.elems.push_back(SymElem::of(v));
  return s;
}

bool SymTensor::allConst() const {
  return std::all_of(elems.begin(), elems.end(), [](const SymElem& e) { return e.isConst(); });
}

bool SymTensor::hasExpr() const {
  return std::any_of(elems.begin(), elems.end(), [](const SymElem& e) { return e.kind == SymElem::Kind::Expr; });
}

std::vector<int64_t> SymTensor::consts() const {
  std::vector<int64_t> v;
  for (const SymElem& e : elems) v.push_back(e.value);
  return v;
}

std::string SymTensor::str() const {
  std::string s = "[";
  for (size_t i = 0; i < elems.size() && i < 16; ++i) s += (i ? ", " : "") + elems[i].str();
  if (elems.size() > 16) s += ", ...";
  return s + "]";
}

namespace {

std::string opSymbol(std::string_view op) {
  if (op == "Add") return " + ";
  if (op == "Sub") return " - ";
  if (op == "Mul") return " * ";
  if (op == "Div") return " / ";
  if (op == "Equal") return " == ";
  if (op == "Less") return " < ";
  if (op == "Greater") return " > ";
  return " " + std::string(op) + " ";
}

}  // namespace

SymElem symBinary(std::string_view op, const SymElem& a, const SymElem& b) {
  if (a.isConst() && b.isConst()) {
    const int64_t x = a.value, y = b.value;
    if (op == "Add") return SymElem::of(int64_t(uint64_t(x) + uint64_t(y)));
    if (op == "Sub") return SymElem::of(int64_t(uint64_t(x) - uint64_t(y)));
    if (op == "Mul") return SymElem::of(int64_t(uint64_t(x) * uint64_t(y)));
    if (op == "Div" || op == "Mod") {
      if (y == 0) fail("integer division by zero in a shape computation");
      return SymElem::of(op == "Div" ? x / y : x % y);
    }
    if (op == "Max") return SymElem::of(std::max(x, y));
    if (op == "Min") return SymElem::of(std::min(x, y));
    if (op == "Equal") return SymElem::of(x == y);
    if (op == "Less") return SymElem::of(x < y);
    if (op == "Greater") return SymElem::of(x > y);
    fail("no shape arithmetic for ", op);
  }
  // Identities that keep a dim a dim.
  if (a.isDim() && b.isConst()) {
    if ((op == "Mul" || op == "Div") && b.value == 1) return a;
    if ((op == "Add" || op == "Sub") && b.value == 0) return a;
    if (op == "Equal" && b.value < 0) return SymElem::of(0);  // dims are never negative
    if ((op == "Max") && b.value <= 0) return a;
    if (op == "Greater" && b.value < 0) return SymElem::of(1);
    if (op == "Less" && b.value < 0) return SymElem::of(0);
  }
  if (a.isConst() && b.isDim()) {
    if (op == "Mul" && a.value == 1) return b;
    if (op == "Add" && a.value == 0) return b;
    if (op == "Equal" && a.value < 0) return SymElem::of(0);
    if ((op == "Max") && a.value <= 0) return b;
  }
  if (a.isDim() && b.isDim() && a.dim.name == b.dim.name) {
    if (op == "Equal" || op == "Max" || op == "Min") return op == "Equal" ? SymElem::of(1) : a;
    if (op == "Sub") return SymElem::of(0);
    if (op == "Div") return SymElem::of(1);
  }
  return SymElem::unknown("(" + a.str() + opSymbol(op) + b.str() + ")");
}

SymElem symUnary(std::string_view op, const SymElem& a) {
  if (a.isConst()) {
    if (op == "Neg") return SymElem::of(-a.value);
    if (op == "Abs") return SymElem::of(a.value < 0 ? -a.value : a.value);
    if (op == "Not") return SymElem::of(!a.value);
    fail("no shape arithmetic for ", op);
  }
  if (a.isDim() && op == "Abs") return a;
  return SymElem::unknown(std::string(op) + "(" + a.str() + ")");
}

std::vector<int64_t> broadcastShapes(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  const size_t rank = std::max(a.size(), b.size());
  std::vector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < a.size() ? a[a.size() - 1 - i] : 1;
    const int64_t db = i < b.size() ? b[b.size() - 1 - i] : 1;
    if (da != db && da != 1 && db != 1)
      fail("shapes ", shapeString(a), " and ", shapeString(b), " do not broadcast");
    out[rank - 1 - i] = da == 1 ? db : da;
  }
  return out;
}

size_t broadcastIndex(const std::vector<int64_t>& s, const std::vector<int64_t>& o, size_t out) {
  size_t index = 0, stride = 1;
  for (size_t i = 0; i < s.size(); ++i) {
    const size_t si = s.size() - 1 - i, oi = o.size() - 1 - i;
    size_t rest = out;
    for (size_t j = o.size() - 1; j > oi; --j) rest /= size_t(o[j]);
    const size_t coord = rest % size_t(o[oi]);
    if (s[si] != 1) index += coord * stride;
    stride *= size_t(s[si]);
  }
  return index;
}

SymTensor symBroadcast(std::string_view op, const SymTensor& a, const SymTensor& b, DType outType) {
  SymTensor r;
  r.dtype = outType;
  r.shape = broadcastShapes(a.shape, b.shape);
  size_t n = 1;
  for (int64_t d : r.shape) n *= size_t(d);
  for (size_t i = 0; i < n; ++i) {
    SymElem e = symBinary(op, a.elems[broadcastIndex(a.shape, r.shape, i)], b.elems[broadcastIndex(b.shape, r.shape, i)]);
    if (e.isConst()) e.value = castInt(e.value, outType);
    r.elems.push_back(e);
  }
  return r;
}

bool isIntegerLike(DType t) {
  const std::string_view n = dtypeName(t);
  return n == "bool" || (!isFloat(t) && n != "f64" && t != DType::Ternary);
}

int64_t castInt(int64_t v, DType to) {
  const std::string_view n = dtypeName(to);
  if (n == "bool") return v != 0;
  if (n == "i8") return int8_t(v);
  if (n == "u8") return uint8_t(v);
  if (n == "i16") return int16_t(v);
  if (n == "u16") return uint16_t(v);
  if (n == "i32") return int32_t(v);
  if (n == "u32") return uint32_t(v);
  return v;
}

}  // namespace bitnetc::onnxfe
