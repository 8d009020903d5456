// The backend of compiled models: a bitnet_api table (runtime/include/bitnet.h), whether it comes
// from a dlopen()ed library (LibraryModel) or from the JIT (JitModel). One model, one session.
#pragma once
#include <memory>
#include <string>

#include "runtime/include/bitnet.h"
#include "tools/bitnet-run/LanguageModel.h"

namespace bitnetc::run {

struct ApiModelOptions {
  std::string backend;       // "so" or "jit", for messages and facts
  std::string source;        // the file the table came from, for messages
  std::string weightsPath;   // model_open's weights_path; empty = the library's default
  int64_t nCtx = 0;          // session context; 0 = the model's maximum
  int64_t threads = 1;       // 0 = one per online CPU
  bool verbose = false;
};

// Checks the table (API version, size), opens the model and one session. keepAlive owns what
// the table's code lives in (the dlopen handle, the JIT) and is released after the model closes.
std::unique_ptr<LanguageModel> openApiModel(const bitnet_api* api, std::shared_ptr<void> keepAlive,
                                            const ApiModelOptions& options);

}  // namespace bitnetc::run
