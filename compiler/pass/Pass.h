// A pass transforms a module in place. Passes are target-neutral and know nothing of files:
// they see only the IR (docs/IR.md). The PassManager verifies the module after each pass.
#pragma once
#include <ostream>
#include <sstream>
#include <string_view>

#include "compiler/ir/IR.h"

namespace bitnetc {

class Pass {
 public:
  virtual ~Pass() = default;
  virtual std::string_view name() const = 0;         // as used in --passes=, e.g. "cse"
  virtual std::string_view description() const = 0;  // one line for --list-passes
  virtual void run(Module& module) = 0;

  // Where the pass explains its decisions, one line each (bitnet-opt -v, --remarks): e.g. which
  // matmuls fuse-bitlinear fused and why it left the others. Null (the default): dropped.
  void setRemarkStream(std::ostream* out) { remarks_ = out; }

 protected:
  bool remarksEnabled() const { return remarks_ != nullptr; }
  // Writes "remark: NAME: <args...>" as one line.
  template <typename... Args>
  void remark(const Args&... args) const {
    if (!remarks_) return;
    std::ostringstream line;
    (line << ... << args);
    *remarks_ << "remark: " << name() << ": " << line.str() << "\n";
  }

 private:
  std::ostream* remarks_ = nullptr;
};

}  // namespace bitnetc
