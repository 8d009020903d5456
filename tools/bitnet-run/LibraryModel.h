// --backend so: a library compiled by bitnetc, dlopen()ed (RTLD_NOW | RTLD_LOCAL, so that several
// models and bitnet-run's own symbols never mix), used through its PREFIX_bitnet_api() table.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "tools/bitnet-run/LanguageModel.h"

namespace bitnetc::run {

// The names of the defined dynamic symbols of an ELF shared library that end in "_bitnet_api"
// (read with LLVM's Object library, without loading it). Throws Error naming the file when it
// is not an ELF shared library for this machine.
std::vector<std::string> findApiSymbols(const std::string& path);

std::unique_ptr<LanguageModel> loadLibraryModel(const std::string& path, const LoadOptions& options);

}  // namespace bitnetc::run
