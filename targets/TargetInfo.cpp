#include "targets/TargetInfo.h"

#include <llvm/ADT/StringMap.h>
#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/TargetParser/Host.h>
#include <llvm/TargetParser/Triple.h>

#include <memory>
#include <mutex>

#include "compiler/support/Error.h"

namespace bitnetc::target {
namespace {

void initializeLlvmTargets() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeAllTargetInfos();
    llvm::InitializeAllTargets();
    llvm::InitializeAllTargetMCs();
    llvm::InitializeAllAsmParsers();
    llvm::InitializeAllAsmPrinters();
  });
}

std::string hostFeatureString() {
  std::string s;
  for (const auto& f : llvm::sys::getHostCPUFeatures())
    s += (s.empty() ? "" : ",") + std::string(f.second ? "+" : "-") + f.first().str();
  return s;
}

// Checks each "+name"/"-name" of an -mattr string against the target's feature table.
void checkFeatureNames(const std::string& attrs, const llvm::MCSubtargetInfo& sti,
                       const std::string& triple) {
  std::set<std::string> known;
  for (const auto& kv : sti.getAllProcessorFeatures()) known.insert(kv.Key);
  size_t start = 0;
  while (start <= attrs.size()) {
    size_t end = attrs.find(',', start);
    if (end == std::string::npos) end = attrs.size();
    std::string f = attrs.substr(start, end - start);
    start = end + 1;
    if (f.empty()) continue;
    if (f[0] != '+' && f[0] != '-')
      fail("-mattr: '", f, "' must start with '+' or '-' (e.g. +avx2,-avx512f)");
    if (!known.count(f.substr(1)))
      fail("-mattr: unknown feature '", f.substr(1), "' for ", triple);
  }
}

}  // namespace

std::string TargetInfo::bitcodeTriple() const {
  return arch == Arch::X86_64 ? "x86_64-linux-gnu" : "aarch64-linux-gnu";
}

std::string TargetInfo::description() const {
  return triple + ", cpu " + cpu + (native ? " (native)" : "") + (attrs.empty() ? "" : ", " + attrs);
}

bool TargetInfo::hostCanRun() const {
  static const TargetInfo host = resolveTarget("", "native", "");
  if (host.arch != arch) return false;
  // Only instruction-set features count: the host's detected map names exactly those (LLVM's
  // feature table also holds tuning flags such as slow-3ops-lea, which no CPU "has").
  static const llvm::StringMap<bool> hostIsa = llvm::sys::getHostCPUFeatures();
  for (const std::string& f : enabled) {
    auto it = hostIsa.find(f);
    if (it != hostIsa.end() && !it->second) return false;
  }
  return true;
}

TargetInfo resolveTarget(const std::string& tripleName, const std::string& cpuName,
                         const std::string& attrs) {
  initializeLlvmTargets();
  const std::string hostTriple = llvm::Triple::normalize(llvm::sys::getDefaultTargetTriple());
  TargetInfo t;
  t.triple = tripleName.empty() ? hostTriple : llvm::Triple::normalize(tripleName);
  llvm::Triple triple(t.triple);
  if (triple.getArch() == llvm::Triple::x86_64) t.arch = Arch::X86_64;
  else if (triple.getArch() == llvm::Triple::aarch64) t.arch = Arch::AArch64;
  else fail("-mtriple: unsupported target '", tripleName, "' (supported: x86_64 and aarch64 Linux)");
  if (!triple.isOSLinux())
    fail("-mtriple: unsupported target '", tripleName, "': only Linux (ELF) targets are supported");

  std::string error;
  const llvm::Target* target = llvm::TargetRegistry::lookupTarget(t.triple, error);
  if (!target) fail("-mtriple: ", error);

  const bool isHost = llvm::Triple(hostTriple).getArch() == triple.getArch();
  std::string features;
  if (cpuName == "native" || (cpuName.empty() && isHost)) {
    if (!isHost) fail("-mcpu=native needs the host's architecture, not ", t.triple);
    t.cpu = llvm::sys::getHostCPUName().str();
    t.native = true;
    features = hostFeatureString();
  } else {
    t.cpu = cpuName.empty() ? (t.arch == Arch::X86_64 ? "x86-64" : "generic") : cpuName;
  }
  std::unique_ptr<llvm::MCSubtargetInfo> probe(target->createMCSubtargetInfo(t.triple, "", ""));
  if (!probe->isCPUStringValid(t.cpu)) fail("-mcpu: unknown CPU '", t.cpu, "' for ", t.triple);
  checkFeatureNames(attrs, *probe, t.triple);
  if (!attrs.empty()) features += (features.empty() ? "" : ",") + attrs;
  t.features = features;
  t.attrs = attrs;

  std::unique_ptr<llvm::MCSubtargetInfo> sti(
      target->createMCSubtargetInfo(t.triple, t.cpu, t.features));
  for (const auto& kv : sti->getAllProcessorFeatures())
    if (sti->checkFeatures(std::string("+") + kv.Key)) t.enabled.insert(kv.Key);
  return t;
}

}  // namespace bitnetc::target
