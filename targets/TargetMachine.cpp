#include "targets/TargetMachine.h"

#include <set>

#include <llvm/Analysis/CGSCCPassManager.h>
#include <llvm/Analysis/LoopAnalysisManager.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/Target/TargetOptions.h>

#include "compiler/support/Error.h"

namespace bitnetc::target {

std::unique_ptr<llvm::TargetMachine> createTargetMachine(const TargetInfo& target, int optLevel,
                                                         bool largeData, bool forJit) {
  std::string error;
  const llvm::Target* t = llvm::TargetRegistry::lookupTarget(target.triple, error);
  if (!t) fail("-mtriple: ", error);
  llvm::TargetOptions options;
  const llvm::CodeGenOptLevel level = optLevel <= 0   ? llvm::CodeGenOptLevel::None
                                      : optLevel == 1 ? llvm::CodeGenOptLevel::Less
                                      : optLevel == 2 ? llvm::CodeGenOptLevel::Default
                                                      : llvm::CodeGenOptLevel::Aggressive;
  std::optional<llvm::CodeModel::Model> codeModel;
  if (largeData && target.arch == Arch::X86_64) codeModel = llvm::CodeModel::Medium;
  std::unique_ptr<llvm::TargetMachine> tm(t->createTargetMachine(
      target.triple, target.cpu, target.features, options, llvm::Reloc::PIC_, codeModel, level,
      forJit));
  if (!tm) fail("cannot create a target machine for ", target.description());
  return tm;
}

// The ISA extensions a kernel asked for with __attribute__((target(...))) (one bitcode holds the
// AVX2, AVX-VNNI and AVX-512 variants) that the target does not enable: they stay on that
// function, so its intrinsics still compile; select-kernels calls it only where the target has
// them (and O3 drops the uncalled ones). Only these ISA names are kept: the generic functions'
// own defaults (e.g. aarch64 +outline-atomics) must not leak into the model.
static std::string extraIsaFeatures(llvm::StringRef own, const llvm::TargetMachine& tm) {
  static const std::set<std::string> isa = {
      "sse3", "ssse3", "sse4.1", "sse4.2", "popcnt", "avx", "avx2", "fma", "f16c", "bmi", "bmi2",
      "avxvnni", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd", "avx512vnni",
      "avx512bf16", "avx512vbmi", "evex512", "gfni", "neon", "dotprod", "i8mm"};
  const llvm::MCSubtargetInfo* sti = tm.getMCSubtargetInfo();
  std::string out;
  llvm::SmallVector<llvm::StringRef, 32> parts;
  own.split(parts, ',', -1, false);
  for (llvm::StringRef p : parts) {
    if (!p.consume_front("+") || !isa.count(p.str())) continue;
    if (sti && sti->checkFeatures("+" + p.str())) continue;  // the target has it already
    out += (out.empty() ? "+" : ",+") + p.str();
  }
  return out;
}

void retargetModule(llvm::Module& module, llvm::TargetMachine& tm) {
  module.setTargetTriple(tm.getTargetTriple().str());
  module.setDataLayout(tm.createDataLayout());
  const std::string cpu = tm.getTargetCPU().str();
  const std::string features = tm.getTargetFeatureString().str();
  for (llvm::Function& f : module) {
    if (f.isDeclaration()) continue;
    const std::string own = extraIsaFeatures(f.getFnAttribute("target-features").getValueAsString(), tm);
    f.removeFnAttr("target-cpu");
    f.removeFnAttr("target-features");
    f.removeFnAttr("tune-cpu");
    f.addFnAttr("target-cpu", cpu);
    const std::string all = features.empty() ? own : own.empty() ? features : features + "," + own;
    if (!all.empty()) f.addFnAttr("target-features", all);
  }
}

void optimizeModule(llvm::Module& module, llvm::TargetMachine& tm, int optLevel) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PipelineTuningOptions tuning;
  tuning.LoopVectorization = optLevel >= 2;
  tuning.SLPVectorization = optLevel >= 2;
  llvm::PassBuilder pb(&tm, tuning);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  const llvm::OptimizationLevel level = optLevel <= 0   ? llvm::OptimizationLevel::O0
                                        : optLevel == 1 ? llvm::OptimizationLevel::O1
                                        : optLevel == 2 ? llvm::OptimizationLevel::O2
                                                        : llvm::OptimizationLevel::O3;
  llvm::ModulePassManager mpm = level == llvm::OptimizationLevel::O0
                                    ? pb.buildO0DefaultPipeline(level)
                                    : pb.buildPerModuleDefaultPipeline(level);
  mpm.run(module, mam);
}

void emitMachineCode(llvm::Module& module, llvm::TargetMachine& tm, MachineOutput kind,
                     const std::string& path) {
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec, llvm::sys::fs::OF_None);
  if (ec) fail("cannot write ", path, ": ", ec.message());
  llvm::legacy::PassManager pm;  // object emission still uses the legacy pass manager
  const auto type = kind == MachineOutput::Object ? llvm::CodeGenFileType::ObjectFile
                                                  : llvm::CodeGenFileType::AssemblyFile;
  if (tm.addPassesToEmitFile(pm, out, nullptr, type))
    fail("the target ", tm.getTargetTriple().str(), " cannot emit this file type");
  pm.run(module);
  out.flush();
  if (out.has_error()) fail("cannot write ", path, ": ", out.error().message());
}

}  // namespace bitnetc::target
