// Writes a HostTensor as a numpy .npy file (format version 1.0): <f4, <f8, <f2, |i1, <i2, <i4,
// <i8, |u1, <u2, <u4, <u8, |b1 by the ABI's element codes (TensorIO.h); bf16 is widened exactly
// to <f4 (numpy has no bf16), and so is f16 unless keepF16 (value dumps keep their f32 files).
#pragma once
#include <string>

#include "compiler/interp/Interpreter.h"

namespace bitnetc::run {

void writeNpy(const std::string& path, const HostTensor& tensor, bool keepF16 = false);

}  // namespace bitnetc::run
