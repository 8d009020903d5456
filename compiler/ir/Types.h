// Tensor types of the IR: element types, named dynamic dimensions with an upper bound, and
// tensor types. The ternary element type holds the logical values -1/0/+1; how they are packed
// in memory is a property of the weight (see Weights.h), chosen by a pass, not part of the type.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bitnetc {

// Codes are the ABI's bitnet_dtype (runtime/abi/bitnet_abi.h): the ONNX types were appended.
enum class DType : uint8_t { F32, BF16, F16, I8, I32, I64, U8, Ternary, Bool, F64, I16, U16, U32, U64 };

std::string_view dtypeName(DType t);                       // "f32", ..., "ternary"
std::optional<DType> dtypeFromName(std::string_view name);
size_t dtypeSize(DType t);                                  // bytes per element; 0 for Ternary
bool isFloat(DType t);        // f32, bf16, f16: stored floats whose math is done in f32
bool isInteger(DType t);      // i8, i16, i32, i64, u8, u16, u32, u64 (not bool)
bool isUnsigned(DType t);     // u8, u16, u32, u64
// Any element type an ONNX tensor can hold: floats (incl. f64), integers, bool; not ternary.
bool isNumeric(DType t);
// A concrete shape as "[2, 3]", for error messages.
std::string shapeString(const std::vector<int64_t>& shape);

// One dimension: static (size >= 0) or dynamic (named, e.g. "seq", bounded by max).
struct Dim {
  int64_t size = 0;    // -1 when dynamic
  std::string name;    // dynamic dims only
  int64_t max = 0;     // dynamic dims only: inclusive upper bound

  static Dim fixed(int64_t n) { return Dim{n, {}, 0}; }
  static Dim dynamic(std::string name, int64_t max) { return Dim{-1, std::move(name), max}; }
  bool isDynamic() const { return size < 0; }
  int64_t upperBound() const { return isDynamic() ? max : size; }
  bool operator==(const Dim&) const = default;
};

struct TensorType {
  DType dtype = DType::F32;
  std::vector<Dim> dims;  // empty = scalar

  TensorType() = default;
  TensorType(DType t, std::vector<Dim> d) : dtype(t), dims(std::move(d)) {}
  static TensorType of(DType t, std::initializer_list<int64_t> shape);

  size_t rank() const { return dims.size(); }
  bool isStatic() const;
  int64_t numElementsUpperBound() const;
  // Static shape; throws if a dim is dynamic.
  std::vector<int64_t> staticShape() const;
  // "tensor<?seq x 64 x f32>", or "ternary<64 x 32>" for ternary weights.
  std::string str() const;
  bool operator==(const TensorType&) const = default;
};

}  // namespace bitnetc
