#include "targets/codegen/Codegen.h"

#include <llvm/IR/Constants.h>
#include <llvm/IR/GlobalVariable.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>

#include "compiler/support/Error.h"
#include "targets/codegen/EntryFunction.h"
#include "targets/codegen/LanguageModel.h"
#include "targets/codegen/MemoryPlan.h"
#include "targets/codegen/ModelDescriptor.h"

namespace bitnetc::target {

std::unique_ptr<llvm::Module> generateModule(const Module& module, const WeightBlobPlan& weights,
                                             const CodegenOptions& options,
                                             llvm::LLVMContext& context) {
  auto out = std::make_unique<llvm::Module>(options.prefix, context);
  out->setTargetTriple(options.triple);
  std::vector<EntryPoint> entries;
  for (const auto& function : module.functions()) {
    const MemoryPlan plan =
        planMemory(*function, planningBounds(module, *function, options.maxBatch));
    llvm::Function* entry = emitEntryFunction(*out, module, *function, plan, weights);
    entries.push_back({function.get(), entry, plan.scratchBytes});
  }
  emitModelDescriptor(*out, module, entries, weights, options);
  // The kernels declare `extern const int64_t bitnet__fault`: a known constant, so the linked
  // module's O3 folds every fault check away (internalized with the rest after linking).
  auto* i64 = llvm::Type::getInt64Ty(context);
  auto* fault = new llvm::GlobalVariable(*out, i64, /*isConstant=*/true, llvm::GlobalValue::ExternalLinkage,
                                         llvm::ConstantInt::get(i64, uint64_t(options.fault)), "bitnet__fault");
  fault->setVisibility(llvm::GlobalValue::HiddenVisibility);

  // A broken module here is a bug in codegen: say so before the backend trips over it.
  std::string problems;
  llvm::raw_string_ostream os(problems);
  if (llvm::verifyModule(*out, &os)) fail("codegen produced an invalid LLVM module: ", os.str());
  return out;
}

}  // namespace bitnetc::target
