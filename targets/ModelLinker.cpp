#include "targets/ModelLinker.h"

#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/Module.h>
#include <llvm/Linker/Linker.h>
#include <llvm/Support/Error.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Transforms/IPO/Internalize.h>

#include <set>

#include "compiler/support/Error.h"
#include "targets/EmbeddedBlobs.h"

namespace bitnetc::target {
namespace {

constexpr llvm::StringLiteral kPublicPrefix = "bitnet__public_";

std::unique_ptr<llvm::Module> loadLibrary(const std::string& library, const TargetInfo& target,
                                          llvm::LLVMContext& context) {
  const std::string arch = target.arch == Arch::X86_64 ? "x86_64" : "aarch64";
  auto blob = embeddedBlob(library + "_" + arch);
  if (!blob)
    fail("this bitnetc was built without the ", library, " for ", target.bitcodeTriple(),
         arch == "aarch64" ? " (install libc6-dev-arm64-cross and rebuild bitnetc)" : "");
  auto buffer = llvm::MemoryBufferRef(llvm::StringRef(blob->data(), blob->size()), library);
  auto module = llvm::parseBitcodeFile(buffer, context);
  if (!module) fail("internal: the embedded ", library, " bitcode does not load: ",
                    llvm::toString(module.takeError()));
  return std::move(*module);
}

}  // namespace

std::string exportedName(const std::string& prefix, const std::string& apiName) {
  return prefix + "_" + apiName;
}

void linkModelModule(llvm::Module& generated, const TargetInfo& target, const std::string& prefix,
                     bool withTokenizer, bool exportDescriptor) {
  for (const char* library : {"runtime", "kernels"}) {
    auto lib = loadLibrary(library, target, generated.getContext());
    lib->setTargetTriple(generated.getTargetTriple());
    lib->setDataLayout(generated.getDataLayout());
    if (llvm::Linker::linkModules(generated, std::move(lib)))
      fail("internal: linking the ", library, " bitcode into the model failed");
  }
  // The runtime declares the tokenizer shim weak. Linked: make the references strong. Not
  // linked: they are null, said here rather than left to the linker (an undefined hidden weak
  // symbol is address 0, out of 32-bit range of code placed after a >2 GiB weight blob).
  for (const char* name : {"bitnet_tokenizer_create", "bitnet_tokenizer_free",
                           "bitnet_tokenizer_encode", "bitnet_tokenizer_decode"}) {
    llvm::Function* f = generated.getFunction(name);
    if (!f || !f->isDeclaration()) continue;
    if (withTokenizer) {
      f->setLinkage(llvm::GlobalValue::ExternalLinkage);
    } else {
      f->replaceAllUsesWith(llvm::ConstantPointerNull::get(f->getType()));
      f->eraseFromParent();
    }
  }
  std::set<std::string> exported = {prefix + "__weights"};
  if (exportDescriptor) exported.insert("bitnet__model");
  for (llvm::Function& f : generated) {
    if (f.isDeclaration() || !f.getName().starts_with(kPublicPrefix)) continue;
    const std::string name = exportedName(prefix, f.getName().drop_front(kPublicPrefix.size()).str());
    if (generated.getNamedValue(name)) fail("internal: the exported name ", name, " is taken");
    f.setName(name);
    f.setLinkage(llvm::GlobalValue::ExternalLinkage);
    f.setVisibility(llvm::GlobalValue::DefaultVisibility);
    exported.insert(name);
  }
  if (exported.size() == 1) fail("internal: the runtime bitcode exports no bitnet__public_ function");
  llvm::internalizeModule(generated, [&](const llvm::GlobalValue& gv) {
    return exported.count(gv.getName().str()) != 0;
  });
}

}  // namespace bitnetc::target
