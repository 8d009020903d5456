// A private temporary directory for the intermediate files of one compilation (objects, the
// tokenizer archive), removed with everything in it when the object goes away.
#pragma once
#include <string>

namespace bitnetc::target {

class TempDir {
 public:
  TempDir();  // throws bitnetc::Error
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

 private:
  std::string dir_;
};

}  // namespace bitnetc::target
