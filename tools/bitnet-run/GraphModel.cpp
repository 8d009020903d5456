#include "tools/bitnet-run/GraphModel.h"

#include <iostream>
#include <map>

#include <nlohmann/json.hpp>

#include "compiler/pass/PassManager.h"
#include "compiler/pass/Pipeline.h"
#include "compiler/support/Error.h"
#include "frontends/ModelInput.h"
#include "passes/Passes.h"
#include "targets/codegen/ModelDescriptor.h"
#include "tools/bitnet-run/GraphApi.h"
#include "tools/bitnet-run/TensorIO.h"

namespace bitnetc::run {

std::string signatureJson(const std::vector<TensorSpec>& specs) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const TensorSpec& s : specs) {
    nlohmann::ordered_json names = nlohmann::ordered_json::array();
    for (const std::string& n : s.dimNames) names.push_back(n.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(n));
    list.push_back({{"type", typeName(s.type)}, {"dims", s.dims}, {"name", s.name}, {"dim_names", names},
                    {"dim_max", s.dimMax}});
  }
  // The runtime escapes only quotes, backslashes and control bytes: keep other UTF-8 as it is.
  return list.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::vector<TensorSpec> specsOf(const Module& module, const std::vector<Value*>& values) {
  const auto names = target::ioNames(module);
  std::vector<TensorSpec> specs;
  for (const Value* v : values) {
    TensorSpec s;
    auto it = names.find(v->name);
    s.name = it == names.end() ? v->name : it->second;
    s.type = v->type.dtype;
    for (const Dim& d : v->type.dims) {
      s.dims.push_back(d.isDynamic() ? -1 : d.size);
      s.dimNames.push_back(d.isDynamic() ? d.name : "");
      s.dimMax.push_back(d.upperBound());
    }
    specs.push_back(std::move(s));
  }
  return specs;
}

LoadedGraph loadGraphModule(const std::string& path, bool verbose, const ModelInputOptions& input) {
  LoadedGraph g;
  std::vector<std::string> notes;
  ModelInputOptions io = input;
  if (verbose) io.notes = &notes;
  g.module = readModelInput(path, io);
  for (const std::string& n : notes) std::cerr << "import: " << n << "\n";
  return prepareGraph(std::move(g.module), path, verbose);
}

LoadedGraph prepareGraph(std::unique_ptr<Module> module, const std::string& path, bool verbose) {
  LoadedGraph g;
  g.module = std::move(module);
  registerAllPasses();
  PassManagerOptions pm;
  pm.pipeline = splitPipeline(defaultPipeline());
  PassManager(pm, std::cerr).run(*g.module);
  const Module& m = *g.module;
  g.function = m.function("main");
  if (!g.function && !m.functions().empty()) g.function = m.functions().front().get();
  if (!g.function) fail(path, ": the module has no function");
  if (!g.function->states().empty())
    fail(path, ": @", g.function->name(), " has state (a KV cache): a language model, not a generic graph");
  if (verbose)
    std::cerr << "graph: " << path << " (@" << g.function->name() << ", " << g.function->inputs().size()
              << " inputs, " << g.function->outputs().size() << " outputs, " << g.function->ops().size()
              << " ops, passes " << defaultPipeline() << ")\n";
  return g;
}

namespace {

std::string declaredShape(const TensorSpec& s) {
  std::string text = "[";
  for (size_t i = 0; i < s.dims.size(); ++i)
    text += (i ? ", " : "") + (s.dims[i] >= 0 ? std::to_string(s.dims[i]) : "?" + s.dimNames[i]);
  return text + "]";
}

}  // namespace

void checkInputs(const std::vector<TensorSpec>& specs, const std::vector<HostTensor>& inputs) {
  if (inputs.size() != specs.size()) fail("run: ", inputs.size(), " inputs, the graph takes ", specs.size());
  std::map<std::string, std::pair<int64_t, size_t>> bound;  // dim name -> (size, input that bound it)
  for (size_t i = 0; i < specs.size(); ++i) {
    const TensorSpec& s = specs[i];
    const HostTensor& t = inputs[i];
    const std::string decl = typeName(s.type) + " " + declaredShape(s);
    if (t.dtype != s.type)
      fail("run: input '", s.name, "' has type ", typeName(t.dtype), " (", int(t.dtype), "), the graph takes ", decl);
    if (t.shape.size() != s.dims.size())
      fail("run: input '", s.name, "' has rank ", t.shape.size(), ", the graph takes ", decl);
    const std::string given = shapeString(t.shape);
    for (size_t d = 0; d < s.dims.size(); ++d) {
      if (t.shape[d] < 0 || (s.dims[d] >= 0 && t.shape[d] != s.dims[d]))
        fail("run: input '", s.name, "' has dims ", given, ", the graph takes ", decl);
      if (s.dims[d] >= 0) continue;
      const std::string& dim = s.dimNames[d];
      if (t.shape[d] > s.dimMax[d])
        fail("run: input '", s.name, "' has dims ", given, ": dim ", d, " (?", dim, ") = ", t.shape[d],
             " exceeds its bound ", s.dimMax[d], " (fixed when the model was compiled)");
      auto [it, inserted] = bound.emplace(dim, std::make_pair(t.shape[d], i));
      if (!inserted && it->second.first != t.shape[d])
        fail("run: input '", s.name, "' has dims ", given, ": dim ", d, " (?", dim, ") = ", t.shape[d],
             ", but input '", specs[it->second.second].name, "' has ?", dim, " = ", it->second.first);
    }
  }
}

namespace {

class InterpGraph : public GraphModel {
 public:
  explicit InterpGraph(LoadedGraph g) : g_(std::move(g)), interp_(*g_.module, *g_.function) {
    backend_ = "interp";
    inputs_ = specsOf(*g_.module, g_.function->inputs());
    outputs_ = specsOf(*g_.module, g_.function->outputs());
    inputSignature_ = signatureJson(inputs_);
    outputSignature_ = signatureJson(outputs_);
  }

  std::vector<HostTensor> run(const std::vector<HostTensor>& inputs) override {
    checkInputs(inputs_, inputs);
    return interp_.run(inputs);
  }

 private:
  LoadedGraph g_;
  Interpreter interp_;
};

}  // namespace

std::unique_ptr<GraphModel> makeInterpGraph(LoadedGraph graph) {
  return std::make_unique<InterpGraph>(std::move(graph));
}

std::unique_ptr<GraphModel> loadGraph(const std::string& path, const LoadOptions& options,
                                      const ModelInputOptions& input) {
  if (options.backend == "interp") return makeInterpGraph(loadGraphModule(path, options.verbose, input));
  if (options.backend == "so") return loadLibraryGraph(path, options);
  if (options.backend == "jit") return makeJitGraph(loadGraphModule(path, options.verbose, input), options);
  fail("unknown backend '", options.backend, "' (available: interp, so, jit)");
}

}  // namespace bitnetc::run
