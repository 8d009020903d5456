// --backend jit: the model (checkpoint folder or .bir, default pipeline) compiled in memory by
// targets/Jit.h (ORC LLJIT, the same module as a library) and driven through its bitnet_api table,
// exactly as a dlopen()ed library. -mcpu, -mattr, -O and --kernel go to the backend as in bitnetc.
#pragma once
#include <memory>
#include <string>

#include "tools/bitnet-run/LanguageModel.h"

namespace bitnetc::run {

std::unique_ptr<LanguageModel> loadJitModel(const std::string& path, const LoadOptions& options);

}  // namespace bitnetc::run
