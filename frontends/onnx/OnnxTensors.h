// ONNX tensors (initializers, Constant values) as IR weights and as numbers: element types,
// inline data (raw_data or the typed fields) and external data (a file beside the model,
// mapped, never copied; the range is checked against the file).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "compiler/ir/Types.h"
#include "compiler/ir/Weights.h"

namespace bitnetc::onnxfe {

// The IR element type of an ONNX TensorProto::DataType; throws naming `what` when the IR has none.
DType irDType(int32_t onnxType, const std::string& what);
std::string onnxTypeName(int32_t onnxType);  // "FLOAT", "INT64", ...

// Static dims of a tensor.
std::vector<int64_t> tensorShape(const onnx::TensorProto& t);

// Resolves external data once per file (one mapping per file).
class ExternalFiles {
 public:
  explicit ExternalFiles(std::string modelDir) : dir_(std::move(modelDir)) {}
  // The bytes of an external tensor: file, offset and size checked. Throws naming tensor and file.
  struct Range {
    std::shared_ptr<MappedFile> file;
    uint64_t offset = 0;
  };
  Range locate(const onnx::TensorProto& t, size_t expectedBytes);

 private:
  std::string dir_;
  std::map<std::string, std::shared_ptr<MappedFile>> files_;
};

// The tensor as a weight named `name`: inline data copied into owned bytes, external data mapped.
Weight tensorToWeight(const onnx::TensorProto& t, const std::string& name, ExternalFiles& files);

// The elements of an integer/bool tensor as int64 (inline or external).
std::vector<int64_t> tensorInts(const onnx::TensorProto& t, ExternalFiles& files);
// The elements of a float tensor (f32/f16/bf16/f64) as double (inline or external).
std::vector<double> tensorFloats(const onnx::TensorProto& t, ExternalFiles& files);

// Bytes of `values` in the IR element type `t` (integers wrap like a C cast; floats round).
std::vector<uint8_t> encodeElements(DType t, const std::vector<double>& values);
// Integers exactly (int64 values past 2^53 stay exact), in an integer, bool or float type.
std::vector<uint8_t> encodeInts(DType t, const std::vector<int64_t>& values);

}  // namespace bitnetc::onnxfe
