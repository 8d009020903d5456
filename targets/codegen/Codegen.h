// IR -> LLVM IR. The generated module holds one entry function per IR function
// (bitnet_entry_fn: `i64 @bitnet__fn_<name>(ptr %call)`), which calls one kernel per op
// (`i64 @bitnetk_<opcode>(ptr %call, ptr %args)`, declared here, defined by the kernel bitcode
// linked in later) with a bitnet_kernel_args built on the stack, keeps intermediates at offsets
// of call->scratch planned at compile time (liveness-based reuse), and defines the model
// descriptor `@bitnet__model` (bitnet_model_desc, runtime/abi/bitnet_abi.h).
// Weights are never LLVM constants: the code reads call->weights + offset; in embed mode the
// descriptor points at `@<prefix>__weights`, an external hidden [0 x i8] defined by the weights
// object (targets/WeightBlob.h).
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "compiler/ir/IR.h"
#include "targets/WeightBlob.h"

namespace llvm {
class LLVMContext;
class Module;
}  // namespace llvm

namespace bitnetc::target {

struct CodegenOptions {
  std::string prefix = "model";  // symbol prefix (--name)
  std::string targetDescription; // bitnet_model_desc.target
  std::string triple;            // module triple; the data layout is set by the backend
  bool weightsExternal = false;  // --weights=external: no @<prefix>__weights reference
  std::string weightsFileName;   // e.g. "model.weights" (external mode)
  uint64_t weightHash = 0;
  // Planning bound for the ?seq dim of a language model's forward (tokens per call); the runtime
  // splits longer prefills into chunks of this size. Other dims plan at their declared bounds.
  int64_t maxBatch = 512;
  std::string tokenizerJson;     // bytes of tokenizer.json to embed; empty: none
  // Test-only deliberate bug for the kernels (BITNET_FAULT_*, targets/kernels/bitnet_kernels.h),
  // defined as the constant @bitnet__fault; 0 in normal builds (the checks fold away).
  int64_t fault = 0;
};

std::unique_ptr<llvm::Module> generateModule(const Module& module, const WeightBlobPlan& weights,
                                             const CodegenOptions& options,
                                             llvm::LLVMContext& context);

}  // namespace bitnetc::target
