// Target descriptions: -mtriple/-mcpu/-mattr resolve through LLVM's tables; bad names are errors.
#include <gtest/gtest.h>

#include "compiler/support/Error.h"
#include "targets/TargetInfo.h"

namespace bitnetc::target {
namespace {

std::string errorOf(const std::string& triple, const std::string& cpu, const std::string& attrs) {
  try {
    resolveTarget(triple, cpu, attrs);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(TargetInfo, X86Levels) {
  const TargetInfo v1 = resolveTarget("x86_64-linux-gnu", "x86-64", "");
  EXPECT_TRUE(v1.has("sse2"));
  EXPECT_FALSE(v1.has("avx2"));
  const TargetInfo v3 = resolveTarget("x86_64-linux-gnu", "x86-64-v3", "");
  EXPECT_TRUE(v3.has("avx2"));
  EXPECT_TRUE(v3.has("fma"));
  EXPECT_FALSE(v3.has("avx512f"));
  const TargetInfo v4 = resolveTarget("x86_64-linux-gnu", "x86-64-v4", "");
  EXPECT_TRUE(v4.has("avx512bw"));
  EXPECT_EQ(v4.arch, Arch::X86_64);
  EXPECT_EQ(v4.bitcodeTriple(), "x86_64-linux-gnu");
}

TEST(TargetInfo, AttrsAddAndRemoveFeatures) {
  const TargetInfo t = resolveTarget("x86_64-linux-gnu", "x86-64-v3", "+avx512vnni,-bmi2");
  EXPECT_TRUE(t.has("avx512vnni"));
  EXPECT_TRUE(t.has("avx512f"));  // implied, as in LLVM
  EXPECT_FALSE(t.has("bmi2"));
  EXPECT_NE(t.description().find("+avx512vnni,-bmi2"), std::string::npos);
  // Removing a feature removes what depends on it (avx512f needs fma).
  EXPECT_FALSE(resolveTarget("x86_64-linux-gnu", "x86-64-v4", "-fma").has("avx512f"));
}

TEST(TargetInfo, AArch64CrossTargets) {
  const TargetInfo n1 = resolveTarget("aarch64-linux-gnu", "neoverse-n1", "");
  EXPECT_EQ(n1.arch, Arch::AArch64);
  EXPECT_TRUE(n1.has("dotprod"));
  EXPECT_TRUE(n1.has("neon"));
  EXPECT_FALSE(n1.hostCanRun() && n1.arch != resolveTarget("", "native", "").arch);
  const TargetInfo generic = resolveTarget("aarch64-linux-gnu", "", "");
  EXPECT_EQ(generic.cpu, "generic");
  EXPECT_TRUE(resolveTarget("aarch64-linux-gnu", "apple-m1", "").has("dotprod"));
}

TEST(TargetInfo, HostRunsItsOwnLevelsOnly) {
  // x86-64 (v1) runs on every x86-64 host; tuning flags of named CPUs do not count as features.
  const TargetInfo host = resolveTarget("", "native", "");
  if (host.arch == Arch::X86_64) {
    EXPECT_TRUE(resolveTarget("x86_64-linux-gnu", "x86-64", "").hostCanRun());
    EXPECT_EQ(resolveTarget("x86_64-linux-gnu", "x86-64-v3", "").hostCanRun(), host.has("avx2"));
    EXPECT_EQ(resolveTarget("x86_64-linux-gnu", "x86-64-v4", "").hostCanRun(), host.has("avx512bw"));
    EXPECT_EQ(resolveTarget("x86_64-linux-gnu", "x86-64", "+avx512vnni").hostCanRun(),
              host.has("avx512vnni"));
  }
  EXPECT_FALSE(resolveTarget("aarch64-linux-gnu", "neoverse-n1", "").hostCanRun() &&
               host.arch == Arch::X86_64);
}

TEST(TargetInfo, NativeIsTheHost) {
  const TargetInfo host = resolveTarget("", "native", "");
  EXPECT_TRUE(host.native);
  EXPECT_TRUE(host.hostCanRun());
  EXPECT_NE(host.cpu, "native");
}

TEST(TargetInfo, BadNamesAreErrors) {
  EXPECT_NE(errorOf("x86_64-linux-gnu", "pentium-9000", "").find("unknown CPU 'pentium-9000'"), std::string::npos);
  EXPECT_NE(errorOf("x86_64-linux-gnu", "", "+avx9").find("unknown feature 'avx9'"), std::string::npos);
  EXPECT_NE(errorOf("x86_64-linux-gnu", "", "avx2").find("must start with '+' or '-'"), std::string::npos);
  EXPECT_NE(errorOf("riscv64-linux-gnu", "", "").find("unsupported target"), std::string::npos);
  EXPECT_NE(errorOf("x86_64-apple-darwin", "", "").find("only Linux"), std::string::npos);
  EXPECT_NE(errorOf("aarch64-linux-gnu", "native", "").find("native"), std::string::npos);
}

}  // namespace
}  // namespace bitnetc::target
