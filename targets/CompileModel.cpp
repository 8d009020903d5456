#include "targets/CompileModel.h"

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

#include <fstream>
#include <ostream>
#include <sstream>

#include "compiler/pass/PassManager.h"
#include "compiler/support/Error.h"
#include "targets/ModelLinker.h"
#include "targets/TargetMachine.h"
#include "targets/passes/LmHeadPasses.h"
#include "targets/passes/TargetPasses.h"
#include "targets/codegen/Codegen.h"

namespace bitnetc::target {
namespace {

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read the tokenizer ", path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void printLlvm(const BackendOptions& options, const char* after, const llvm::Module& m) {
  if (!options.printIrAfterAll || !options.log) return;
  std::string text;
  llvm::raw_string_ostream out(text);
  m.print(out, nullptr);
  *options.log << "; *** LLVM IR after " << after << " ***\n" << out.str();
}

}  // namespace

CompiledModel::CompiledModel() = default;
CompiledModel::CompiledModel(CompiledModel&&) = default;
CompiledModel::~CompiledModel() = default;

LmHead lmHeadFromName(const std::string& name) {
  if (name == "bf16") return LmHead::Keep;
  if (name == "int8") return LmHead::Int8;
  fail("--lm-head: unknown form '", name, "' (bf16: the checkpoint's weights, exact; int8: per-row int8)");
}

void runTargetPasses(Module& module, const BackendOptions& options) {
  PassManagerOptions pm;
  pm.printAfterAll = options.printIrAfterAll;
  pm.timePasses = options.timePasses;
  std::ostringstream discard;
  PassManager passes(pm, options.log ? *options.log : discard);
  if (options.lmHead == LmHead::Int8) passes.addPass(createQuantizeLmHeadPass());
  passes.addPass(createLastRowLogitsPass());
  passes.addPass(createSelectKernelsPass(options.target, {options.kernel}));
  passes.addPass(createPackWeightsPass());
  passes.run(module);
}

CompiledModel buildModelModule(const Module& module, const WeightBlobPlan& plan, uint64_t hash,
                               const BackendOptions& options, llvm::LLVMContext& context,
                               const std::string& weightsFileName, bool forJit) {
  StageTimer stage(options.progress);
  CompiledModel out;
  out.machine = createTargetMachine(options.target, options.optLevel,
                                    /*largeData=*/plan.totalBytes >= (uint64_t(1) << 31), forJit);

  stage.begin("codegen (IR to LLVM IR)");
  CodegenOptions cg;
  cg.prefix = options.prefix;
  cg.targetDescription = options.target.description();
  cg.triple = options.target.triple;
  cg.weightsExternal = !weightsFileName.empty();
  cg.weightsFileName = weightsFileName;
  cg.weightHash = hash;
  cg.maxBatch = options.maxBatch;
  cg.fault = options.fault;
  if (module.attrs.has("tokenizer")) {
    cg.tokenizerJson = readFile(module.attrs.getString("tokenizer"));
    out.hasTokenizer = true;
  }
  out.module = generateModule(module, plan, cg, context);
  stage.end();
  printLlvm(options, "codegen", *out.module);

  stage.begin("link runtime and kernels");
  retargetModule(*out.module, *out.machine);
  linkModelModule(*out.module, options.target, options.prefix,
                  out.hasTokenizer && options.target.arch == Arch::X86_64, forJit);
  retargetModule(*out.module, *out.machine);
  std::string problems;
  llvm::raw_string_ostream err(problems);
  if (llvm::verifyModule(*out.module, &err)) fail("internal: the generated LLVM IR is invalid:\n", err.str());
  stage.end();

  stage.begin("optimize (O" + std::to_string(options.optLevel) + ")");
  optimizeModule(*out.module, *out.machine, options.optLevel);
  stage.end();
  printLlvm(options, "optimization", *out.module);
  return out;
}

}  // namespace bitnetc::target
