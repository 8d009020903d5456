// Integer tensors known at import: constants and what ONNX graphs compute from shapes
// (Shape -> Gather -> Unsqueeze -> Concat -> Reshape ...). Each element is a constant, a dynamic
// dim (?seq) or an expression of dims the IR cannot name (?seq + 1), kept for error messages.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/ir/Types.h"

namespace bitnetc::onnxfe {

struct SymElem {
  enum class Kind : uint8_t { Const, Dim, Expr };
  Kind kind = Kind::Const;
  int64_t value = 0;  // Const
  Dim dim;            // Dim (dynamic)
  std::string expr;   // Expr: printable form

  static SymElem of(int64_t v) { return {Kind::Const, v, {}, {}}; }
  static SymElem ofDim(const Dim& d) { return d.isDynamic() ? SymElem{Kind::Dim, 0, d, {}} : of(d.size); }
  static SymElem unknown(std::string e) { return {Kind::Expr, 0, {}, std::move(e)}; }
  bool isConst() const { return kind == Kind::Const; }
  bool isDim() const { return kind == Kind::Dim; }
  std::string str() const;
};

struct SymTensor {
  DType dtype = DType::I64;
  std::vector<int64_t> shape;
  std::vector<SymElem> elems;  // row-major

  static SymTensor constant(DType t, std::vector<int64_t> shape, const std::vector<int64_t>& values);
  size_t size() const { return elems.size(); }
  bool allConst() const;
  bool hasExpr() const;
  std::vector<int64_t> consts() const;  // requires allConst()
  std::string str() const;              // "[?seq, 4, 8]"
};

// Elementwise ops on known values: Add Sub Mul Div Mod Max Min Equal Less Greater Neg Abs.
// Constants fold (integer division truncates toward zero, as ONNX Runtime does); identities
// (x*1, x+0, x/1, ?a == ?a) keep dims; anything else becomes an expression.
SymElem symBinary(std::string_view op, const SymElem& a, const SymElem& b);
SymElem symUnary(std::string_view op, const SymElem& a);
// numpy broadcasting of two known tensors; `outType` is the result element type.
SymTensor symBroadcast(std::string_view op, const SymTensor& a, const SymTensor& b, DType outType);
// Integer and bool element types: the ones known tensors track.
bool isIntegerLike(DType t);
// Wraps an integer into the range of an integer type (bool: != 0), as a C cast does.
int64_t castInt(int64_t v, DType to);

// Numpy broadcast of two static shapes; throws naming both.
std::vector<int64_t> broadcastShapes(const std::vector<int64_t>& a, const std::vector<int64_t>& b);
// Row-major index in a broadcast operand of shape `s` for the output index `out` of shape `o`.
size_t broadcastIndex(const std::vector<int64_t>& s, const std::vector<int64_t>& o, size_t out);

}  // namespace bitnetc::onnxfe
