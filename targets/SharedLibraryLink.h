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

// Throws bitnetc::Error with lld's messages.
void linkSharedLibrary(const TargetInfo& target, const LinkInputs& inputs, const std::string& output);

// What a program linking the static archive of a model needs besides it (for the header).
std::string staticLinkFlags(bool withTokenizer);

}  // namespace bitnetc::target
