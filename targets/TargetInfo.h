// A compilation target: triple, CPU and features as LLVM names them, from -mtriple/-mcpu/-mattr.
// Defaults are the host's (`native`). The x86-64 micro-architecture levels (x86-64, x86-64-v2,
// -v3, -v4), named CPUs (znver4, skylake-avx512, ...), and AArch64 (generic, neoverse-n1,
// apple-m1, ...) as cross targets.
#pragma once
#include <set>
#include <string>
#include <string_view>

namespace bitnetc::target {

enum class Arch { X86_64, AArch64 };

struct TargetInfo {
  std::string triple;    // normalized, e.g. "x86_64-unknown-linux-gnu"
  std::string cpu;       // resolved CPU name ("native" becomes the host's, e.g. "znver5")
  std::string features;  // LLVM feature string, e.g. "+avx2,+fma,-avx512f" (may be empty)
  std::string attrs;     // the -mattr part of it (what the user asked for)
  Arch arch = Arch::X86_64;
  bool native = false;   // cpu and features are the host's
  std::set<std::string> enabled;  // every feature the CPU + -mattr enable, without '+'

  // Whether a feature is enabled, by LLVM's name: "avx2", "avx512vnni", "avxvnni", "avx512bw",
  // "avx512bf16", "neon", "dotprod", ...
  bool has(std::string_view feature) const { return enabled.count(std::string(feature)) != 0; }
  // The triple of the bitcode libraries for this arch ("x86_64-linux-gnu", "aarch64-linux-gnu").
  std::string bitcodeTriple() const;
  // "x86_64-unknown-linux-gnu, cpu znver4 (native), +avx2" (for -v and the model descriptor).
  std::string description() const;
  // True when this process's CPU can execute code for the target (same arch, features a subset).
  bool hostCanRun() const;
};

// Resolves options like clang/llc: empty triple = the host's; cpu "native" (or empty with the
// host triple) = the host CPU and its features; attrs "+f1,-f2". Throws bitnetc::Error naming an
// unknown triple, CPU or feature.
TargetInfo resolveTarget(const std::string& triple, const std::string& cpu,
                         const std::string& attrs);

}  // namespace bitnetc::target
