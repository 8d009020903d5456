// select-kernels + pack-weights (targets/passes) with the kernels: every variant, after packing,
// computes what the interpreter computes on the unpacked module; a weight already in its
// kernel's layout keeps its bytes (no copy); padding rows of the 2-bit layout may hold any code;
// invalid i8 values are errors; the kernel table's choices and messages.
#include "kernels_test_util.h"
#include "targets/passes/KernelTable.h"
#include "targets/passes/TargetPasses.h"

using namespace bitnetc;
using namespace bitnetc::kerneltest;
using namespace bitnetc::target;

namespace {

TargetInfo fakeTarget(Arch arch, std::set<std::string> features) {
  TargetInfo t;
  t.arch = arch;
  t.triple = arch == Arch::X86_64 ? "x86_64-unknown-linux-gnu" : "aarch64-unknown-linux-gnu";
  t.cpu = "test";
  t.enabled = std::move(features);
  return t;
}

const char* kModel = R"(bir 1
dim ?seq <= 8
weight @a : ternary<7 x 33> layout "hf_blocked_2bit" scale mul 1.25 = dense<[%A]>
weight @b : ternary<5 x 7> layout "i8" scale div 0.5 = dense<[%B]>
func @forward(%x: tensor<?seq x 33 x f32>) -> (tensor<?seq x 5 x f32>) {
  %q, %s = act_quant(%x) : tensor<?seq x 33 x i8>, tensor<?seq x f32>
  %h = bitlinear(%q, %s, @a) : tensor<?seq x 7 x f32>
  %q2, %s2 = act_quant(%h) : tensor<?seq x 7 x i8>, tensor<?seq x f32>
  %y = bitlinear(%q2, %s2, @b) : tensor<?seq x 5 x f32>
  return %y
}
)";

std::string ternaryList(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s;
  for (int64_t i = 0; i < n; ++i) s += (i ? ", " : "") + std::to_string(int(rng() % 3) - 1);
  return s;
}

std::unique_ptr<Module> model() {
  std::string text = kModel;
  text.replace(text.find("%A"), 2, ternaryList(7 * 33, 1));
  text.replace(text.find("%B"), 2, ternaryList(5 * 7, 2));
  return parse(text);
}

void packFor(Module& m, const TargetInfo& target, const std::string& kernel) {
  createSelectKernelsPass(target, {kernel})->run(m);
  createPackWeightsPass()->run(m);
  verify(m);
}

}  // namespace

TEST(TargetPasses, EveryKernelMatchesTheInterpreterAfterPacking) {
  auto reference = model();
  const HostTensor x = randomTensor(DType::F32, {3, 33}, 5);
  Interpreter interp(*reference, *reference->functions()[0]);
  const HostTensor expected = interp.run({x})[0];
  // The native kernel library runs what this CPU has (ISA variants of other CPUs are skipped).
  const TargetInfo host = resolveTarget("", "native", "");
  int ran = 0;
  for (const BitlinearKernel& k : bitlinearKernels()) {
    if (!kernelRunsOn(k, host)) continue;
    ++ran;
    auto m = model();
    packFor(*m, host, std::string(k.name));
    for (const auto& w : m->weights()) EXPECT_EQ(w->layout, k.layout) << k.name;
    KernelRunner runner(*m, *m->functions()[0]);
    const std::vector<HostTensor> out = runner.run({x});
    ASSERT_EQ(runner.status, 0) << runner.error;
    EXPECT_TRUE(bitExact(out.at(0), expected)) << "kernel " << k.name;
    // The packed module is still what the interpreter computes.
    Interpreter packed(*m, *m->functions()[0]);
    EXPECT_TRUE(bitExact(packed.run({x})[0], expected)) << "kernel " << k.name;
  }
  EXPECT_GE(ran, 3);  // hf2, i8, mad at least
}

TEST(TargetPasses, WeightInItsLayoutKeepsItsBytes) {
  auto m = model();
  const uint8_t* before = m->weightValue("a")->weight->data;
  packFor(*m, fakeTarget(Arch::AArch64, {"neon"}), "");
  EXPECT_EQ(m->weightValue("a")->weight->data, before);  // hf2 stays, not copied
  EXPECT_EQ(m->weightValue("b")->weight->layout, kLayoutHFBlocked);
}

TEST(TargetPasses, PaddingRowsMayHoldAnyCode) {
  // 5 rows in the 2-bit layout: R = 2, rows 5..7 are padding; code 3 there is not an error.
  auto m = parse(R"(bir 1
weight @w : ternary<5 x 2> layout "hf_blocked_2bit" scale none = dense<[1, 0, -1, 1, 0, 0, 1, 1, -1, -1]>
func @f(%q: tensor<1 x 2 x i8>, %s: tensor<1 x f32>) -> (tensor<1 x 5 x f32>) {
  %y = bitlinear(%q, %s, @w) : tensor<1 x 5 x f32>
  return %y
}
)");
  Weight& w = const_cast<Weight&>(*m->weightValue("w")->weight);
  // Packed row 1 holds rows 1, 3 and padding rows 5, 7: set their fields (bits 4-7) to 3.
  w.owned->at(2) |= 0xF0;
  w.owned->at(3) |= 0xF0;
  EXPECT_NO_THROW(packFor(*m, fakeTarget(Arch::X86_64, {}), "hf2"));
  // Packed row 0, field 2 is row 4 (= 2R + 0): a real row.
  w.owned->at(0) |= 0x30;
  try {
    packFor(*m, fakeTarget(Arch::X86_64, {}), "hf2");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "weight @w: invalid packed code 3 at packed [0, 0] (row 4)");
  }
}

