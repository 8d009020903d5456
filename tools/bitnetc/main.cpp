// bitnetc: the ahead-of-time compiler driver. MODEL -> IR (frontends) -> default IR pipeline
// (passes) -> backend (targets/Backend.h: target passes, codegen, LLVM, lld) -> OUT.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>

#include "compiler/pass/PassManager.h"
#include "compiler/pass/Pipeline.h"
#include "compiler/support/ToolMain.h"
#include "frontends/ModelInput.h"
#include "passes/Passes.h"
#include "targets/Backend.h"
#include "targets/ModelHeader.h"
#include "tools/bitnetc/DriverOptions.h"
#include "tools/bitnetc/Progress.h"

namespace {

int run(int argc, char** argv) {
  using namespace bitnetc;
  driver::DriverOptions o = driver::parseDriverOptions(argc, argv);
  if (o.help) {
    std::cout << driver::kUsage;
    return 0;
  }
  if (o.version) {
    std::cout << "bitnetc 0.1 (LLVM 19)\n";
    return 0;
  }
  registerAllPasses();
  driver::Progress progress(o.verbose);

  target::BackendOptions backend;
  backend.target = target::resolveTarget(o.triple, o.cpu, o.attrs);
  backend.optLevel = o.optLevel;
  backend.prefix = o.name.empty() ? target::defaultPrefix(o.output) : o.name;
  target::checkPrefix(backend.prefix);
  backend.weights = o.weights;
  backend.maxBatch = o.maxBatch;
  backend.kernel = o.kernel;
  backend.lmHead = o.lmHead;
  backend.fault = o.fault;
  backend.printIrAfterAll = o.passes.printAfterAll;
  backend.timePasses = o.passes.timePasses;
  backend.log = &std::cerr;
  backend.progress = [&](const std::string& stage, double seconds) { progress.stage(stage, seconds); };
  if (o.verbose) std::cerr << "target: " << backend.target.description() << "\n";

  progress.stage("import " + o.input, -1);
  auto start = std::chrono::steady_clock::now();
  ModelInputOptions inputOptions = o.model;
  inputOptions.maxContext = o.maxContext;
  std::vector<std::string> notes;
  if (o.verbose) inputOptions.notes = &notes;
  auto module = readModelInput(o.input, inputOptions);
  for (const std::string& n : notes) std::cerr << "import: " << n << "\n";
  progress.stage("import " + o.input,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());

  PassManagerOptions irOptions = o.passes;
  irOptions.pipeline = splitPipeline(defaultPipeline());
  irOptions.remarks = irOptions.remarks || o.verbose;  // -v: which matmuls fused, and why others not
  progress.stage("IR passes", -1);
  start = std::chrono::steady_clock::now();
  PassManager(irOptions, std::cerr).run(*module);
  progress.stage("IR passes", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());

  target::compileModule(*module, backend, o.emit, o.output);
  progress.done();
  if (o.verbose) {  // select-kernels' choice, per kernel (the IR carries it per layer)
    std::map<std::string, int64_t> kernels;
    for (const auto& f : module->functions())
      for (const auto& op : f->ops())
        if (op->opcode == "bitlinear" && op->attrs.has("kernel")) ++kernels[op->attrs.getString("kernel")];
    for (const auto& [name, n] : kernels) std::cerr << "kernel " << name << ": " << n << " bitlinear ops\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return bitnetc::runToolMain(run, argc, argv); }
