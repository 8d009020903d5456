#include "compiler/ir/Types.h"

#include "compiler/support/Error.h"

namespace bitnetc {

namespace {
struct DTypeInfo {
  DType type;
  std::string_view name;
  size_t size;
};
constexpr DTypeInfo kDTypes[] = {
    {DType::F32, "f32", 4}, {DType::BF16, "bf16", 2}, {DType::F16, "f16", 2},
    {DType::I8, "i8", 1},   {DType::I32, "i32", 4},   {DType::I64, "i64", 8},
    {DType::U8, "u8", 1},   {DType::Ternary, "ternary", 0}, {DType::Bool, "bool", 1},
    {DType::F64, "f64", 8}, {DType::I16, "i16", 2}, {DType::U16, "u16", 2},
    {DType::U32, "u32", 4}, {DType::U64, "u64", 8},
};
}  // namespace

std::string_view dtypeName(DType t) { return kDTypes[static_cast<int>(t)].name; }

std::optional<DType> dtypeFromName(std::string_view name) {
  for (const auto& info : kDTypes)
    if (info.name == name) return info.type;
  return std::nullopt;
}

size_t dtypeSize(DType t) { return kDTypes[static_cast<int>(t)].size; }
bool isFloat(DType t) { return t == DType::F32 || t == DType::BF16 || t == DType::F16; }
bool isInteger(DType t) {
  switch (t) {
    case DType::I8: case DType::I16: case DType::I32: case DType::I64:
    case DType::U8: case DType::U16: case DType::U32: case DType::U64: return true;
    default: return false;
  }
}
bool isUnsigned(DType t) {
  return t == DType::U8 || t == DType::U16 || t == DType::U32 || t == DType::U64;
}
bool isNumeric(DType t) { return t != DType::Ternary; }

std::string shapeString(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

TensorType TensorType::of(DType t, std::initializer_list<int64_t> shape) {
  TensorType type;
  type.dtype = t;
  for (int64_t n : shape) type.dims.push_back(Dim::fixed(n));
  return type;
}

bool TensorType::isStatic() const {
  for (const Dim& d : dims)
    if (d.isDynamic()) return false;
  return true;
}

int64_t TensorType::numElementsUpperBound() const {
  int64_t n = 1;
  for (const Dim& d : dims) n *= d.upperBound();
  return n;
}

std::vector<int64_t> TensorType::staticShape() const {
  std::vector<int64_t> shape;
  for (const Dim& d : dims) {
    if (d.isDynamic()) fail("type ", str(), " has the dynamic dimension ?", d.name);
    shape.push_back(d.size);
  }
  return shape;
}

std::string TensorType::str() const {
  std::string s = dtype == DType::Ternary ? "ternary<" : "tensor<";
  for (const Dim& d : dims) {
    s += d.isDynamic() ? "?" + d.name : std::to_string(d.size);
    s += " x ";
  }
  if (dtype == DType::Ternary) {
    if (!dims.empty()) s.resize(s.size() - 3);
  } else {
    s += dtypeName(dtype);
  }
  return s + ">";
}

}  // namespace bitnetc
