// Internal to the interpreter: how one op is executed. Every op family lives in its own file
// (ElementwiseOps, ReductionOps, ShapeOps, LinearOps, BitNetOps, AttentionOps) and registers
// its kernels by opcode. A kernel reads its operands through TensorViews (which may point into
// a HostTensor or straight into a weight's mapped bytes), validates dtypes and shapes (throwing
// an Error naming the op), and appends its results to OpCall::results.
#pragma once
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "compiler/interp/Interpreter.h"
#include "compiler/support/Error.h"

namespace bitnetc::interp {

// A read-only view of an operand: a value's HostTensor or a weight's bytes.
struct TensorView {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;
  const Weight* weight = nullptr;  // set when the operand is a weight
  const Value* value = nullptr;

  int64_t numElements() const;
  template <typename T> const T* as() const { return reinterpret_cast<const T*>(data); }
  // Element i converted (float dtypes to f32 exactly; integers to int64).
  float floatAt(int64_t i) const;
  int64_t intAt(int64_t i) const;   // also bool (0/1); u64 as its bits
  uint64_t uintAt(int64_t i) const;  // an integer element as uint64 (signed ones wrap)
  double doubleAt(int64_t i) const;  // any non-ternary element as a double (exact but i64/u64)
  // Elements [offset, offset + count) of a float view converted to f32 (one dtype switch).
  void toF32(int64_t offset, int64_t count, float* out) const;
  std::string describe() const;  // "%x (tensor<2 x 3 x f32>)"
};

// Decoded weights kept within a memory budget: unpacked ternary matrices (int8) and bf16/f16
// weights widened to f32. A 2B-4T model has 2 G ternary weights: beyond the budget bitlinear
// decodes row by row, and matmul converts row by row, on each call instead.
class WeightCache {
 public:
  explicit WeightCache(size_t budgetBytes) : budget_(budgetBytes) {}
  // The whole ternary [out, in] matrix as -1/0/+1, or nullptr when it does not fit.
  const int8_t* ternary(const Weight& w, Fault fault);
  // A bf16/f16 weight as f32, or nullptr when it does not fit (or is f32 already).
  const float* floats(const Weight& w);

 private:
  size_t budget_, used_ = 0;
  std::unordered_map<const Weight*, std::vector<int8_t>> ternary_;
  std::unordered_map<const Weight*, std::vector<float>> floats_;
};

// Decodes row n of a ternary weight [out, in] into row[0..in) (-1/0/+1), per its layout.
// Fault::InterleavedPacking decodes hf_blocked_2bit as T[4r + i, c] (test-only, wrong).
void decodeTernaryRow(const Weight& w, int64_t n, Fault fault, int8_t* row);

struct OpCall {
  const Op& op;
  std::vector<TensorView> operands;
  std::vector<HostTensor*> states;  // parallel to operands; non-null where the operand is a state
  Fault fault = Fault::None;
  WeightCache* weightCache = nullptr;
  std::vector<HostTensor> results;   // filled by the kernel, in the op's result order
  HostTensor accumulators;           // bitlinear: the i32 accumulators [..., N]
  bool hasAccumulators = false;
  const std::unordered_map<std::string, int64_t>* dims = nullptr;  // this call's dynamic dims

  const TensorView& in(size_t i) const;
  size_t numOperands() const { return operands.size(); }
  [[noreturn]] void error(const std::string& message) const;  // "op %y = add: message"
  void expectOperands(size_t n) const;
  void expectOperandsAtLeast(size_t n) const;
  void expectDType(size_t i, std::initializer_list<DType> allowed) const;
  void expectRank(size_t i, size_t rank) const;
  // The declared result dtype (results may be any float dtype for float math, etc.).
  DType resultDType(size_t i = 0) const;
  // The declared result type's shape with its dynamic dims at this call's values (for ops
  // whose result shape is the declared type: expand, range, slice).
  std::vector<int64_t> declaredShape(size_t i = 0) const;
};

using Kernel = std::function<void(OpCall&)>;
using KernelTable = std::map<std::string, Kernel, std::less<>>;

void registerElementwiseOps(KernelTable& table);
void registerReductionOps(KernelTable& table);
void registerShapeOps(KernelTable& table);
void registerLinearOps(KernelTable& table);
void registerBitNetOps(KernelTable& table);
void registerAttentionOps(KernelTable& table);
// The ops added for ONNX graphs (CompareOps, IndexOps, LayerNormOps, QuantizedLinearOps).
void registerCompareOps(KernelTable& table);
void registerIndexOps(KernelTable& table);
void registerLayerNormOps(KernelTable& table);
void registerQuantizedLinearOps(KernelTable& table);

// Helpers shared by the kernels.
int64_t product(const std::vector<int64_t>& shape, size_t from = 0, size_t to = SIZE_MAX);
// Writes v (computed in f32) as the dtype t at element i (f32, bf16, f16).
void storeFloat(HostTensor& t, int64_t i, float v);
// Writes an integer value at element i of an integer or bool tensor (wraps like a C cast).
void storeInt(HostTensor& t, int64_t i, int64_t v);
// Writes v at element i of an f64 tensor, or of an f32/bf16/f16 one after rounding to f32.
void storeDouble(HostTensor& t, int64_t i, double v);
// Normalizes an axis (negative counts from the end); error naming the op when out of range.
int64_t normalizeAxis(const OpCall& call, int64_t axis, int64_t rank);
// Operand i as the non-negative scalar i64 `pos`; error naming the op otherwise.
int64_t scalarPosOperand(const OpCall& call, size_t i);

}  // namespace bitnetc::interp
