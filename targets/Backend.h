// The backend pipeline, spelled out in one place (targets/Backend.cpp):
//   target passes (select-kernels, pack-weights) -> weight blob plan -> codegen (IR -> LLVM IR)
//   -> link the runtime and kernel bitcode for the target -> export PREFIX_* and internalize the
//   rest -> O3 with the target's TTI -> object / asm / LLVM IR -> lld (.so) or an archive (.a).
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "compiler/ir/IR.h"
#include "targets/TargetInfo.h"

namespace bitnetc::target {

enum class EmitKind { Lib, Static, Obj, LlvmIr, Asm, Bir };
enum class WeightsMode { Embed, External };

// --lm-head: the logits matmul's weights as the checkpoint has them (bf16, exact), or int8 per
// row with f32 row scales (targets/passes/QuantizeLmHead.cpp).
enum class LmHead { Keep, Int8 };
LmHead lmHeadFromName(const std::string& name);  // "bf16" (= Keep), "int8"; throws otherwise

struct BackendOptions {
  TargetInfo target;
  int optLevel = 3;               // -O0..-O3
  std::string prefix = "model";   // --name
  WeightsMode weights = WeightsMode::Embed;
  int64_t maxBatch = 512;         // tokens per forward call (prefill is chunked by the runtime)
  std::string kernel;             // --kernel=NAME forces a bitlinear kernel ("" = the cost model)
  LmHead lmHead = LmHead::Keep;   // --lm-head
  // Test-only: a deliberate bug in the kernels (BITNET_FAULT_*, targets/kernels/bitnet_kernels.h;
  // bitnetc --inject-fault), to prove that the e2e tests of compiled code are sharp. 0 = none.
  int64_t fault = 0;
  bool printIrAfterAll = false;   // bitnetc IR after each pass, LLVM IR after codegen and O3
  bool timePasses = false;
  // Called when a stage starts (seconds < 0) and when it ends (seconds = its wall time), for the
  // driver's progress line and -v; may be empty.
  std::function<void(const std::string& stage, double seconds)> progress;
  // Where --print-ir-after-all and --time-passes write (the driver: stderr).
  std::ostream* log = nullptr;
};

// Compiles `module` (already imported and through the default IR pipeline) to `output`.
// For Lib/Static also writes the header (output without extension + ".h"); for External weights
// also OUTPUT_BASENAME.weights. Throws bitnetc::Error.
void compileModule(Module& module, const BackendOptions& options, EmitKind emit,
                   const std::string& output);

// Runs only the target passes (select-kernels, pack-weights) on the IR; what --emit=bir prints.
void runTargetPasses(Module& module, const BackendOptions& options);

}  // namespace bitnetc::target
