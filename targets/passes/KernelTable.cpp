#include "targets/passes/KernelTable.h"

#include "compiler/ir/Weights.h"
#include "compiler/support/Error.h"

namespace bitnetc::target {

const std::vector<BitlinearKernel>& bitlinearKernels() {
  static const std::vector<BitlinearKernel> table = {
      {"hf2", kLayoutHFBlocked, std::nullopt, {}, 10,
       "2-bit codes blocked along the output (the HF checkpoint layout, 4 weights a byte)"},
      {"i8", kLayoutI8, std::nullopt, {}, 0, "one int8 per weight (4x the bytes of hf2)"},
      {"mad", kLayoutMad2, std::nullopt, {}, 5,
       "2-bit codes in 256-column blocks of 4 rows (mad_2bit), portable C"},
      {"mad_avx2", kLayoutMad2, Arch::X86_64, {"avx2"}, 30, "mad_2bit, vpmaddubsw + vpmaddwd (ymm)"},
      {"mad_avxvnni", kLayoutMad2, Arch::X86_64, {"avx2", "avxvnni"}, 40, "mad_2bit, vpdpbusd (ymm)"},
      {"mad_avx512vnni", kLayoutMad2, Arch::X86_64, {"avx512f", "avx512bw", "avx512vnni"}, 50,
       "mad_2bit, vpdpbusd (zmm); prefill: codes unpacked once per tile, 4 tokens x 4 rows"},
      {"mad_avx512vnni_ymm", kLayoutMad2, Arch::X86_64, {"avx512f", "avx512vl", "avx512vnni"}, 45,
       "mad_2bit, vpdpbusd (ymm, EVEX): the mad_avxvnni code for AVX-512 VNNI CPUs"},
      {"mad_neondot", kLayoutMad2, Arch::AArch64, {"neon", "dotprod"}, 40, "mad_2bit, NEON sdot"},
      {"lut", kLayoutLut3, std::nullopt, {}, 3,
       "one 5-bit index per 3 weights in 128-row tiles (lut3_5bit, 1.78 bits a weight), portable C lookups"},
      {"lut_avx512bw", kLayoutLut3, Arch::X86_64, {"avx512f", "avx512bw"}, 55,
       "lut3_5bit, vpermw lookups (zmm) in int16 tables of 3 activations, 4 tokens per table set"},
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

// The cost model: the table's rank (measured order on 2B-4T shapes, docs/PERFORMANCE.md), with
// one shape rule from the same measurements: below K = 512 (two 256-column blocks) the zmm
// GEMV's per-row-group cost (16 accumulators and their reduction) outweighs its width, and the
// ymm form of the AVX-512 VNNI code is faster. The MAD kernels need K <= 2^22 (int32 lanes).
// And the padding rule: mad_2bit rounds K up to whole 256-column blocks; where that adds more
// than 1/8 of the bytes (K < 228, or e.g. K = 300: 512), the padded layout reads more memory
// than it saves in instructions, and the MAD kernels are not chosen (2B-4T's 2560 and 6912 are
// whole blocks; 3200 pads by 4%).
// The LUT kernel (lut3_5bit: 11% fewer bytes than mad_2bit; on Zen 4 +5-25% G w/s in DRAM,
// +10-20% in L3 and for 256-token GEMMs, 2-3x at K <= 512 where the MAD GEMV's per-row-group
// cost dominates) builds its tables per token and chunk for every range of 128-row tiles: on
// few rows with long K that work is not paid back (K = 2560: N = 512 158 vs 174 G w/s, N = 256
// 116 vs 168; N = 640-768 even), so there it ranks below the MAD kernels; and like mad_2bit it
// is not chosen where its padding (rows to 128, columns to 9) adds more than 1/8 of the bytes.
static int shapeRank(const BitlinearKernel& k, int64_t N, int64_t K) {
  if (k.layout == kLayoutMad2 && K > (int64_t(1) << 22)) return -1;
  if (k.layout == kLayoutMad2 && (K + 255) / 256 * 256 * 8 > K * 9) return -1;
  if (k.layout == kLayoutLut3 && (K > (int64_t(1) << 24) || (N + 127) / 128 * 128 * 8 > N * 9 ||
                                  (K + 8) / 9 * 9 * 8 > K * 9))
    return -1;
  if (k.name == "lut_avx512bw" && N < 640 && K >= 2048) return 25;
  if (k.name == "mad_avx512vnni" && K < 512) return 44;
  return k.rank;
}

const BitlinearKernel& chooseBitlinearKernel(const TargetInfo& target, int64_t N, int64_t K) {
  const BitlinearKernel* best = nullptr;
  for (const BitlinearKernel& k : bitlinearKernels())
    if (kernelRunsOn(k, target) && shapeRank(k, N, K) >= 0 &&
        (!best || shapeRank(k, N, K) > shapeRank(*best, N, K)))
      best = &k;
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
