// A Hugging Face config.json of a BitNet model, read into a struct. Two families:
//  - BitNetForCausalLM (model_type "bitnet", microsoft/bitnet-b1.58-2B-4T): packed 2-bit weights,
//    relu2, sub-norms attn_sub_norm / ffn_sub_norm;
//  - BitnetForCausalLM (model_type "llama", 1bitLLM/bitnet_b1_58-*): fp latent weights, silu,
//    sub-norms inner_attn_ln / ffn_layernorm.
// Keys HF gives a default for get that default (and a note); shape keys are required.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "compiler/ir/Weights.h"

namespace bitnetc {

enum class CheckpointFamily : uint8_t { BitNet, OneBitLLM };

struct HFConfig {
  std::string path;  // of config.json, for messages
  std::string architecture;
  std::string modelType;
  CheckpointFamily family = CheckpointFamily::BitNet;

  int64_t hiddenSize = 0;
  int64_t intermediateSize = 0;
  int64_t numLayers = 0;
  int64_t numHeads = 0;
  int64_t numKVHeads = 0;
  int64_t headDim = 0;
  int64_t vocabSize = 0;
  int64_t maxPositionEmbeddings = 0;
  double rmsNormEps = 0;
  double ropeTheta = 0;
  std::string hiddenAct;  // "relu2" or "silu"
  // Absent from the file: decided by the importer from the presence of lm_head.weight.
  bool tieWordEmbeddingsGiven = false;
  bool tieWordEmbeddings = false;
  int64_t bosTokenId = -1;  // -1 when the config has none
  int64_t eosTokenId = -1;
  // Every id generation stops at, as Hugging Face's generate(): all of an eos_token_id list, plus
  // those of generation_config.json (added by the importer). eosTokenId is the first.
  std::vector<int64_t> eosTokenIds;

  // BitLinear scale direction, from quantization_config.linear_class (BITNET.md section 3).
  std::string linearClass;  // as written; empty when absent
  ScaleRule scaleRule = ScaleRule::Div;

  // Human-readable remarks (defaults taken, the scale rule and why); printed by tools with -v.
  std::vector<std::string> notes;

  // Reads and validates the file. Throws Error naming the file and key at fault.
  static HFConfig load(const std::string& path);
  static HFConfig parse(const std::string& text, const std::string& path);
};

}  // namespace bitnetc
