// A pass transforms a module in place. Passes are target-neutral and know nothing of files:
// they see only the IR (docs/IR.md). The PassManager verifies the module after each pass.
#pragma once
#include <string_view>

#include "compiler/ir/IR.h"

namespace bitnetc {

class Pass {
 public:
  virtual ~Pass() = default;
  virtual std::string_view name() const = 0;         // as used in --passes=, e.g. "cse"
  virtual std::string_view description() const = 0;  // one line for --list-passes
  virtual void run(Module& module) = 0;
};

}  // namespace bitnetc
