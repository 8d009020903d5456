// Reads a model from what a user names on the command line: a checkpoint folder (config.json +
// safetensors), a .bir file, or '-' (.bir on standard input). The one place tools dispatch on the
// kind of input; ONNX files come here next.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "compiler/ir/IR.h"

namespace bitnetc {

struct ModelInputOptions {
  int64_t maxContext = 0;  // checkpoint folders: bound of ?seq and of the KV cache (0: config's)
};

// Returns a verified module. Throws bitnetc::Error naming the input.
std::unique_ptr<Module> readModelInput(const std::string& input, const ModelInputOptions& options);

}  // namespace bitnetc
