// Turns the generated module into a whole model: links the runtime and kernel bitcode for the
// target into it, renames the runtime's bitnet__public_X functions to PREFIX_X (exported), keeps
// the weight blob symbol PREFIX__weights external, and internalizes everything else, so any
// number of models live in one process or one static link.
#pragma once
#include <string>

#include "targets/TargetInfo.h"

namespace llvm {
class Module;
}

namespace bitnetc::target {

// withTokenizer: the tokenizer shim will be linked (host targets of models with a tokenizer); its
// functions, declared weak by the runtime, become strong references so that a static link pulls
// them out of the archive.
// exportDescriptor: keep `bitnet__model` visible (the JIT hands it to tests that call entry
// functions directly).
void linkModelModule(llvm::Module& generated, const TargetInfo& target, const std::string& prefix,
                     bool withTokenizer, bool exportDescriptor = false);

// The names PREFIX_X of the exported API functions of a linked module (for the header, tests).
std::string exportedName(const std::string& prefix, const std::string& apiName);

}  // namespace bitnetc::target
