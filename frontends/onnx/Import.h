// Imports an ONNX model (ModelProto, opsets 13-17 of the default domain, 9-12 where the op
// lowerings follow the older forms, plus com.microsoft MatMulNBits) into one IR function @main: inputs and outputs in ONNX order, values named after
// the ONNX output names, initializers as weights (external data stays in its mapped file),
// shape-computing subgraphs evaluated at import. docs/ONNX.md lists the ops and the rules.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "compiler/ir/IR.h"

namespace bitnetc {

struct OnnxImportOptions {
  // Bounds of the dynamic dims: dim_param NAME (as written in the model, or sanitized) -> N.
  std::map<std::string, int64_t> dims;
  // Bound of every dim_param not named in `dims`.
  int64_t maxSeq = 512;
  // Graph inputs bound to constant data: input name -> a TensorProto file (.pb, as the ONNX
  // test data). Such an input becomes that constant (for inputs that feed shapes or axes).
  std::map<std::string, std::string> constInputs;
  // When set, receives one-line remarks about import decisions (printed with -v).
  std::vector<std::string>* notes = nullptr;
};

// Throws Error naming the file, and the node / tensor at fault.
std::unique_ptr<Module> importOnnx(const std::string& path, const OnnxImportOptions& options = {});

}  // namespace bitnetc
