#include "targets/SharedLibraryLink.h"

#include <lld/Common/Driver.h>
#include <llvm/Support/raw_ostream.h>

#include <mutex>

#include "compiler/support/Error.h"

LLD_HAS_DRIVER(elf)

namespace bitnetc::target {
namespace {

// lld keeps global state: one link at a time per process.
std::mutex& lldMutex() {
  static std::mutex m;
  return m;
}

}  // namespace

std::string staticLinkFlags(bool withTokenizer) {
  return withTokenizer ? "-lstdc++ -lpcre2-8 -lm -lpthread" : "-lm -lpthread";
}

void linkSharedLibrary(const TargetInfo& target, const LinkInputs& inputs, const std::string& output,
                       const std::string& soname) {
  const bool x86 = target.arch == Arch::X86_64;
  std::vector<std::string> args = {"ld.lld", "-shared", "-o", output, "-soname", soname,
                                   "-m", x86 ? "elf_x86_64" : "aarch64linux",
                                   "--no-undefined", "-z", "noexecstack", "-z", "relro", "-z", "now",
                                   "--hash-style=gnu", "--build-id", "--eh-frame-hdr", "--strip-debug",
                                   // The tokenizer archive exports nothing (std:: templates keep default
                                   // visibility whatever -fvisibility says).
                                   "--exclude-libs", "ALL",
                                   "--as-needed"};
  if (x86) {
    // The host toolchain's files, found by CMake (see targets/CMakeLists.txt).
    for (const char* dir : {BITNETC_HOST_GCC_LIBDIR, "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu"})
      args.push_back(std::string("-L") + dir);
  } else {
    args.push_back("-L/usr/aarch64-linux-gnu/lib");
  }
  const bool tokenizer = !inputs.tokenizerArchive.empty();
  if (tokenizer) args.push_back(BITNETC_HOST_CRTBEGIN);  // __dso_handle for C++ static objects
  for (const auto& o : inputs.objects) args.push_back(o);
  if (tokenizer) {
    args.push_back(inputs.tokenizerArchive);
    for (const char* lib : {"-l:libstdc++.so.6", "-l:libpcre2-8.so.0", "-l:libgcc_s.so.1"})
      args.push_back(lib);
  }
  args.push_back("-lm");
  args.push_back("-lc");
  if (x86) args.push_back("-lgcc");  // compiler builtins (e.g. f16 conversions without F16C)
  if (tokenizer) args.push_back(BITNETC_HOST_CRTEND);

  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::string messages;
  llvm::raw_string_ostream out(messages), err(messages);
  std::lock_guard<std::mutex> lock(lldMutex());
  lld::Result r = lld::lldMain(argv, out, err, {{lld::Gnu, &lld::elf::link}});
  out.flush();
  if (r.retCode != 0) fail("linking ", output, " with lld failed:\n", messages);
  if (!r.canRunAgain) fail("lld cannot run again in this process after linking ", output);
}

}  // namespace bitnetc::target
