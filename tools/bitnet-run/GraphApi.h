// Generic graphs through the C API (bitnet.h run): a dlopen()ed library (so) or the JIT (jit).
#pragma once
#include <memory>
#include <string>

#include "tools/bitnet-run/GraphModel.h"

namespace bitnetc::run {

std::unique_ptr<GraphModel> loadLibraryGraph(const std::string& path, const LoadOptions& options);
// Compiles the graph in memory (options: -mcpu, -mattr, -O, --kernel, threads, verbose).
std::unique_ptr<GraphModel> makeJitGraph(LoadedGraph graph, const LoadOptions& options);

}  // namespace bitnetc::run
