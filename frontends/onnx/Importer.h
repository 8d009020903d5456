// The state of one ONNX import and the helpers every op lowering (Lower*.cpp) uses: the ONNX
// values seen so far (an IR value, a tensor known at import, or constant data made a weight on
// first use), value naming, emitting IR ops with their types from the IR's own type rules, and
// turning known tensors into IR operands.
#pragma once
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <onnx/onnx_pb.h>

#include "compiler/ir/IR.h"
#include "frontends/onnx/Import.h"
#include "frontends/onnx/OnnxModel.h"
#include "frontends/onnx/OnnxTensors.h"
#include "frontends/onnx/SymbolicShape.h"

namespace bitnetc::onnxfe {

struct OValue {
  TensorType type;
  Value* ir = nullptr;                          // the IR value once materialized
  std::optional<SymTensor> known;               // integer/bool elements known at import
  const onnx::TensorProto* tensor = nullptr;    // constant data (initializer, Constant)
  std::string onnxName;
};

class Importer;
using LowerFn = void (*)(Importer&);
struct Lowering {
  std::string_view domain;  // "" (default) or "com.microsoft"
  std::string_view opType;
  std::vector<std::string_view> attrs;  // the attributes it understands
  LowerFn lower;
};
// Each Lower*.cpp adds its ops.
void addElementwiseLowerings(std::vector<Lowering>& out);
void addShapeLowerings(std::vector<Lowering>& out);
void addLinearLowerings(std::vector<Lowering>& out);
void addNormalizeLowerings(std::vector<Lowering>& out);

class Importer {
 public:
  Importer(LoadedOnnx& src, const OnnxImportOptions& options);
  std::unique_ptr<Module> run();

  // ---- for lowerings: the node being lowered ----
  const onnx::NodeProto& node() const { return *node_; }
  int64_t opset() const { return src_.opset; }
  size_t numInputs() const { return size_t(node_->input_size()); }
  bool has(size_t i) const { return i < numInputs() && !node_->input(int(i)).empty(); }
  OValue& in(size_t i);                          // throws when the input is absent
  const TensorType& typeOf(size_t i) { return in(i).type; }
  Value* ir(size_t i);                           // the input as an IR operand
  const SymTensor* known(size_t i);              // known elements, or nullptr
  bool allInputsKnown();                         // every present input is known
  // Constant inputs: elements of an integer input known at import (all constants), throws
  // naming `what` otherwise; floats of any constant input, or nullopt.
  std::vector<int64_t> constInts(size_t i, std::string_view what);
  std::optional<std::vector<double>> constFloats(size_t i);
  bool hasOutput(size_t i) const { return i < size_t(node_->output_size()) && !node_->output(int(i)).empty(); }
  size_t numOutputs() const { return size_t(node_->output_size()); }

  // Attributes of the node.
  const onnx::AttributeProto* attr(std::string_view name) const;
  int64_t attrInt(std::string_view name, int64_t fallback) const;
  double attrFloat(std::string_view name, double fallback) const;
  std::vector<int64_t> attrInts(std::string_view name) const;  // empty when absent
  std::optional<std::vector<int64_t>> attrIntsOpt(std::string_view name) const;

  // Results.
  void define(size_t out, Value* v);             // output `out` is this IR value
  void defineSame(size_t out, OValue& v);       // output `out` is the same value as v
  void defineKnown(size_t out, SymTensor t);     // output `out` is known at import
  void defineTensor(size_t out, const onnx::TensorProto& t);  // constant data (copied)
  const std::string& outName(size_t out);        // the IR name reserved for output `out`
  std::string tmpName(std::string_view suffix);  // a fresh name for a helper op

  // IR ops. The result type comes from the op's type rule (emit) or is given (emitTyped, for
  // expand/range/slice whose result type is the declared one); both check the op.
  Value* emit(std::string opcode, std::vector<Value*> operands, AttributeList attrs, std::string name);
  Value* emitTyped(std::string opcode, std::vector<Value*> operands, AttributeList attrs,
                   TensorType type, std::string name);
  // reshape (unsqueeze step by step when one reshape cannot say it) to exactly `dims`.
  Value* reshapeTo(Value* x, const std::vector<Dim>& dims, std::string name);
  // An owned weight with these elements.
  Value* constant(DType t, const std::vector<int64_t>& shape, const std::vector<double>& values,
                  std::string_view hint = "const");
  Value* constantInts(DType t, const std::vector<int64_t>& shape, const std::vector<int64_t>& values,
                      std::string_view hint = "const");
  // A known element as an IR dim (constant or dynamic); throws naming `what` for expressions.
  Dim dimOf(const SymElem& e, std::string_view what) const;
  // Materializes a known tensor or constant as an IR value (weights; `shape` ops for dims).
  Value* materialize(OValue& v);
  void note(std::string text);

 private:
  void importInputs();
  void importInitializers();
  void bindConstInputs();
  void addConstant(const onnx::TensorProto& t);  // t must outlive the import
  void lowerNode(const onnx::NodeProto& n, size_t index);
  void checkAgainstInference(const std::string& name, const OValue& v);
  void setOutputs();
  std::string uniqueValueName(std::string_view onnxName);
  std::string uniqueWeightName(std::string_view onnxName);
  Value* dimValue(const Dim& d);  // i64 [1] holding a dynamic dim at run time

  LoadedOnnx& src_;
  const OnnxImportOptions& options_;
  std::unique_ptr<Module> module_;
  Function* fn_ = nullptr;
  ExternalFiles files_;
  std::map<std::string, OValue> values_;
  std::set<std::string> valueNames_, weightNames_;
  std::map<std::string, std::pair<Value*, size_t>> dimSources_;  // dim -> (input, axis)
  std::map<std::string, Value*> dimValues_;                      // dim -> its i64 [1] value
  int64_t tmpCounter_ = 0;
  std::map<std::string, std::string> ioNames_;                   // IR name -> ONNX name
  std::deque<onnx::TensorProto> ownedTensors_;
  const onnx::NodeProto* node_ = nullptr;
  std::vector<std::string> outNames_;
  std::map<std::string, const Lowering*> lowerings_;
  std::vector<Lowering> table_;
};

// IR names allow letters, digits, '_', '.', '$': everything else becomes '_'.
std::string sanitizeName(std::string_view name);

}  // namespace bitnetc::onnxfe
