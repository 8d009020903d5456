// --backend so: a library compiled by bitnetc, dlopen()ed (RTLD_NOW | RTLD_LOCAL, so that several
// models and bitnet-run's own symbols never mix), used through its PREFIX_bitnet_api() table.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "runtime/include/bitnet.h"
#include "tools/bitnet-run/LanguageModel.h"

namespace bitnetc::run {

// The names of the defined dynamic symbols of an ELF shared library that end in "_bitnet_api"
// (read with LLVM's Object library, without loading it). Throws Error naming the file when it
// is not an ELF shared library for this machine.
std::vector<std::string> findApiSymbols(const std::string& path);

// dlopen()s the library and returns its one (or `name`'s) bitnet_api table; the handle closes
// the library when the last owner lets go.
struct LibraryTable {
  const bitnet_api* api = nullptr;
  std::shared_ptr<void> handle;
};
LibraryTable openLibraryTable(const std::string& path, const std::string& name);

std::unique_ptr<LanguageModel> loadLibraryModel(const std::string& path, const LoadOptions& options);

}  // namespace bitnetc::run
