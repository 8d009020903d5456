// The model descriptor `@bitnet__model` (bitnet_model_desc, runtime/abi/bitnet_abi.h) that the
// runtime reads: the functions with their tensor signatures, entry points and scratch sizes; the
// dynamic dims; the module attributes as JSON; the weight blob (size, hash, embedded symbol or
// external file name); the language-model facts; the embedded tokenizer.json.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "compiler/ir/IR.h"
#include "targets/WeightBlob.h"
#include "targets/codegen/Codegen.h"

namespace llvm {
class Function;
class GlobalVariable;
class Module;
}  // namespace llvm

namespace bitnetc::target {

struct EntryPoint {
  const Function* function;
  llvm::Function* entry;
  uint64_t scratchBytes;
};

// The module attributes as a JSON object (ints, floats, strings, bools, lists; a non-finite
// float becomes null).
std::string moduleMetadataJson(const Module& module);

// The module attribute io_names (a JSON object: IR value name -> the source model's name, e.g.
// ONNX names that are not IR identifiers) as a map; empty without it. The descriptor's input and
// output tensors carry these names: the generic API (run, signatures) speaks the source's names.
std::map<std::string, std::string> ioNames(const Module& module);

// The symbol of the embedded weight blob: "<prefix>__weights".
std::string weightsSymbol(const std::string& prefix);

// Defines @bitnet__model. A language model's forward is function 0, the others follow in module
// order.
llvm::GlobalVariable* emitModelDescriptor(llvm::Module& out, const Module& module,
                                          const std::vector<EntryPoint>& functions,
                                          const WeightBlobPlan& weights,
                                          const CodegenOptions& options);

}  // namespace bitnetc::target
