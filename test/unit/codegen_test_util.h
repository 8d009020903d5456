// Runs generated code in-process for codegen tests, without the runtime: the module from
// generateModule is JIT-compiled with the embedded weight symbol bound to an in-memory blob and
// every kernel it declares bound either to one mock that records what it receives and computes a
// few f32 ops, or to the native kernels (targets/kernels, linked into the test binary).
#pragma once
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/TargetSelect.h>

#include "compiler/ir/IR.h"
#include "runtime/abi/bitnet_abi.h"
#include "targets/WeightBlob.h"
#include "targets/kernels/bitnet_kernels.h"
#include "targets/codegen/Codegen.h"

namespace bitnetc::target::testing {

// What one kernel call received (copied: the arguments live on the entry's stack).
struct KernelCall {
  std::string op;
  std::vector<bitnet_tensor> operands, results;
  std::vector<int64_t> ints;
  std::vector<double> floats;
};

// The mock's log and behaviour; one per test (the mock reaches it through a global pointer,
// which is fine in a test binary that runs tests one at a time).
struct MockKernels {
  std::vector<KernelCall> calls;
  std::string failOn;  // an op description prefix whose kernel returns 7 with a message
  bool compute = true; // relu / neg / add over f32 on their tensors
};
inline MockKernels* gMock = nullptr;

inline int64_t elements(const bitnet_tensor& t) {
  int64_t n = 1;
  for (int64_t i = 0; i < t.rank; ++i) n *= t.dims[i];
  return n;
}

inline int64_t mockKernel(const bitnet_call* call, const bitnet_kernel_args* args) {
  KernelCall k;
  k.op = args->op;
  k.operands.assign(args->operands, args->operands + args->num_operands);
  k.results.assign(args->results, args->results + args->num_results);
  k.ints.assign(args->ints, args->ints + args->num_ints);
  k.floats.assign(args->floats, args->floats + args->num_floats);
  gMock->calls.push_back(k);
  if (!gMock->failOn.empty() && k.op.rfind(gMock->failOn, 0) == 0) {
    std::snprintf(call->error, size_t(call->error_size), "mock failure in %s", args->op);
    return 7;
  }
  if (!gMock->compute) return 0;
  auto f32 = [](const bitnet_tensor& t) { return static_cast<float*>(t.data); };
  const bitnet_tensor& r = args->results[0];
  if (k.op.find("= relu(") != std::string::npos)
    for (int64_t i = 0; i < elements(r); ++i) f32(r)[i] = std::max(f32(args->operands[0])[i], 0.0f);
  if (k.op.find("= neg(") != std::string::npos)
    for (int64_t i = 0; i < elements(r); ++i) f32(r)[i] = -f32(args->operands[0])[i];
  if (k.op.find("= add(") != std::string::npos)
    for (int64_t i = 0; i < elements(r); ++i)
      f32(r)[i] = f32(args->operands[0])[i] + f32(args->operands[1])[i];
  return 0;
}

// The native kernel named `symbol`, or nullptr.
inline void* nativeKernel(const std::string& symbol) {
#define BITNET_TEST_KERNEL(op) \
  if (symbol == "bitnetk_" #op) return reinterpret_cast<void*>(&bitnetk_##op);
  BITNET_KERNEL_OPCODES(BITNET_TEST_KERNEL)
#undef BITNET_TEST_KERNEL
#define BITNET_TEST_BITLINEAR(name) \
  if (symbol == "bitnetk_bitlinear_" #name) return reinterpret_cast<void*>(&bitnetk_bitlinear_##name);
  BITNET_BITLINEAR_KERNELS(BITNET_TEST_BITLINEAR)
#undef BITNET_TEST_BITLINEAR
  return nullptr;
}

enum class Kernels { Mock, Native };

// A generated module, JIT-compiled, with its weight blob in memory.
class JitGenerated {
 public:
  JitGenerated(const Module& module, const CodegenOptions& options, Kernels kernels = Kernels::Mock) {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    plan_ = planWeightBlob(module);
    blob_ = buildWeightBlobInMemory(plan_);
    auto context = std::make_unique<llvm::LLVMContext>();
    auto m = generateModule(module, plan_, options, *context);
    for (const llvm::Function& f : *m)
      if (f.isDeclaration() && f.getName().starts_with("bitnetk_")) kernels_.push_back(f.getName().str());
    auto jit = llvm::orc::LLJITBuilder().create();
    if (!jit) throw std::runtime_error(llvm::toString(jit.takeError()));
    jit_ = std::move(*jit);
    llvm::orc::SymbolMap symbols;
    for (const std::string& k : kernels_) {
      void* fn = reinterpret_cast<void*>(&mockKernel);
      if (kernels == Kernels::Native && !(fn = nativeKernel(k)))
        throw std::runtime_error("no native kernel " + k);
      symbols[jit_->mangleAndIntern(k)] = {llvm::orc::ExecutorAddr::fromPtr(fn),
                                           llvm::JITSymbolFlags::Exported};
    }
    if (!options.weightsExternal)
      symbols[jit_->mangleAndIntern(options.prefix + "__weights")] = {
          llvm::orc::ExecutorAddr::fromPtr(blob_->data), llvm::JITSymbolFlags::Exported};
    check(jit_->getMainJITDylib().define(llvm::orc::absoluteSymbols(symbols)));
    m->setDataLayout(jit_->getDataLayout());
    check(jit_->addIRModule(llvm::orc::ThreadSafeModule(std::move(m), std::move(context))));
    auto desc = jit_->lookup("bitnet__model");
    if (!desc) throw std::runtime_error(llvm::toString(desc.takeError()));
    desc_ = desc->toPtr<const bitnet_model_desc*>();
  }

  const bitnet_model_desc& desc() const { return *desc_; }
  const bitnet_function_desc& function(const std::string& name) const {
    for (int64_t i = 0; i < desc_->num_functions; ++i)
      if (name == desc_->functions[i].name) return desc_->functions[i];
    throw std::runtime_error("no function " + name);
  }
  const WeightBlobPlan& weights() const { return plan_; }
  const uint8_t* blob() const { return blob_->data; }
  const std::vector<std::string>& kernels() const { return kernels_; }

  // Calls function `name`; scratch is filled with a pattern first (no value may depend on it).
  int64_t run(const std::string& name, std::vector<int64_t> dims, std::vector<void*> inputs,
              std::vector<void*> outputs, std::vector<void*> states = {}, int64_t stateRows = 0) {
    const bitnet_function_desc& f = function(name);
    scratch_.assign(size_t(f.scratch_bytes) + 64, 0xA5);
    uint8_t* scratch = scratch_.data() + (64 - uintptr_t(scratch_.data()) % 64) % 64;
    error_.assign(256, '\0');
    bitnet_call call{};
    call.dims = dims.data();
    call.inputs = inputs.data();
    call.outputs = outputs.data();
    call.states = states.data();
    call.state_rows = stateRows;
    call.scratch = scratch;
    call.weights = blob_->data;
    call.error = error_.data();
    call.error_size = int64_t(error_.size());
    lastScratch_ = scratch;
    return f.entry(&call);
  }
  const uint8_t* lastScratch() const { return lastScratch_; }
  std::string error() const { return error_.c_str(); }

 private:
  static void check(llvm::Error e) {
    if (e) throw std::runtime_error(llvm::toString(std::move(e)));
  }
  WeightBlobPlan plan_;
  std::unique_ptr<WeightBlobMemory> blob_;
  std::unique_ptr<llvm::orc::LLJIT> jit_;
  const bitnet_model_desc* desc_ = nullptr;
  std::vector<std::string> kernels_;
  std::vector<uint8_t> scratch_;
  const uint8_t* lastScratch_ = nullptr;
  std::string error_;
};

}  // namespace bitnetc::target::testing
