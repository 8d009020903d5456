#include "tools/bitnet-run/ModuleLoader.h"

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "compiler/ir/Parser.h"
#include "compiler/ir/Verifier.h"
#include "compiler/pass/PassManager.h"
#include "compiler/pass/Pipeline.h"
#include "compiler/support/Error.h"
#include "frontends/safetensors/Import.h"
#include "passes/Passes.h"

namespace bitnetc::run {

LoadedModule loadModule(const std::string& path, int64_t maxContext, bool verbose) {
  if (!std::filesystem::exists(path)) fail(path, ": no such file or directory");
  LoadedModule lm;
  if (std::filesystem::is_directory(path)) {
    ImportOptions io;
    io.maxContext = maxContext;
    std::vector<std::string> notes;
    io.notes = &notes;
    lm.module = importCheckpoint(path, io);
    verify(*lm.module);
    if (verbose)
      for (const auto& n : notes) std::cerr << "import: " << n << "\n";
  } else {
    if (maxContext) fail("--max-context applies to checkpoint folders only (a .bir fixes its context)");
    const std::string ext = std::filesystem::path(path).extension().string();
    if (ext == ".safetensors" || ext == ".json")
      fail(path, ": a checkpoint is read from its folder (config.json + model.safetensors); give the folder");
    lm.module = parseFile(path);
  }
  registerAllPasses();
  PassManagerOptions pm;
  pm.pipeline = splitPipeline(defaultPipeline());
  PassManager(pm, std::cerr).run(*lm.module);

  const Module& m = *lm.module;
  lm.forward = m.function("forward");
  if (!lm.forward) fail(path, ": the module has no @forward function");
  const Function& f = *lm.forward;
  if (f.inputs().size() != 2 || f.outputs().size() != 1)
    fail(path, ": @forward must take (tokens, pos) and return the logits");
  const TensorType& logits = f.outputs()[0]->type;
  if (logits.rank() != 2 || logits.dims[1].isDynamic()) fail(path, ": @forward must return logits [?seq, vocab]");
  lm.vocab = logits.dims[1].size;
  lm.maxContext = f.inputs()[0]->type.dims.at(0).upperBound();
  if (m.attrs.has("max_context")) lm.maxContext = std::min(lm.maxContext, m.attrs.getInt("max_context"));
  return lm;
}

}  // namespace bitnetc::run
