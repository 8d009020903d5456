// The common middle of the library and JIT paths: bitnetc IR (after target passes) + weight blob
// plan -> one optimized LLVM module holding generated code, runtime and kernels.
#pragma once
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "compiler/ir/IR.h"
#include "targets/Backend.h"
#include "targets/WeightBlob.h"

namespace llvm {
class LLVMContext;
class Module;
class TargetMachine;
}  // namespace llvm

namespace bitnetc::target {

struct CompiledModel {
  std::unique_ptr<llvm::TargetMachine> machine;
  std::unique_ptr<llvm::Module> module;
  bool hasTokenizer = false;
  CompiledModel();
  CompiledModel(CompiledModel&&);
  ~CompiledModel();
};

// codegen -> link runtime + kernels -> export/internalize -> retarget -> verify -> O-level
// pipeline. weightsFileName: non-empty for --weights=external.
CompiledModel buildModelModule(const Module& module, const WeightBlobPlan& plan, uint64_t hash,
                               const BackendOptions& options, llvm::LLVMContext& context,
                               const std::string& weightsFileName, bool forJit = false);

// Reports stage start/end to BackendOptions::progress.
class StageTimer {
 public:
  explicit StageTimer(const std::function<void(const std::string&, double)>& progress)
      : progress_(progress) {}
  void begin(std::string name) {
    name_ = std::move(name);
    start_ = std::chrono::steady_clock::now();
    if (progress_) progress_(name_, -1.0);
  }
  void end() {
    if (progress_)
      progress_(name_, std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
  }

 private:
  const std::function<void(const std::string&, double)>& progress_;
  std::string name_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace bitnetc::target
