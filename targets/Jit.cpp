// ORC LLJIT over the same module as the library: generated code + runtime + kernels, already
// optimized by buildModelModule (LLJIT would not run the O3 pipeline itself). Symbols resolve to
// this process (libc, libm, pthreads), the in-memory weight blob and the tokenizer shim linked
// into this program.
#include "targets/Jit.h"

#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/Error.h>
#include <llvm/Target/TargetMachine.h>

#include "compiler/support/Error.h"
#include "runtime/abi/bitnet_abi.h"
#include "targets/CompileModel.h"
#include "targets/WeightBlob.h"

namespace bitnetc::target {
namespace {

template <typename T>
T orFail(llvm::Expected<T> v, const char* what) {
  if (!v) fail("JIT: ", what, ": ", llvm::toString(v.takeError()));
  return std::move(*v);
}

void orFail(llvm::Error e, const char* what) {
  if (e) fail("JIT: ", what, ": ", llvm::toString(std::move(e)));
}

class LlJitModel final : public JitModel {
 public:
  std::unique_ptr<WeightBlobMemory> blob;
  std::unique_ptr<llvm::orc::LLJIT> jit;
  const bitnet_api* table = nullptr;
  const bitnet_model_desc* desc = nullptr;
  const bitnet_api* api() const override { return table; }
  const bitnet_model_desc* descriptor() const override { return desc; }
  const uint8_t* weights() const override { return blob->data; }
  ~LlJitModel() override {
    jit.reset();  // code first, then the weights it points at
    blob.reset();
  }
};

}  // namespace

std::unique_ptr<JitModel> JitModel::compile(Module& module, const BackendOptions& options) {
  if (!options.target.hostCanRun())
    fail("JIT: this CPU cannot run code for ", options.target.description());
  runTargetPasses(module, options);
  StageTimer stage(options.progress);
  stage.begin("plan weights");
  const WeightBlobPlan plan = planWeightBlob(module);
  auto model = std::make_unique<LlJitModel>();
  model->blob = buildWeightBlobInMemory(plan);
  stage.end();

  auto context = std::make_unique<llvm::LLVMContext>();
  CompiledModel compiled = buildModelModule(module, plan, /*hash=*/0, options, *context, "",
                                            /*forJit=*/true);

  stage.begin("JIT (machine code)");
  llvm::orc::JITTargetMachineBuilder jtmb{llvm::Triple(options.target.triple)};
  jtmb.setCPU(options.target.cpu);
  jtmb.setCodeGenOptLevel(compiled.machine->getOptLevel());
  std::vector<std::string> features;
  for (size_t start = 0; start < options.target.features.size();) {
    size_t end = options.target.features.find(',', start);
    if (end == std::string::npos) end = options.target.features.size();
    if (end > start) features.push_back(options.target.features.substr(start, end - start));
    start = end + 1;
  }
  jtmb.addFeatures(features);
  model->jit = orFail(llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(std::move(jtmb)).create(),
                      "cannot create LLJIT");
  llvm::orc::LLJIT& jit = *model->jit;
  auto& dylib = jit.getMainJITDylib();
  dylib.addGenerator(orFail(llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
                                jit.getDataLayout().getGlobalPrefix()),
                            "process symbols"));
  llvm::orc::SymbolMap symbols;
  auto define = [&](const std::string& name, const void* address) {
    symbols[jit.mangleAndIntern(name)] = {llvm::orc::ExecutorAddr::fromPtr(address),
                                          llvm::JITSymbolFlags::Exported};
  };
  define(options.prefix + "__weights", model->blob->data);
  define("bitnet_tokenizer_create", reinterpret_cast<const void*>(&bitnet_tokenizer_create));
  define("bitnet_tokenizer_free", reinterpret_cast<const void*>(&bitnet_tokenizer_free));
  define("bitnet_tokenizer_encode", reinterpret_cast<const void*>(&bitnet_tokenizer_encode));
  define("bitnet_tokenizer_decode", reinterpret_cast<const void*>(&bitnet_tokenizer_decode));
  orFail(dylib.define(llvm::orc::absoluteSymbols(std::move(symbols))), "defining symbols");

  compiled.module->setDataLayout(jit.getDataLayout());
  orFail(jit.addIRModule(llvm::orc::ThreadSafeModule(std::move(compiled.module), std::move(context))),
         "adding the module");
  auto entry = orFail(jit.lookup(options.prefix + "_bitnet_api"), "looking up the API table");
  model->table = entry.toPtr<const bitnet_api* (*)()>()();
  model->desc = orFail(jit.lookup("bitnet__model"), "looking up the model descriptor")
                    .toPtr<const bitnet_model_desc*>();
  stage.end();
  if (!model->table || model->table->api_version != BITNET_API_VERSION)
    fail("JIT: the compiled runtime returned no API table of version ", BITNET_API_VERSION);
  return model;
}

}  // namespace bitnetc::target
