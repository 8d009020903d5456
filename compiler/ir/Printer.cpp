#include "compiler/ir/Printer.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <sstream>

#include "compiler/support/Error.h"

namespace bitnetc {

namespace {
// Shortest round-trip text of v; integral values below 1e16 in plain digits ("500000", not
// "5e+05"), which is still exact and reads better.
template <typename T>
std::string shortest(T v) {
  char buf[64];
  const bool plain = v == std::trunc(v) && std::fabs(v) < T(1e16);
  auto [end, ec] = plain ? std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed)
                         : std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}
}  // namespace

std::string formatFloatAttr(double v) {
  std::string s = shortest(v);
  if (s.find_first_not_of("-0123456789") == std::string::npos) s += ".0";  // keep it a float
  return s;
}

std::string formatFloat(float v) { return shortest(v); }

std::string quoteString(std::string_view s) {
  static const char* hex = "0123456789abcdef";
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string printAttribute(const Attribute& a) {
  struct Visitor {
    std::string operator()(int64_t v) const { return std::to_string(v); }
    std::string operator()(double v) const { return formatFloatAttr(v); }
    std::string operator()(const std::string& v) const { return quoteString(v); }
    std::string operator()(bool v) const { return v ? "true" : "false"; }
    std::string operator()(const std::vector<int64_t>& v) const {
      std::string s = "[";
      for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
      return s + "]";
    }
    std::string operator()(const std::vector<double>& v) const {
      std::string s = "[";
      for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + formatFloatAttr(v[i]);
      return s + "]";
    }
  };
  return std::visit(Visitor{}, a);
}

std::string printAttributes(const AttributeList& attrs) {
  if (attrs.empty()) return "";
  std::string s = "{";
  bool first = true;
  for (const auto& [name, value] : attrs.entries()) {
    s += (first ? "" : ", ") + name + " = " + printAttribute(value);
    first = false;
  }
  return s + "}";
}

namespace {

// The logical elements of an owned weight, comma-separated.
void printDenseValues(const Weight& w, std::ostream& out) {
  const int64_t n = w.numElements();
  auto sep = [&](int64_t i) {
    if (i) out << ", ";
  };
  if (w.isTernary()) {
    const std::vector<int8_t> values = w.unpackTernary();
    for (int64_t i = 0; i < n; ++i) sep(i), out << int(values[size_t(i)]);
    return;
  }
  auto load = [&]<typename T>(T, int64_t i) {
    T v;
    std::memcpy(&v, w.data + sizeof(T) * size_t(i), sizeof(T));
    return v;
  };
  for (int64_t i = 0; i < n; ++i) {
    sep(i);
    switch (w.type.dtype) {
      case DType::F32: case DType::BF16: case DType::F16: out << formatFloat(w.floatAt(i)); break;
      case DType::F64: out << shortest(load(double(), i)); break;
      case DType::I8: out << int(int8_t(w.data[i])); break;
      case DType::U8: case DType::Bool: out << int(w.data[i]); break;
      case DType::I16: out << load(int16_t(), i); break;
      case DType::U16: out << load(uint16_t(), i); break;
      case DType::I32: out << load(int32_t(), i); break;
      case DType::U32: out << load(uint32_t(), i); break;
      case DType::U64: out << load(uint64_t(), i); break;
      default: out << load(int64_t(), i);
    }
  }
}

void printWeight(const Weight& w, std::ostream& out) {
  out << "weight @" << w.name << " : " << w.type.str();
  if (w.isTernary()) {
    out << " layout " << quoteString(w.layout) << " scale " << scaleRuleName(w.scaleRule);
    if (w.scaleRule != ScaleRule::None) out << " " << formatFloat(w.scale);
  }
  out << " = ";
  if (w.file) {
    out << "external " << quoteString(w.filePath.empty() ? w.file->path() : w.filePath)
        << " offset " << w.fileOffset << "\n";
  } else {
    out << "dense<[";
    printDenseValues(w, out);
    out << "]>\n";
  }
}

void printValueList(const std::vector<Value*>& values, std::ostream& out) {
  for (size_t i = 0; i < values.size(); ++i)
    out << (i ? ", " : "") << values[i]->ref() << ": " << values[i]->type.str();
}

void printFunction(const Function& f, std::ostream& out) {
  out << "func @" << f.name() << "(";
  printValueList(f.inputs(), out);
  out << ") -> (";
  for (size_t i = 0; i < f.outputs().size(); ++i)
    out << (i ? ", " : "") << f.outputs()[i]->type.str();
  out << ")";
  if (!f.states().empty()) {
    out << "\n    state(";
    printValueList(f.states(), out);
    out << ")";
  }
  out << " {\n";
  for (const auto& op : f.ops()) {
    out << "  ";
    for (size_t i = 0; i < op->results.size(); ++i) out << (i ? ", " : "") << op->results[i]->ref();
    out << " = " << op->opcode << "(";
    for (size_t i = 0; i < op->operands.size(); ++i) out << (i ? ", " : "") << op->operands[i]->ref();
    out << ")";
    if (!op->attrs.empty()) out << " " << printAttributes(op->attrs);
    out << " : ";
    for (size_t i = 0; i < op->results.size(); ++i) out << (i ? ", " : "") << op->results[i]->type.str();
    out << "\n";
  }
  out << "  return";
  for (size_t i = 0; i < f.outputs().size(); ++i) out << (i ? ", " : " ") << f.outputs()[i]->ref();
  out << "\n}\n";
}

}  // namespace

void printModule(const Module& m, std::ostream& out) {
  out << "bir 1\n";
  if (!m.attrs.empty()) out << "module " << printAttributes(m.attrs) << "\n";
  for (const auto& [name, max] : m.dims()) out << "dim ?" << name << " <= " << max << "\n";
  for (const auto& w : m.weights()) printWeight(*w, out);
  for (const auto& f : m.functions()) {
    out << "\n";
    printFunction(*f, out);
  }
}

std::string printModule(const Module& m) {
  std::ostringstream out;
  printModule(m, out);
  return out.str();
}

}  // namespace bitnetc