TEST(TargetPasses, InvalidI8ValueIsAnError) {
  auto m = parse(R"(bir 1
weight @w : ternary<2 x 3> layout "i8" scale none = dense<[1, 0, -1, 1, 0, 0]>
func @f(%q: tensor<1 x 3 x i8>, %s: tensor<1 x f32>) -> (tensor<1 x 2 x f32>) {
  %y = bitlinear(%q, %s, @w) : tensor<1 x 2 x f32>
  return %y
}
)");
  Weight& w = const_cast<Weight&>(*m->weightValue("w")->weight);
  w.owned->at(4) = uint8_t(-2);
  try {
    packFor(*m, fakeTarget(Arch::X86_64, {}), "i8");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "weight @w: value -2 at [1, 1] is not ternary");
  }
}

TEST(TargetPasses, KernelTable) {
  EXPECT_EQ(chooseBitlinearKernel(fakeTarget(Arch::X86_64, {}), 2560, 2560).name, "hf2");
  EXPECT_EQ(chooseBitlinearKernel(fakeTarget(Arch::X86_64, {"avx2"}), 2560, 2560).name, "mad_avx2");
  EXPECT_EQ(chooseBitlinearKernel(fakeTarget(Arch::X86_64, {"avx2", "avxvnni"}), 2560, 2560).name, "mad_avxvnni");
  EXPECT_EQ(chooseBitlinearKernel(fakeTarget(Arch::X86_64, {"avx2", "avx512f", "avx512bw", "avx512vl", "avx512vnni"}),
                                  6912, 2560).name,
            "lut_avx512bw");
  // The LUT kernel's rule: on few rows (N < 640) with long K its tables cost more than its
  // lookups save; its padding rule (128-row tiles) as mad_2bit's.
  EXPECT_EQ(chooseBitlinearKernel(fakeTarget(Arch::X86_64, {"avx2", "avx512f", "avx512bw", "avx512vl", "avx512vnni"}),
                                  512, 2560).name,
            "mad_avx512vnni");
  EXPECT_EQ(chooseBitlinearKernel(fakeTarget(Arch::X86_64, {"avx2", "avx512f", "avx512bw"}), 640, 2560).name,
            "lut_avx512bw");
  EXPECT_EQ(chooseBitlinearKernel(fakeTarget(Arch::X86_64, {"avx2", "avx512f", "avx512bw"}), 512, 2560).name,
            "mad_avx2");
  EXPECT_EQ(chooseBitlinearKernel(fakeTarget(Arch::X86_64, {"avx2", "avx512f", "avx512bw"}), 512, 1024).name,
            "lut_avx512bw");
  EXPECT_EQ(chooseBitlinearKernel(fakeTarget(Arch::X86_64, {"avx2", "avx512f", "avx512bw"}), 100, 1024).name,
            "mad_avx2");
  // The shape rule: short rows (K < 512) take the ymm form of the AVX-512 VNNI code (where the
  // LUT kernel's padding rule keeps it out: 100 rows pad to 128).
  EXPECT_EQ(chooseBitlinearKernel(fakeTarget(Arch::X86_64, {"avx2", "avx512f", "avx512bw", "avx512vl", "avx512vnni"}),
                                  100, 256).name,
            "mad_avx512vnni_ymm");
  EXPECT_EQ(chooseBitlinearKernel(fakeTarget(Arch::X86_64, {"avx2", "avx512f", "avx512bw", "avx512vl", "avx512vnni"}),
                                  2048, 256).name,
            "lut_avx512bw");
  EXPECT_EQ(chooseBitlinearKernel(fakeTarget(Arch::AArch64, {}), 4, 4).name, "hf2");
  EXPECT_EQ(chooseBitlinearKernel(fakeTarget(Arch::AArch64, {"neon", "dotprod"}), 64, 1024).name, "mad_neondot");
  // The padding rule: K = 64 or 300 would read 4x or 1.7x the bytes in mad_2bit.
  EXPECT_EQ(chooseBitlinearKernel(fakeTarget(Arch::AArch64, {"neon", "dotprod"}), 64, 64).name, "hf2");
  EXPECT_EQ(chooseBitlinearKernel(fakeTarget(Arch::X86_64, {"avx2"}), 256, 300).name, "hf2");
  EXPECT_EQ(chooseBitlinearKernel(fakeTarget(Arch::X86_64, {"avx2"}), 256, 3200).name, "mad_avx2");
  EXPECT_EQ(bitlinearKernelNames(),
            "hf2, i8, mad, mad_avx2, mad_avxvnni, mad_avx512vnni, mad_avx512vnni_ymm, mad_neondot, lut, "
            "lut_avx512bw");
  EXPECT_EQ(findBitlinearKernel("nope"), nullptr);
  for (const BitlinearKernel& k : bitlinearKernels()) {
    EXPECT_TRUE(isKnownTernaryLayout(k.layout)) << k.name;
    if (!k.arch) EXPECT_EQ(&requireBitlinearKernel(k.name, fakeTarget(Arch::X86_64, {})), &k);
  }
  try {
    requireBitlinearKernel("mad_avx512vnni", fakeTarget(Arch::X86_64, {"avx2"}));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "bitlinear kernel 'mad_avx512vnni' needs x86_64 + avx512f + avx512bw + avx512vnni, "
                           "which the target (x86_64-unknown-linux-gnu, cpu test) does not have (it can run: "
                           "hf2, i8, mad, mad_avx2, lut)");
  }
  try {
    requireBitlinearKernel("tl2", fakeTarget(Arch::X86_64, {}));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "unknown bitlinear kernel 'tl2' (known: hf2, i8, mad, mad_avx2, mad_avxvnni, "
                           "mad_avx512vnni, mad_avx512vnni_ymm, mad_neondot, lut, lut_avx512bw)");
  }
}
