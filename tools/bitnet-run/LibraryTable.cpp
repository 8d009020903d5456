// The library side of --backend so: finding a library's PREFIX_bitnet_api symbols and dlopen()ing
// it (LibraryModel.h), shared by language models and generic graphs.
#include <dlfcn.h>

#include <algorithm>
#include <filesystem>

#include "compiler/support/Error.h"
#include "llvm/Object/ELFObjectFile.h"
#include "llvm/Object/ObjectFile.h"
#include "llvm/Support/Error.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"
#include "tools/bitnet-run/LibraryModel.h"

namespace bitnetc::run {

namespace {

constexpr std::string_view kApiSuffix = "_bitnet_api";

std::string joined(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

}  // namespace

std::vector<std::string> findApiSymbols(const std::string& path) {
  auto object = llvm::object::ObjectFile::createObjectFile(path);
  if (!object)
    fail(path, ": not a library compiled by bitnetc (not an ELF shared library: ",
         llvm::toString(object.takeError()), ")");
  const auto* elf = llvm::dyn_cast<llvm::object::ELFObjectFileBase>(object->getBinary());
  if (!elf) fail(path, ": not a library compiled by bitnetc (not an ELF file)");
  if (elf->getEType() != llvm::ELF::ET_DYN)
    fail(path, ": an ELF object or executable, not a shared library (bitnetc MODEL -o ", path, ")");
  const llvm::Triple host(llvm::sys::getProcessTriple());
  if (elf->getArch() != host.getArch())
    fail(path, ": compiled for ", llvm::Triple::getArchTypeName(elf->getArch()).str(), ", this machine is ",
         host.getArchName().str(), " (compile it with bitnetc -mtriple for this machine)");
  std::vector<std::string> found;
  for (const llvm::object::ELFSymbolRef& sym : elf->getDynamicSymbolIterators()) {
    llvm::Expected<llvm::StringRef> name = sym.getName();
    llvm::Expected<uint32_t> flags = sym.getFlags();
    if (!name || !flags) {
      llvm::consumeError(name.takeError());
      llvm::consumeError(flags.takeError());
      continue;
    }
    if ((*flags & llvm::object::SymbolRef::SF_Undefined) || !name->ends_with(kApiSuffix)) continue;
    found.push_back(name->str());
  }
  return found;
}

LibraryTable openLibraryTable(const std::string& path, const std::string& name) {
  const std::vector<std::string> symbols = findApiSymbols(path);
  std::string symbol;
  if (!name.empty()) {
    symbol = name + std::string(kApiSuffix);
    if (std::find(symbols.begin(), symbols.end(), symbol) == symbols.end())
      fail(path, ": no model named '", name, "' (no symbol ", symbol, "; the library has ",
           symbols.empty() ? std::string("none") : joined(symbols), ")");
  } else if (symbols.empty()) {
    fail(path, ": not a library compiled by bitnetc (no PREFIX_bitnet_api symbol)");
  } else if (symbols.size() > 1) {
    fail(path, ": the library holds ", symbols.size(), " models (", joined(symbols),
         "): choose one with --name PREFIX");
  } else {
    symbol = symbols[0];
  }

  // A name without a slash would be searched in the library path instead of opened.
  const std::string absolute = std::filesystem::absolute(path).string();
  void* handle = dlopen(absolute.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) fail(path, ": cannot load: ", dlerror());
  std::shared_ptr<void> library(handle, [](void* h) { dlclose(h); });
  using ApiFn = const bitnet_api* (*)();
  auto fn = reinterpret_cast<ApiFn>(dlsym(handle, symbol.c_str()));
  if (!fn) fail(path, ": cannot find ", symbol, ": ", dlerror());
  return {fn(), std::move(library)};
}

}  // namespace bitnetc::run
