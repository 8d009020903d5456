// bitnet-opt: reads a .bir file (or imports a checkpoint folder), runs passes, prints .bir.
// The tool lit tests drive: every pass is tested as `bitnet-opt --passes=X in.bir | FileCheck`.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>

#include "compiler/ir/Parser.h"
#include "compiler/ir/Printer.h"
#include "compiler/ir/Verifier.h"
#include "compiler/pass/PassManager.h"
#include "compiler/pass/PassRegistry.h"
#include "compiler/support/Error.h"
#include "compiler/support/ParseInt.h"
#include "frontends/ModelInput.h"
#include "passes/Passes.h"
#include "compiler/support/ToolMain.h"
#include "targets/TargetInfo.h"
#include "targets/passes/TargetPasses.h"

namespace {

constexpr const char* kUsage =
    "usage: bitnet-opt INPUT [-o OUT] [--passes=a,b,c] [--print-ir-after-all]\n"
    "                  [--print-ir-after=NAME] [--time-passes] [--max-context N] [--list-passes]\n"
    "                  [-mtriple=T] [-mcpu=CPU] [-mattr=+f1,-f2] [--kernel=NAME] [-v]\n"
    "                  [--dim NAME=N] [--max-seq N]\n"
    "  INPUT is a .bir file, '-' for standard input, a checkpoint folder (config.json +\n"
    "  model.safetensors) or an ONNX model (.onnx). The result is printed as .bir to standard\n"
    "  output (or OUT). --dim/--max-seq bound an ONNX model's dynamic dims (default 512).\n"
    "  -mtriple/-mcpu/-mattr: the target of the target passes (select-kernels, pack-weights);\n"
    "  default the host. --kernel=NAME: select-kernels gives every bitlinear this kernel.\n"
    "  -v (or --remarks): the passes explain their decisions on standard error (\"remark: ...\").\n"
    "  --passes=default is the pipeline bitnetc and bitnet-run run (docs/IR.md).\n";


int run(int argc, char** argv) {
  using namespace bitnetc;
  registerAllPasses();
  std::string input, output, triple, cpu, attrs;
  target::TargetPassOptions targetOptions;
  bool listPasses = false;
  ModelInputOptions inputOptions;
  std::vector<std::string> notes;
  PassManagerOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto needValue = [&]() -> std::string {
      if (i + 1 >= argc) fail(arg, " needs a value");
      return argv[++i];
    };
    // "-flag=value" or "-flag value" for the target options.
    auto targetFlag = [&](const std::string& flag, std::string& value) {
      if (arg == flag) value = needValue();
      else if (arg.rfind(flag + "=", 0) == 0) value = arg.substr(flag.size() + 1);
      else return false;
      return true;
    };
    if (options.parseFlag(arg) || inputOptions.parseFlag(argc, argv, i)) continue;
    if (targetFlag("-mtriple", triple) || targetFlag("-mcpu", cpu) || targetFlag("-mattr", attrs) ||
        targetFlag("--kernel", targetOptions.kernel))
      continue;
    if (arg == "-o") output = needValue();
    else if (arg == "-v") options.remarks = true;
    else if (arg == "--max-context") inputOptions.maxContext = parsePositiveInt(arg, needValue());
    else if (arg.rfind("--max-context=", 0) == 0)
      inputOptions.maxContext = parsePositiveInt("--max-context", arg.substr(14));
    else if (arg == "--list-passes") listPasses = true;
    else if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      return 0;
    } else if (arg.size() > 1 && arg[0] == '-') fail("unknown option '", arg, "'\n", kUsage);
    else if (!input.empty()) fail("more than one input ('", input, "' and '", arg, "')");
    else input = arg;
  }
  target::registerTargetPasses(target::resolveTarget(triple, cpu, attrs), targetOptions);
  if (listPasses) {
    for (const PassInfo* p : registeredPasses()) std::cout << p->name << "  " << p->description << "\n";
    return 0;
  }
  if (input.empty()) fail("no input\n", kUsage);
  PassManager passes(options, std::cerr);  // checks pass names before any work

  if (options.remarks) inputOptions.notes = &notes;
  std::unique_ptr<Module> module = readModelInput(input, inputOptions);
  for (const std::string& n : notes) std::cerr << "import: " << n << "\n";
  passes.run(*module);

  const std::string text = printModule(*module);
  if (output.empty() || output == "-") {
    std::cout << text;
    std::cout.flush();
    if (!std::cout) fail("cannot write to standard output");
  } else {
    std::ofstream out(output, std::ios::binary);
    out << text;
    out.close();
    if (!out) fail(output, ": cannot write");
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return bitnetc::runToolMain(run, argc, argv); }
