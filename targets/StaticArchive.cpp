#include "targets/StaticArchive.h"

#include <llvm/Object/Archive.h>
#include <llvm/Object/ArchiveWriter.h>
#include <llvm/Support/Error.h>
#include <llvm/Support/MemoryBuffer.h>

#include "compiler/support/Error.h"

namespace bitnetc::target {

void writeStaticArchive(const LinkInputs& inputs, const std::string& output) {
  std::vector<llvm::NewArchiveMember> members;
  for (const std::string& object : inputs.objects) {
    auto m = llvm::NewArchiveMember::getFile(object, /*Deterministic=*/true);
    if (!m) fail("cannot read ", object, ": ", llvm::toString(m.takeError()));
    members.push_back(std::move(*m));
  }
  std::unique_ptr<llvm::MemoryBuffer> tokenizerBuffer;
  std::unique_ptr<llvm::object::Archive> tokenizer;
  if (!inputs.tokenizerArchive.empty()) {
    auto buffer = llvm::MemoryBuffer::getFile(inputs.tokenizerArchive);
    if (!buffer) fail("cannot read ", inputs.tokenizerArchive);
    tokenizerBuffer = std::move(*buffer);
    auto archive = llvm::object::Archive::create(tokenizerBuffer->getMemBufferRef());
    if (!archive) fail("internal: bad tokenizer archive: ", llvm::toString(archive.takeError()));
    tokenizer = std::move(*archive);
    llvm::Error err = llvm::Error::success();
    for (const auto& child : tokenizer->children(err)) {
      auto m = llvm::NewArchiveMember::getOldMember(child, /*Deterministic=*/true);
      if (!m) fail("internal: bad tokenizer archive member: ", llvm::toString(m.takeError()));
      members.push_back(std::move(*m));
    }
    if (err) fail("internal: bad tokenizer archive: ", llvm::toString(std::move(err)));
  }
  if (llvm::Error e = llvm::writeArchive(output, members, llvm::SymtabWritingMode::NormalSymtab,
                                         llvm::object::Archive::K_GNU, /*Deterministic=*/true,
                                         /*Thin=*/false))
    fail("cannot write ", output, ": ", llvm::toString(std::move(e)));
}

}  // namespace bitnetc::target
