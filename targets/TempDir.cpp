#include "targets/TempDir.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "compiler/support/Error.h"

namespace bitnetc::target {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/bitnetc-XXXXXX";
  if (!mkdtemp(pattern.data())) fail("cannot create a temporary directory ", pattern, ": ", std::strerror(errno));
  dir_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

}  // namespace bitnetc::target
