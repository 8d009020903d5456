#include "targets/StagedOutputs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Signals.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "compiler/support/Error.h"

namespace bitnetc::target {

StagedOutputs::~StagedOutputs() {
  for (const auto& [temp, final] : files_) {
    std::remove(temp.c_str());
    llvm::sys::DontRemoveFileOnSignal(temp);
  }
}

std::string StagedOutputs::stage(const std::string& finalPath) {
  const size_t slash = finalPath.rfind('/');
  const std::string dir = slash == std::string::npos ? "" : finalPath.substr(0, slash + 1);
  const std::string name = slash == std::string::npos ? finalPath : finalPath.substr(slash + 1);
  const std::string temp = dir + "." + name + ".bitnetc-" + std::to_string(getpid()) + "-" +
                           std::to_string(files_.size());
  // Checked and created here (exclusively) so that an unwritable directory, or a directory in the
  // way of the final path, fails before any output is renamed, with the final path in the message.
  struct stat st;
  if (::stat(finalPath.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    fail("cannot write ", finalPath, ": ", std::strerror(EISDIR));
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) fail("cannot write ", finalPath, ": ", std::strerror(errno));
  ::close(fd);
  llvm::sys::RemoveFileOnSignal(temp);
  files_.emplace_back(temp, finalPath);
  return temp;
}

void StagedOutputs::commit() {
  for (const auto& [temp, final] : files_)
    if (std::rename(temp.c_str(), final.c_str()) != 0)
      fail("cannot write ", final, ": ", std::strerror(errno));
  for (const auto& [temp, final] : files_) llvm::sys::DontRemoveFileOnSignal(temp);
  files_.clear();
}

}  // namespace bitnetc::target
