// Imports a Hugging Face checkpoint folder (config.json + model.safetensors, or a sharded
// model.safetensors.index.json) into the IR: BitNetForCausalLM (2B-4T packed format) and the
// older 1bitLLM format (fp16 latent weights, ternarized at import). Weights stay in the mapped
// files; nothing is copied except weights the importer must transform.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "compiler/ir/IR.h"

namespace bitnetc {

struct ImportOptions {
  // Upper bound of ?seq and the KV-cache length; 0 = the config's max_position_embeddings.
  int64_t maxContext = 0;
  // When set, receives one-line remarks about decisions the importer made (the scale rule and
  // why, config defaults taken, weights ternarized at import, tensors ignored); tools print
  // them with -v.
  std::vector<std::string>* notes = nullptr;
};

// Throws Error with a message naming the file and tensor (or config key) at fault.
std::unique_ptr<Module> importCheckpoint(const std::string& folder, const ImportOptions& options = {});

}  // namespace bitnetc
