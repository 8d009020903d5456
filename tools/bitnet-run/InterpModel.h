// The interpreter backend: the module (imported checkpoint or .bir, default pipeline) run by the
// reference interpreter (compiler/interp), one @forward(tokens, pos) call per eval.
#pragma once
#include <memory>
#include <string>

#include "tools/bitnet-run/LanguageModel.h"

namespace bitnetc::run {

std::unique_ptr<LanguageModel> loadInterpModel(const std::string& path, const LoadOptions& options);

}  // namespace bitnetc::run
