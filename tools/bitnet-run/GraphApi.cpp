#include "tools/bitnet-run/GraphApi.h"

#include <cstdio>
#include <cstring>
#include <iostream>

#include "compiler/support/Error.h"
#include "runtime/include/bitnet.h"
#include "targets/Jit.h"
#include "targets/TargetInfo.h"
#include "tools/bitnet-run/LibraryModel.h"

namespace bitnetc::run {

namespace {

class ApiGraph : public GraphModel {
 public:
  ApiGraph(const bitnet_api* api, std::shared_ptr<void> keepAlive, std::string source)
      : keepAlive_(std::move(keepAlive)), api_(api), source_(std::move(source)) {}

  ~ApiGraph() override {
    if (!api_) return;
    if (session_) api_->session_free(session_);
    if (model_) api_->model_close(model_);
  }

  void open(const std::string& backend, const std::string& weightsPath, int64_t threads) {
    backend_ = backend;
    if (!api_) fail(source_, ": the library returned no bitnet_api table");
    if (api_->api_version != BITNET_API_VERSION || api_->struct_size < sizeof(bitnet_api) || !api_->run)
      fail(source_, ": built for C API version ", api_->api_version, ", this bitnet-run uses version ",
           BITNET_API_VERSION, " (compile the model again with this bitnetc)");
    bitnet_model_options mo{};
    mo.struct_size = sizeof mo;
    mo.weights_path = weightsPath.empty() ? nullptr : weightsPath.c_str();
    char error[1024] = "";
    if (api_->model_open(&mo, &model_, error, sizeof error) != BITNET_OK) fail(source_, ": ", error);
    inputs_ = specs(false);
    outputs_ = specs(true);
    inputSignature_ = api_->input_signature(model_);
    outputSignature_ = api_->output_signature(model_);
    bitnet_session_options so{};
    so.struct_size = sizeof so;
    so.n_threads = int32_t(threads);
    if (api_->session_create(model_, &so, &session_) != BITNET_OK)
      fail(source_, ": ", api_->model_error(model_));
  }

  std::vector<HostTensor> run(const std::vector<HostTensor>& inputs) override {
    std::vector<bitnet_value> in(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      bitnet_value& v = in[i];
      v.name = i < inputs_.size() ? inputs_[i].name.c_str() : nullptr;
      v.type = int32_t(inputs[i].dtype);
      if (inputs[i].shape.size() > BITNET_MAX_DIMS) fail("input ", i, " has rank ", inputs[i].shape.size());
      v.rank = int32_t(inputs[i].shape.size());
      std::copy(inputs[i].shape.begin(), inputs[i].shape.end(), v.dims);
      v.data = inputs[i].bytes.data();
      v.bytes = inputs[i].bytes.size();
    }
    std::vector<bitnet_value> out(outputs_.size());
    if (api_->run(session_, in.data(), int64_t(in.size()), out.data(), int64_t(out.size())) != BITNET_OK)
      fail(api_->session_error(session_));
    std::vector<HostTensor> results;
    for (const bitnet_value& v : out) {
      HostTensor t;
      t.dtype = DType(v.type);
      t.shape.assign(v.dims, v.dims + v.rank);
      const auto* p = static_cast<const uint8_t*>(v.data);
      t.bytes.assign(p, p + v.bytes);
      results.push_back(std::move(t));
    }
    return results;
  }

 private:
  std::vector<TensorSpec> specs(bool outputs) {
    const int64_t n = outputs ? api_->num_outputs(model_) : api_->num_inputs(model_);
    std::vector<TensorSpec> list;
    for (int64_t i = 0; i < n; ++i) {
      bitnet_tensor_info info{};
      info.struct_size = sizeof info;
      const bitnet_status s = outputs ? api_->output_info(model_, i, &info) : api_->input_info(model_, i, &info);
      if (s != BITNET_OK) fail(source_, ": ", api_->model_error(model_));
      TensorSpec t;
      t.name = info.name;
      t.type = DType(info.type);
      for (int32_t d = 0; d < info.rank; ++d) {
        t.dims.push_back(info.dims[d]);
        t.dimNames.push_back(info.dim_names[d] ? info.dim_names[d] : "");
        t.dimMax.push_back(info.dim_max[d]);
      }
      list.push_back(std::move(t));
    }
    return list;
  }

  std::shared_ptr<void> keepAlive_;  // first member: released after the model closes
  const bitnet_api* api_;
  std::string source_;
  bitnet_model* model_ = nullptr;
  bitnet_session* session_ = nullptr;
};

// What a JIT graph's code and data live in; the JIT goes first (members die in reverse order).
struct JitHolder {
  LoadedGraph graph;
  std::unique_ptr<target::JitModel> jit;
};

}  // namespace

std::unique_ptr<GraphModel> loadLibraryGraph(const std::string& path, const LoadOptions& options) {
  LibraryTable table = openLibraryTable(path, options.name);
  auto g = std::make_unique<ApiGraph>(table.api, std::move(table.handle), path);
  g->open("so", options.weightsPath, options.threads);
  return g;
}

std::unique_ptr<GraphModel> makeJitGraph(LoadedGraph graph, const LoadOptions& options) {
  auto holder = std::make_shared<JitHolder>();
  holder->graph = std::move(graph);
  target::BackendOptions bo;
  bo.target = target::resolveTarget("", options.cpu, options.attrs);
  bo.optLevel = options.optLevel;
  bo.kernel = options.kernel;
  if (options.verbose)
    bo.progress = [](const std::string& stage, double seconds) {
      if (seconds >= 0) std::fprintf(stderr, "jit: %s: %.3f s\n", stage.c_str(), seconds);
    };
  holder->jit = target::JitModel::compile(*holder->graph.module, bo);
  const bitnet_api* api = holder->jit->api();
  auto g = std::make_unique<ApiGraph>(api, std::move(holder), "jit");
  g->open("jit", "", options.threads);
  return g;
}

}  // namespace bitnetc::run
