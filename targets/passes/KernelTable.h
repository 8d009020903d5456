// The bitlinear kernel variants the backend has (targets/kernels, bitnetk_bitlinear_<name>):
// the weight layout each reads and what it needs from the target. select-kernels picks one per
// bitlinear (the best supported one, or the one --kernel forces) and pack-weights converts the
// weight to its layout. Per-ISA variants (AVX2, AVX-512 VNNI, NEON dotprod, LUT) are new rows:
// a name, a layout, an architecture and the LLVM features they need, and a rank.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "targets/TargetInfo.h"

namespace bitnetc::target {

struct BitlinearKernel {
  std::string_view name;                   // the `kernel` attribute: bitnetk_bitlinear_<name>
  std::string_view layout;                 // ternary layout of the weight (compiler/ir/Weights.h)
  std::optional<Arch> arch;                // only for this architecture; nullopt: portable C
  std::vector<std::string_view> features;  // every one must be enabled (LLVM names)
  int rank;                                // preference when several fit: higher wins
  std::string_view description;
};

// Every variant, in table order.
const std::vector<BitlinearKernel>& bitlinearKernels();
// nullptr when no variant has this name.
const BitlinearKernel* findBitlinearKernel(std::string_view name);
// Whether code for `target` may call the variant (architecture and features).
bool kernelRunsOn(const BitlinearKernel& kernel, const TargetInfo& target);
// "hf2, i8" (every name) for messages.
std::string bitlinearKernelNames();
// The variant for a bitlinear with a weight of [N, K] on the target: the highest-ranked one that
// runs there, the rank adjusted by the shape (KernelTable.cpp: the zmm GEMV gives way to its ymm
// form for K < 512).
const BitlinearKernel& chooseBitlinearKernel(const TargetInfo& target, int64_t N, int64_t K);
// The forced variant: throws an Error naming `name` and listing the variants when it is unknown
// or cannot run on the target (naming the missing features).
const BitlinearKernel& requireBitlinearKernel(std::string_view name, const TargetInfo& target);

}  // namespace bitnetc::target
