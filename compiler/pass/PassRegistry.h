// Named passes. passes/ registers its passes explicitly (registerAllPasses() in passes/Passes.h),
// so no registration depends on static initializers surviving the link of a static library.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/pass/Pass.h"

namespace bitnetc {

using PassFactory = std::function<std::unique_ptr<Pass>()>;

struct PassInfo {
  std::string name;
  std::string description;
  PassFactory create;
};

// Registers a pass under its name(); registering the same name again replaces the entry.
void registerPass(PassFactory create);
template <typename P>
void registerPass() {
  registerPass([] { return std::unique_ptr<Pass>(new P()); });
}

// Throws "unknown pass 'x' (known: a, b)".
std::unique_ptr<Pass> createPass(std::string_view name);
bool isRegisteredPass(std::string_view name);
// Sorted by name.
std::vector<const PassInfo*> registeredPasses();

}  // namespace bitnetc
