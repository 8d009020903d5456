// Reads a model from what a user names on the command line: a checkpoint folder (config.json +
// safetensors), an ONNX file (.onnx), a .bir file, or '-' (.bir on standard input). The one
// place tools dispatch on the kind of input.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "compiler/ir/IR.h"

namespace bitnetc {

struct ModelInputOptions {
  int64_t maxContext = 0;  // checkpoint folders: bound of ?seq and of the KV cache (0: config's)
  // ONNX models: bounds of the dynamic dims (dim_param NAME -> N, from --dim NAME=N) and of
  // every other one (--max-seq N; 0: the default 512).
  std::map<std::string, int64_t> dims;
  int64_t maxSeq = 0;
  // ONNX models: graph inputs bound to constant data (--const-input NAME=FILE.pb, a TensorProto).
  std::map<std::string, std::string> constInputs;
  // When set, receives the importers' remarks (tools print them with -v).
  std::vector<std::string>* notes = nullptr;

  // Parses "--dim NAME=N", "--max-seq N", "--const-input NAME=FILE" (or "--flag=value") at
  // argv[i] (advancing i past a separate value). Returns false when argv[i] is none of them; throws on a bad value.
  bool parseFlag(int argc, char** argv, int& i);
};

// The usage lines of the flags parseFlag reads.
extern const char* const kModelInputUsage;

// Returns a verified module. Throws bitnetc::Error naming the input.
std::unique_ptr<Module> readModelInput(const std::string& input, const ModelInputOptions& options);

}  // namespace bitnetc
