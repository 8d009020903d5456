#include "tools/bitnetc/Progress.h"

#include <unistd.h>

#include <cstdio>

namespace bitnetc::driver {

Progress::Progress(bool verbose) : verbose_(verbose), terminal_(isatty(STDERR_FILENO) == 1) {}

void Progress::stage(const std::string& name, double seconds) {
  if (verbose_) {
    if (seconds >= 0) std::fprintf(stderr, "bitnetc: %-40s %8.3f s\n", name.c_str(), seconds);
    return;
  }
  if (!terminal_ || seconds >= 0) return;
  std::fprintf(stderr, "\r\033[K[bitnetc] %s ...", name.c_str());
  std::fflush(stderr);
  lineShown_ = true;
}

void Progress::done() {
  if (lineShown_) std::fprintf(stderr, "\r\033[K");
  lineShown_ = false;
}

}  // namespace bitnetc::driver
