#include "compiler/pass/PassRegistry.h"

#include <map>

#include "compiler/support/Error.h"

namespace bitnetc {

namespace {
std::map<std::string, PassInfo, std::less<>>& registry() {
  static std::map<std::string, PassInfo, std::less<>> passes;
  return passes;
}
}  // namespace

void registerPass(PassFactory create) {
  std::unique_ptr<Pass> probe = create();
  std::string name(probe->name());
  registry()[name] = PassInfo{name, std::string(probe->description()), std::move(create)};
}

bool isRegisteredPass(std::string_view name) { return registry().count(name) > 0; }

std::unique_ptr<Pass> createPass(std::string_view name) {
  auto it = registry().find(name);
  if (it == registry().end()) {
    std::string known;
    for (const auto& [n, info] : registry()) known += (known.empty() ? "" : ", ") + n;
    fail("unknown pass '", name, "' (known: ", known.empty() ? "none" : known, ")");
  }
  return it->second.create();
}

std::vector<const PassInfo*> registeredPasses() {
  std::vector<const PassInfo*> out;
  for (const auto& [name, info] : registry()) out.push_back(&info);
  return out;
}

}  // namespace bitnetc
