// Reads a model for the backends that start from the IR (interp, jit): a checkpoint folder is
// imported, a .bir parsed; then the default pass pipeline runs. The module must have
// @forward(tokens, pos) -> logits [?seq, vocab].
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "compiler/ir/IR.h"

namespace bitnetc::run {

struct LoadedModule {
  std::unique_ptr<Module> module;
  const Function* forward = nullptr;
  int64_t vocab = 0;
  int64_t maxContext = 0;  // min(?seq bound, module attr max_context)
};

// maxContext: the importer's ?seq bound and KV-cache length (checkpoint folders only; 0 = the
// checkpoint's). verbose: importer notes on stderr.
LoadedModule loadModule(const std::string& path, int64_t maxContext, bool verbose);

}  // namespace bitnetc::run
