// The target passes (one per file), between the IR pipeline and codegen:
//   select-kernels  sets the string attribute `kernel` on every bitlinear: the best variant of
//                   targets/passes/KernelTable for the target, the one `kernel` (--kernel=NAME)
//                   forces, or the one an op already names (checked against the target).
//   pack-weights    converts each ternary weight to the layout its bitlinear's kernel reads;
//                   a weight already in that layout is kept as it is (a file-backed one stays
//                   mapped, nothing is copied); its codes are checked (the kernels trust them).
// The registry is global (compiler/pass/PassRegistry.h): registerTargetPasses adds both under
// their names for --passes= lists; drivers may also build them directly.
#pragma once
#include <memory>
#include <string>

#include "compiler/pass/Pass.h"
#include "targets/TargetInfo.h"

namespace bitnetc::target {

struct TargetPassOptions {
  // --kernel=SPEC: NAME (every bitlinear) and/or PATTERN=NAME items, comma-separated
  // (SelectKernels.cpp; docs/CLI.md); "" = the cost model chooses.
  std::string kernel;
};

void registerTargetPasses(const TargetInfo& target, const TargetPassOptions& options = {});

std::unique_ptr<Pass> createSelectKernelsPass(const TargetInfo& target, const TargetPassOptions& options = {});
std::unique_ptr<Pass> createPackWeightsPass();

}  // namespace bitnetc::target
