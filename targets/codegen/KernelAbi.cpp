#include "targets/codegen/KernelAbi.h"

#include <cctype>
#include <variant>

#include "compiler/ir/OpDefs.h"
#include "compiler/support/Error.h"

namespace bitnetc::target {

std::string kernelSymbol(const Op& op) {
  if (op.opcode == "bitlinear" && op.attrs.has("kernel")) {
    const std::string& kernel = op.attrs.getString("kernel");
    if (kernel.empty()) fail(op.describe(), ": empty 'kernel' attribute");
    for (char c : kernel)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_'))
        fail(op.describe(), ": kernel name '", kernel, "' is not letters, digits and '_'");
    return "bitnetk_bitlinear_" + kernel;
  }
  return "bitnetk_" + op.opcode;
}

KernelAttrs encodeKernelAttrs(const Op& op) {
  KernelAttrs out;
  for (const AttrDef& def : getOpDef(op.opcode).attrs) {
    const Attribute* a = op.attrs.find(def.name);
    switch (def.kind) {
      case AttrKind::Int:
        out.ints.push_back(a ? std::get<int64_t>(*a) : 0);
        break;
      case AttrKind::Bool: {
        const bool fallback = op.opcode.starts_with("reduce_") && def.name == "keepdims";
        out.ints.push_back(op.attrs.getBool(def.name, fallback) ? 1 : 0);
        break;
      }
      case AttrKind::Float:
        out.floats.push_back(op.attrs.getFloat(def.name, 0.0));
        break;
      case AttrKind::Ints: {
        const std::vector<int64_t> none;
        const auto& v = a ? std::get<std::vector<int64_t>>(*a) : none;
        out.ints.push_back(int64_t(v.size()));
        out.ints.insert(out.ints.end(), v.begin(), v.end());
        break;
      }
      case AttrKind::Floats: {
        std::vector<double> v;  // "[]" parses as an empty int list
        if (a && std::holds_alternative<std::vector<double>>(*a)) v = std::get<std::vector<double>>(*a);
        out.ints.push_back(int64_t(v.size()));
        out.floats.insert(out.floats.end(), v.begin(), v.end());
        break;
      }
      case AttrKind::String:
        if (op.opcode == "cast" && def.name == "to") {
          const std::string& to = op.attrs.getString("to");
          auto t = dtypeFromName(to);
          if (!t) fail(op.describe(), ": 'to' = \"", to, "\" is not a dtype");
          out.ints.push_back(abiDType(*t));
        }
        break;
    }
  }
  return out;
}

int64_t abiDType(DType t) {
  // bitnet_dtype follows DType's order (checked by codegen_abi_test).
  return static_cast<int64_t>(t);
}

int64_t abiLayout(const Weight& w) {
  if (!w.isTernary()) return 0;
  if (w.layout == kLayoutHFBlocked) return 1;
  if (w.layout == kLayoutI8) return 2;
  if (w.layout == kLayoutMad2) return 3;
  if (w.layout == kLayoutLut3) return 4;
  fail("weight @", w.name, ": layout \"", w.layout, "\" has no bitnet_layout code");
}

int64_t abiScaleRule(ScaleRule r) {
  switch (r) {
    case ScaleRule::None: return 0;
    case ScaleRule::Mul: return 1;
    case ScaleRule::Div: return 2;
  }
  fail("unknown scale rule");
}

std::string describeForKernel(const Op& op) {
  std::string s = op.describe() + "(";
  for (size_t i = 0; i < op.operands.size(); ++i) s += (i ? ", " : "") + op.operands[i]->ref();
  return s + ")";
}

}  // namespace bitnetc::target
