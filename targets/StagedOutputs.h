// The files one compile writes (OUT, its header, weights file or object) appear together or not at
// all: each is written to a hidden temporary file beside its final path, and commit() renames them
// all once every stage has succeeded. A failed or interrupted compile (an error, SIGINT/SIGTERM)
// removes the temporaries and leaves any previous outputs as they were, never a half-written OUT
// that looks valid; two compiles writing the same OUT at once each rename complete files.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace bitnetc::target {

class StagedOutputs {
 public:
  StagedOutputs() = default;
  StagedOutputs(const StagedOutputs&) = delete;
  StagedOutputs& operator=(const StagedOutputs&) = delete;
  ~StagedOutputs();  // removes every temporary not yet committed

  // A new temporary path in the directory of `finalPath` ("dir/.name.bitnetc-PID-N"), removed if
  // the process dies of a signal before commit(). Throws bitnetc::Error if the directory is not
  // writable.
  std::string stage(const std::string& finalPath);
  // Renames every temporary to its final path, in the order they were staged.
  void commit();

 private:
  std::vector<std::pair<std::string, std::string>> files_;  // temporary, final
};

}  // namespace bitnetc::target
