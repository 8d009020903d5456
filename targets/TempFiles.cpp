#include "targets/TempFiles.h"

#include <fcntl.h>
#include <unistd.h>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Signals.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "compiler/support/Error.h"

namespace bitnetc::target {

TempFiles::~TempFiles() {
  for (const std::string& f : files_) {
    std::remove(f.c_str());
    llvm::sys::DontRemoveFileOnSignal(f);
  }
}

std::string TempFiles::path(const std::string& name) {
  const char* base = std::getenv("TMPDIR");
  const std::string dir = base && *base ? base : "/tmp";
  for (int attempt = 0;; ++attempt) {
    const std::string f = dir + "/bitnetc-" + std::to_string(getpid()) + "-" +
                          std::to_string(files_.size() + size_t(attempt)) + "-" + name;
    const int fd = ::open(f.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
      ::close(fd);
      llvm::sys::RemoveFileOnSignal(f);
      files_.push_back(f);
      return f;
    }
    if (errno != EEXIST || attempt > 100)
      fail("cannot create a temporary file in ", dir, ": ", std::strerror(errno));
  }
}

}  // namespace bitnetc::target
