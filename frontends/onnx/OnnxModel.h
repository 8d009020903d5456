// Reading an ONNX file: the protobuf (past protobuf's default 64 MiB message limit), the opset
// check (default domain 13-17, com.microsoft 1) and ONNX shape inference for value types.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

namespace bitnetc::onnxfe {

struct LoadedOnnx {
  onnx::ModelProto model;
  std::string path;
  std::string dir;                // directory of the model: external data is relative to it
  int64_t opset = 0;              // of the default domain
  int64_t msOpset = 0;            // com.microsoft, 0 when not imported
  // Value types ONNX shape inference found (graph inputs, outputs and value_info), by name.
  std::map<std::string, const onnx::TypeProto*> inferred;
};

// Throws Error naming the file: unreadable, not an ONNX model, no graph, unsupported opset.
// notes: receives a remark when shape inference gave up (the import does not depend on it).
void loadOnnx(const std::string& path, LoadedOnnx& out, std::vector<std::string>* notes);

}  // namespace bitnetc::onnxfe
