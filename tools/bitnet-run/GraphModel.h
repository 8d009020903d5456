// A generic graph (an ONNX model, or any IR function @main without state) behind one execution
// backend: the reference interpreter (interp), a library compiled by bitnetc (so) or the JIT
// (jit), the last two through the C API's run (runtime/include/bitnet.h). Tensors carry the
// ABI's element codes (TensorIO.h); names are the source model's (ONNX names via io_names).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "compiler/interp/Interpreter.h"
#include "frontends/ModelInput.h"
#include "tools/bitnet-run/LanguageModel.h"

namespace bitnetc::run {

struct TensorSpec {
  std::string name;
  DType type = DType::F32;
  std::vector<int64_t> dims;            // -1 for a dynamic dim
  std::vector<std::string> dimNames;    // "" for a static dim
  std::vector<int64_t> dimMax;          // a dynamic dim's bound, a static dim's size
};

class GraphModel {
 public:
  virtual ~GraphModel() = default;
  // Runs once; inputs in the graph's input order. Returns the outputs in order. Wrong inputs
  // are errors naming the input, with the same messages on every backend.
  virtual std::vector<HostTensor> run(const std::vector<HostTensor>& inputs) = 0;

  const std::vector<TensorSpec>& inputs() const { return inputs_; }
  const std::vector<TensorSpec>& outputs() const { return outputs_; }
  // As the C API's input_signature / output_signature (onnx-mlir's format plus dim names/bounds).
  const std::string& inputSignature() const { return inputSignature_; }
  const std::string& outputSignature() const { return outputSignature_; }
  const std::string& backend() const { return backend_; }

 protected:
  std::vector<TensorSpec> inputs_, outputs_;
  std::string inputSignature_, outputSignature_;
  std::string backend_;
};

// The signature JSON of specs, byte for byte as the runtime writes it.
std::string signatureJson(const std::vector<TensorSpec>& specs);

// Reads a graph for the backends that start from the IR (a .onnx or .bir file, then the default
// pass pipeline) and returns the module with its graph function (@main, else the first).
struct LoadedGraph {
  std::unique_ptr<Module> module;
  const Function* function = nullptr;
};
LoadedGraph loadGraphModule(const std::string& path, bool verbose, const ModelInputOptions& input = {});
// The second half of loadGraphModule: the default passes on an imported module, the graph function.
LoadedGraph prepareGraph(std::unique_ptr<Module> module, const std::string& path, bool verbose);
// The interpreter over a loaded graph.
std::unique_ptr<GraphModel> makeInterpGraph(LoadedGraph graph);
// The function's inputs/outputs as specs, named by the module's io_names.
std::vector<TensorSpec> specsOf(const Module& module, const std::vector<Value*>& values);

// The C API's checks of run's inputs (runtime/run.c), with its messages, for the interpreter:
// type, rank, static dims, dynamic dims within their bounds and equal across inputs.
void checkInputs(const std::vector<TensorSpec>& specs, const std::vector<HostTensor>& inputs);

// interp, so or jit, by options.backend (options as for language models); `input` says how to
// import a .onnx (dim bounds, constant inputs).
std::unique_ptr<GraphModel> loadGraph(const std::string& path, const LoadOptions& options,
                                      const ModelInputOptions& input = {});

}  // namespace bitnetc::run
