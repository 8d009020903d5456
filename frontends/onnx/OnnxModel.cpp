#include "frontends/onnx/OnnxModel.h"

#include <climits>
#include <filesystem>
#include <fstream>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <onnx/shape_inference/implementation.h>

#include "compiler/support/Error.h"

namespace bitnetc::onnxfe {

void loadOnnx(const std::string& path, LoadedOnnx& out, std::vector<std::string>* notes) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail(path, ": no such file or directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot open");
  {
    google::protobuf::io::IstreamInputStream raw(&in);
    google::protobuf::io::CodedInputStream coded(&raw);
    // Protobuf caps a message at 2 GiB; its default limit (64 MiB here) is lifted to that.
    coded.SetTotalBytesLimit(INT_MAX);
    if (!out.model.ParseFromCodedStream(&coded) || !coded.ConsumedEntireMessage())
      fail(path, ": not a valid ONNX model (the protobuf does not parse: truncated or corrupt file?)");
  }
  out.path = path;
  out.dir = std::filesystem::absolute(path).parent_path().string();
  const onnx::ModelProto& m = out.model;
  if (!m.has_graph() || (m.graph().node_size() == 0 && m.graph().output_size() == 0))
    fail(path, ": not an ONNX model (no graph)");
  if (m.ir_version() < 3) fail(path, ": ONNX IR version ", m.ir_version(), " is not supported (3 or later)");
  for (const auto& o : m.opset_import()) {
    if (o.domain().empty() || o.domain() == "ai.onnx") out.opset = o.version();
    else if (o.domain() == "com.microsoft") out.msOpset = o.version();
  }
  // 13-17 is the supported range; 9-12 differ in ways the lowerings handle (axes and split as
  // attributes, Clip bounds as attributes, Softmax on the coerced 2-D view) or reject by name
  // (Slice's attributes before 10).
  if (out.opset < 9 || out.opset > 17)
    fail(path, ": opset ", out.opset, " of the default ONNX domain is not supported (13 to 17; 9 to 12 accepted)");

  // Shape inference on a copy: unknown ops (com.microsoft) are skipped; node-level failures are
  // ignored (error mode 0). Our own type rules decide the IR types; these are cross-checks.
  try {
    onnx::ShapeInferenceOptions options(false, 0, true);
    onnx::shape_inference::InferShapes(out.model, onnx::OpSchemaRegistry::Instance(), options);
  } catch (const std::exception& e) {
    if (notes) notes->push_back(std::string("ONNX shape inference failed (types come from the IR's rules): ") + e.what());
  }
  const onnx::GraphProto& g = out.model.graph();
  for (const auto& v : g.value_info()) out.inferred[v.name()] = &v.type();
  for (const auto& v : g.output()) out.inferred[v.name()] = &v.type();
  for (const auto& v : g.input()) out.inferred[v.name()] = &v.type();
}

}  // namespace bitnetc::onnxfe
