// OUT.a: the model's objects plus the members of the host tokenizer archive, in one GNU archive.
#pragma once
#include <string>

#include "targets/SharedLibraryLink.h"

namespace bitnetc::target {

void writeStaticArchive(const LinkInputs& inputs, const std::string& output);

}  // namespace bitnetc::target
