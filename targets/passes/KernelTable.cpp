#include "targets/passes/KernelTable.h"

#include "compiler/ir/Weights.h"
#include "compiler/support/Error.h"

namespace bitnetc::target {

const std::vector<BitlinearKernel>& bitlinearKernels() {
  static const std::vector<BitlinearKernel> table = {
      {"hf2", kLayoutHFBlocked, std::nullopt, {}, 10,
       "2-bit codes blocked along the output (the HF checkpoint layout, 4 weights a byte)"},
      {"i8", kLayoutI8, std::nullopt, {}, 0, "one int8 per weight (4x the bytes of hf2)"},
  };
  return table;
}

const BitlinearKernel* findBitlinearKernel(std::string_view name) {
  for (const BitlinearKernel& k : bitlinearKernels())
    if (k.name == name) return &k;
  return nullptr;
}

bool kernelRunsOn(const BitlinearKernel& kernel, const TargetInfo& target) {
  if (kernel.arch && *kernel.arch != target.arch) return false;
  for (std::string_view f : kernel.features)
    if (!target.has(f)) return false;
  return true;
}

std::string bitlinearKernelNames() {
  std::string s;
  for (const BitlinearKernel& k : bitlinearKernels()) s += (s.empty() ? "" : ", ") + std::string(k.name);
  return s;
}

const BitlinearKernel& chooseBitlinearKernel(const TargetInfo& target, int64_t N, int64_t K) {
  (void)N;
  (void)K;
  const BitlinearKernel* best = nullptr;
  for (const BitlinearKernel& k : bitlinearKernels())
    if (kernelRunsOn(k, target) && (!best || k.rank > best->rank)) best = &k;
  if (!best) fail("internal: no bitlinear kernel runs on ", target.triple);  // portable ones always do
  return *best;
}

const BitlinearKernel& requireBitlinearKernel(std::string_view name, const TargetInfo& target) {
  const BitlinearKernel* k = findBitlinearKernel(name);
  if (!k) fail("unknown bitlinear kernel '", name, "' (known: ", bitlinearKernelNames(), ")");
  if (!kernelRunsOn(*k, target)) {
    std::string runs;
    for (const BitlinearKernel& other : bitlinearKernels())
      if (kernelRunsOn(other, target)) runs += (runs.empty() ? "" : ", ") + std::string(other.name);
    std::string needs = k->arch ? (*k->arch == Arch::X86_64 ? "x86_64" : "aarch64") : "";
    for (std::string_view f : k->features) needs += (needs.empty() ? "" : " + ") + std::string(f);
    fail("bitlinear kernel '", name, "' needs ", needs, ", which the target (", target.triple, ", cpu ",
         target.cpu, ") does not have (it can run: ", runs, ")");
  }
  return *k;
}

}  // namespace bitnetc::target
