#include "tools/bitnet-run/JitModel.h"

#include <cstdio>

#include "targets/Jit.h"
#include "targets/TargetInfo.h"
#include "tools/bitnet-run/ApiModel.h"
#include "tools/bitnet-run/ModuleLoader.h"

namespace bitnetc::run {

namespace {

// What the table's code and data live in; the JIT goes first (members die in reverse order).
struct JitHolder {
  LoadedModule module;
  std::unique_ptr<target::JitModel> jit;
};

}  // namespace

std::unique_ptr<LanguageModel> loadJitModel(const std::string& path, const LoadOptions& options) {
  auto holder = std::make_shared<JitHolder>();
  holder->module = loadModule(path, options.maxContext, options.verbose);

  target::BackendOptions bo;
  bo.target = target::resolveTarget("", options.cpu, options.attrs);
  bo.optLevel = options.optLevel;
  bo.kernel = options.kernel;
  if (options.verbose)
    bo.progress = [](const std::string& stage, double seconds) {
      if (seconds >= 0) std::fprintf(stderr, "jit: %s: %.3f s\n", stage.c_str(), seconds);
    };
  holder->jit = target::JitModel::compile(*holder->module.module, bo);
  const bitnet_api* api = holder->jit->api();

  ApiModelOptions ao;
  ao.backend = "jit";
  ao.source = path + " (jit)";
  ao.threads = options.threads;  // --max-context went into the import, as for the interpreter
  ao.verbose = options.verbose;
  return openApiModel(api, std::move(holder), ao);
}

}  // namespace bitnetc::run
