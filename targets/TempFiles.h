// The intermediate files of one compilation (objects, the tokenizer archive) in $TMPDIR (or
// /tmp): each created exclusively with a unique name, removed when the object goes away, and
// removed by LLVM's signal handler if the process dies of SIGINT/SIGTERM first (no directory:
// nothing is left behind, not even an empty one).
#pragma once
#include <string>
#include <vector>

namespace bitnetc::target {

class TempFiles {
 public:
  TempFiles() = default;
  ~TempFiles();
  TempFiles(const TempFiles&) = delete;
  TempFiles& operator=(const TempFiles&) = delete;
  // A new empty file "$TMPDIR/bitnetc-PID-N-name"; throws bitnetc::Error.
  std::string path(const std::string& name);

 private:
  std::vector<std::string> files_;
};

}  // namespace bitnetc::target
