// Generic graphs through the C API (bitnet.h run): a dlopen()ed library (so) or the JIT (jit).
#pragma once
#include <memory>
#include <string>

#include "tools/bitnet-run/GraphModel.h"

namespace bitnetc::run {

std::unique_ptr<GraphModel> loadLibraryGraph(const std::string& path, const LoadOptions& options);
std::unique_ptr<GraphModel> loadJitGraph(const std::string& path, const LoadOptions& options);

}  // namespace bitnetc::run
