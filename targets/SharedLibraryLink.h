// Links a model's object files into a shared library with lld, in process.
#pragma once
#include <string>
#include <vector>

#include "targets/TargetInfo.h"

namespace bitnetc::target {

struct LinkInputs {
  std::vector<std::string> objects;  // model code, weights
  std::string tokenizerArchive;      // host C++ tokenizer (PIC archive); empty: none
};

// Links to `output` with DT_SONAME `soname` (the final file name: bitnetc links to a temporary
// file first). Throws bitnetc::Error with lld's messages.
void linkSharedLibrary(const TargetInfo& target, const LinkInputs& inputs, const std::string& output,
                       const std::string& soname);

// What a program linking the static archive of a model needs besides it (for the header).
std::string staticLinkFlags(bool withTokenizer);

}  // namespace bitnetc::target
