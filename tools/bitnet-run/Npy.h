// Writes a HostTensor as a numpy .npy file (format version 1.0): <f4, |i1, <i4, <i8, |u1;
// bf16 and f16 are widened exactly to <f4 (numpy has no bf16).
#pragma once
#include <string>

#include "compiler/interp/Interpreter.h"

namespace bitnetc::run {

void writeNpy(const std::string& path, const HostTensor& tensor);

}  // namespace bitnetc::run
