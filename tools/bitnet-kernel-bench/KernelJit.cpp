#include "KernelJit.h"

#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/GlobalVariable.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Linker/Linker.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/Transforms/IPO/Internalize.h>

#include "compiler/support/Error.h"
#include "targets/EmbeddedBlobs.h"
#include "targets/TargetMachine.h"

namespace bitnetc::bench {
namespace {

template <typename T>
T orFail(llvm::Expected<T> v, const char* what) {
  if (!v) fail("kernel JIT: ", what, ": ", llvm::toString(v.takeError()));
  return std::move(*v);
}

std::unique_ptr<llvm::Module> loadBitcode(const std::string& name, llvm::LLVMContext& context) {
  auto blob = target::embeddedBlob(name);
  if (!blob) fail("this build has no embedded ", name, " bitcode");
  auto module = llvm::parseBitcodeFile(llvm::MemoryBufferRef(llvm::StringRef(blob->data(), blob->size()), name),
                                       context);
  if (!module) fail("the embedded ", name, " bitcode does not load: ", llvm::toString(module.takeError()));
  return std::move(*module);
}

bool kept(llvm::StringRef name) {
  return name.starts_with("bitnetk_bitlinear_") || name == "bitnet_rt_pool_create" ||
         name == "bitnet_rt_pool_free";
}

}  // namespace

struct KernelJit::Impl {
  std::unique_ptr<llvm::orc::LLJIT> jit;
};

KernelJit::KernelJit(const target::TargetInfo& t) : impl_(std::make_unique<Impl>()) {
  if (!t.hostCanRun()) fail("this CPU cannot run code for ", t.description());
  const std::string arch = t.arch == target::Arch::X86_64 ? "x86_64" : "aarch64";
  auto context = std::make_unique<llvm::LLVMContext>();
  auto module = loadBitcode("kernels_" + arch, *context);
  if (llvm::Linker::linkModules(*module, loadBitcode("runtime_" + arch, *context)))
    fail("linking the runtime bitcode into the kernels failed");
  // What generated code defines: no test-only fault (folded away as in a model).
  if (llvm::GlobalVariable* fault = module->getGlobalVariable("bitnet__fault")) {
    fault->setInitializer(llvm::ConstantInt::get(fault->getValueType(), 0));
    fault->setConstant(true);
  }
  llvm::internalizeModule(*module, [](const llvm::GlobalValue& gv) { return kept(gv.getName()); });
  auto tm = target::createTargetMachine(t, 3, /*largeData=*/false, /*forJit=*/true);
  target::retargetModule(*module, *tm);
  target::optimizeModule(*module, *tm, 3);

  llvm::orc::JITTargetMachineBuilder jtmb{llvm::Triple(t.triple)};
  jtmb.setCPU(t.cpu);
  jtmb.setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  std::vector<std::string> features;
  llvm::SmallVector<llvm::StringRef, 64> parts;
  llvm::StringRef(t.features).split(parts, ',', -1, false);
  for (llvm::StringRef p : parts) features.push_back(p.str());
  jtmb.addFeatures(features);
  impl_->jit = orFail(llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(std::move(jtmb)).create(),
                      "cannot create LLJIT");
  auto& dylib = impl_->jit->getMainJITDylib();
  dylib.addGenerator(orFail(llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
                                impl_->jit->getDataLayout().getGlobalPrefix()),
                            "process symbols"));
  module->setDataLayout(impl_->jit->getDataLayout());
  if (auto e = impl_->jit->addIRModule(llvm::orc::ThreadSafeModule(std::move(module), std::move(context))))
    fail("kernel JIT: adding the module: ", llvm::toString(std::move(e)));
}

KernelJit::~KernelJit() = default;

KernelFn KernelJit::bitlinear(const std::string& name) const {
  auto sym = impl_->jit->lookup("bitnetk_bitlinear_" + name);
  if (!sym) {
    llvm::consumeError(sym.takeError());
    return nullptr;
  }
  return sym->toPtr<KernelFn>();
}

bitnet_pool* KernelJit::createPool(int64_t threads) const {
  auto create = orFail(impl_->jit->lookup("bitnet_rt_pool_create"), "bitnet_rt_pool_create")
                    .toPtr<bitnet_pool* (*)(int64_t)>();
  return create(threads);
}

void KernelJit::freePool(bitnet_pool* pool) const {
  orFail(impl_->jit->lookup("bitnet_rt_pool_free"), "bitnet_rt_pool_free").toPtr<void (*)(bitnet_pool*)>()(pool);
}

}  // namespace bitnetc::bench
