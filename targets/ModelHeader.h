// The generated per-model header OUT.h: bitnet.h (embedded, guarded) plus the model's prefixed
// declarations and facts, so `#include "OUT.h"` is all an application needs.
#pragma once
#include <string>

#include "compiler/ir/IR.h"
#include "targets/Backend.h"

namespace bitnetc::target {

std::string generateModelHeader(const Module& module, const BackendOptions& options,
                                EmitKind emit, const std::string& libraryFile);

// A C identifier from a file name: "out/tiny-model.so" -> "tiny_model".
std::string defaultPrefix(const std::string& outputPath);
// Throws unless `prefix` is a C identifier that does not end in '_'.
void checkPrefix(const std::string& prefix);

}  // namespace bitnetc::target
