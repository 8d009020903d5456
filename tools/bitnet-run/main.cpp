// bitnet-run: runs a BitNet language model (checkpoint folder or .bir) on the reference
// interpreter: text generation (-p), perplexity (--perplexity), logits and value dumps (--tokens).
// See docs/CLI.md.
#include <cstdio>
#include <iostream>

#include "tools/bitnet-run/EvalTokens.h"
#include "tools/bitnet-run/Generate.h"
#include "tools/bitnet-run/LanguageModel.h"
#include "tools/bitnet-run/Options.h"
#include "tools/bitnet-run/Perplexity.h"
#include "compiler/support/ToolMain.h"

namespace {

int run(int argc, char** argv) {
  using namespace bitnetc::run;
  const RunOptions options = parseOptions(argc, argv);
  if (options.help) {
    std::fputs(usageText(), stdout);
    return 0;
  }
  LoadOptions load;
  load.backend = options.backend;
  load.maxContext = options.maxContext;
  load.fault = options.fault;
  load.verbose = options.verbose;
  if (options.dumpDir) load.observer = makeDumpObserver(*options.dumpDir);
  auto model = LanguageModel::load(options.model, load);
  if (options.tokens) evalTokens(*model, options);
  else if (options.perplexityFile) perplexity(*model, options);
  else generate(*model, options);
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return bitnetc::runToolMain(run, argc, argv); }
