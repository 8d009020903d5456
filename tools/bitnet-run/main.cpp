// bitnet-run: runs a BitNet language model on the reference interpreter, a library compiled by
// bitnetc (dlopen) or the JIT: text generation (-p), perplexity (--perplexity), logits and value
// dumps (--tokens), speed (--bench). See docs/CLI.md.
#include <cstdio>
#include <iostream>

#include "compiler/support/ToolMain.h"
#include "tools/bitnet-run/Bench.h"
#include "tools/bitnet-run/EvalTokens.h"
#include "tools/bitnet-run/Generate.h"
#include "tools/bitnet-run/GraphRun.h"
#include "tools/bitnet-run/LanguageModel.h"
#include "tools/bitnet-run/Options.h"
#include "tools/bitnet-run/Perplexity.h"

namespace {

int run(int argc, char** argv) {
  using namespace bitnetc::run;
  const RunOptions options = parseOptions(argc, argv);
  if (options.help) {
    std::fputs(usageText(), stdout);
    std::printf("ONNX import (.onnx models):\n%s", bitnetc::kModelInputUsage);
    return 0;
  }
  if (options.graph) return runGraph(options);
  LoadOptions load;
  load.backend = options.backend;
  load.maxContext = options.maxContext;
  load.threads = options.threads;
  load.fault = options.fault;
  load.name = options.name;
  load.weightsPath = options.weightsPath;
  load.cpu = options.cpu;
  load.attrs = options.attrs;
  load.kernel = options.kernel;
  load.optLevel = options.optLevel;
  load.verbose = options.verbose;
  if (options.dumpDir) load.observer = makeDumpObserver(*options.dumpDir);
  const auto start = std::chrono::steady_clock::now();
  auto model = loadModel(options.model, load);
  const double loadSeconds = secondsSince(start);
  if (options.verbose) std::fprintf(stderr, "loaded in %.3f s\n", loadSeconds);
  if (options.tokens) evalTokens(*model, options);
  else if (options.perplexityFile) perplexity(*model, options);
  else if (options.bench) bench(*model, options, loadSeconds);
  else generate(*model, options);
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return bitnetc::runToolMain(run, argc, argv); }
