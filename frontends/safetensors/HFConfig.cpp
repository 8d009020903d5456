#include "frontends/safetensors/HFConfig.h"

#include <cmath>
#include <cstdint>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "compiler/support/Error.h"
#include "compiler/support/JsonNesting.h"

namespace bitnetc {

namespace {

using json = nlohmann::json;

// Defaults of the HF config classes (BitNetConfig for "bitnet", LlamaConfig for the 1bitLLM
// "llama" checkpoints), used when a key is absent.
struct FamilyDefaults {
  double rmsNormEps, ropeTheta;
  const char* hiddenAct;
  int64_t maxPositionEmbeddings, bos, eos;
};
constexpr FamilyDefaults kBitNetDefaults{1e-5, 500000.0, "relu2", 2048, 128000, 128001};
constexpr FamilyDefaults kLlamaDefaults{1e-6, 10000.0, "silu", 2048, 1, 2};

class Reader {
 public:
  Reader(const json& j, const std::string& path, std::vector<std::string>& notes)
      : j_(j), path_(path), notes_(notes) {}

  int64_t requiredInt(const char* key, int64_t min = 1) const {
    if (!j_.contains(key)) fail(path_, ": missing key \"", key, "\"");
    return checkedInt(key, min);
  }
  int64_t optionalInt(const char* key, int64_t fallback, int64_t min = 1) const {
    if (!j_.contains(key) || j_[key].is_null()) {
      notes_.push_back(std::string(key) + " absent from config.json: using " + std::to_string(fallback));
      return fallback;
    }
    return checkedInt(key, min);
  }
  double optionalFloat(const char* key, double fallback) const {
    if (!j_.contains(key) || j_[key].is_null()) {
      std::ostringstream s;
      s << key << " absent from config.json: using " << fallback;
      notes_.push_back(s.str());
      return fallback;
    }
    const json& v = j_[key];
    if (!v.is_number()) fail(path_, ": key \"", key, "\" must be a number, got ", v.dump());
    const double d = v.get<double>();
    if (!std::isfinite(d) || d <= 0) fail(path_, ": key \"", key, "\" must be positive, got ", v.dump());
    return d;
  }
  std::string optionalString(const char* key, const char* fallback) const {
    if (!j_.contains(key) || j_[key].is_null()) {
      notes_.push_back(std::string(key) + " absent from config.json: using \"" + fallback + "\"");
      return fallback;
    }
    if (!j_[key].is_string()) fail(path_, ": key \"", key, "\" must be a string, got ", j_[key].dump());
    return j_[key].get<std::string>();
  }
  // A token id: an int, or a list of ints (Llama-3 instruct lists several eos ids; we keep the first).
  int64_t tokenId(const char* key, int64_t fallback) const {
    if (!j_.contains(key)) {
      notes_.push_back(std::string(key) + " absent from config.json: " +
                       (fallback < 0 ? "none" : "using " + std::to_string(fallback)));
      return fallback;
    }
    const json& v = j_[key];
    if (v.is_null()) return -1;
    if (v.is_array() && !v.empty() && v[0].is_number_integer() && v[0].get<int64_t>() >= 0) {
      notes_.push_back(std::string(key) + " lists " + std::to_string(v.size()) + " ids: using the first, " +
                       v[0].dump());
      return v[0].get<int64_t>();
    }
    if (!v.is_number_integer() || v.get<int64_t>() < 0)
      fail(path_, ": key \"", key, "\" must be a non-negative integer, got ", v.dump());
    return v.get<int64_t>();
  }

 private:
  int64_t checkedInt(const char* key, int64_t min) const {
    const json& v = j_[key];
    if (!v.is_number_integer()) fail(path_, ": key \"", key, "\" must be an integer, got ", v.dump());
    const int64_t n = v.get<int64_t>();
    if (n < min) fail(path_, ": key \"", key, "\" must be >= ", min, ", got ", n);
    // Sizes and ids are int32 in the IR; the cap also keeps products of sizes from overflowing.
    if (n > INT32_MAX) fail(path_, ": key \"", key, "\" is ", n, ", larger than the limit ", INT32_MAX);
    return n;
  }
  const json& j_;
  const std::string& path_;
  std::vector<std::string>& notes_;
};

}  // namespace

HFConfig HFConfig::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot open (a checkpoint folder needs a config.json)");
  std::ostringstream s;
  s << in.rdbuf();
  return parse(s.str(), path);
}

HFConfig HFConfig::parse(const std::string& text, const std::string& path) {
  checkJsonNesting(text, path);
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    fail(path, ": not valid JSON: ", e.what());
  }
  if (!j.is_object()) fail(path, ": not a JSON object");

  HFConfig c;
  c.path = path;
  if (!j.contains("architectures")) fail(path, ": missing key \"architectures\"");
  const json& archs = j["architectures"];
  if (!archs.is_array() || archs.size() != 1 || !archs[0].is_string())
    fail(path, ": key \"architectures\" must be a list of one string, got ", archs.dump());
  c.architecture = archs[0].get<std::string>();
  if (j.contains("model_type") && j["model_type"].is_string()) c.modelType = j["model_type"].get<std::string>();
  if (c.architecture == "BitNetForCausalLM") {
    c.family = CheckpointFamily::BitNet;
  } else if (c.architecture == "BitnetForCausalLM") {
    c.family = CheckpointFamily::OneBitLLM;
  } else {
    fail(path, ": unsupported architecture \"", c.architecture,
         "\" (supported: BitNetForCausalLM (microsoft/bitnet-b1.58-2B-4T, model_type bitnet), "
         "BitnetForCausalLM (1bitLLM/bitnet_b1_58-*, model_type llama))");
  }
  const FamilyDefaults& d = c.family == CheckpointFamily::BitNet ? kBitNetDefaults : kLlamaDefaults;

  Reader r(j, path, c.notes);
  c.hiddenSize = r.requiredInt("hidden_size");
  c.intermediateSize = r.requiredInt("intermediate_size");
  c.numLayers = r.requiredInt("num_hidden_layers");
  c.numHeads = r.requiredInt("num_attention_heads");
  c.vocabSize = r.requiredInt("vocab_size");
  c.numKVHeads = r.optionalInt("num_key_value_heads", c.numHeads);
  if (c.hiddenSize % c.numHeads != 0 && !j.contains("head_dim"))
    fail(path, ": hidden_size ", c.hiddenSize, " is not a multiple of num_attention_heads ", c.numHeads,
         " and there is no \"head_dim\"");
  c.headDim = r.optionalInt("head_dim", c.hiddenSize / c.numHeads);
  if (c.headDim % 2 != 0)
    fail(path, ": head_dim ", c.headDim, " (hidden_size / num_attention_heads) is odd; rope needs an even head dimension");
  if (c.numHeads % c.numKVHeads != 0)
    fail(path, ": num_attention_heads ", c.numHeads, " is not a multiple of num_key_value_heads ", c.numKVHeads);
  c.maxPositionEmbeddings = r.optionalInt("max_position_embeddings", d.maxPositionEmbeddings);
  c.rmsNormEps = r.optionalFloat("rms_norm_eps", d.rmsNormEps);
  c.ropeTheta = r.optionalFloat("rope_theta", d.ropeTheta);
  c.hiddenAct = r.optionalString("hidden_act", d.hiddenAct);
  if (c.hiddenAct != "relu2" && c.hiddenAct != "silu")
    fail(path, ": unsupported hidden_act \"", c.hiddenAct, "\" (supported: relu2, silu)");
  // The family's default ids only when the vocabulary has them.
  c.bosTokenId = r.tokenId("bos_token_id", d.bos < c.vocabSize ? d.bos : -1);
  c.eosTokenId = r.tokenId("eos_token_id", d.eos < c.vocabSize ? d.eos : -1);
  if (c.eosTokenId >= 0) c.eosTokenIds.push_back(c.eosTokenId);
  if (j.contains("eos_token_id") && j["eos_token_id"].is_array())
    for (const json& v : j["eos_token_id"])
      if (v.is_number_integer() && v.get<int64_t>() >= 0 && v.get<int64_t>() < c.vocabSize &&
          v.get<int64_t>() != c.eosTokenId)
        c.eosTokenIds.push_back(v.get<int64_t>());
  for (auto [key, id] : {std::pair{"bos_token_id", c.bosTokenId}, std::pair{"eos_token_id", c.eosTokenId}})
    if (id >= c.vocabSize)
      fail(path, ": key \"", key, "\" is ", id, ", outside the vocabulary (vocab_size ", c.vocabSize, ")");

  if (j.contains("tie_word_embeddings") && !j["tie_word_embeddings"].is_null()) {
    if (!j["tie_word_embeddings"].is_boolean())
      fail(path, ": key \"tie_word_embeddings\" must be true or false, got ", j["tie_word_embeddings"].dump());
    c.tieWordEmbeddingsGiven = true;
    c.tieWordEmbeddings = j["tie_word_embeddings"].get<bool>();
  }

  if (j.contains("rope_scaling") && !j["rope_scaling"].is_null())
    fail(path, ": rope_scaling ", j["rope_scaling"].dump(), " is not supported (only plain rope)");
  for (const char* bias : {"attention_bias", "mlp_bias"})
    if (j.contains(bias) && j[bias].is_boolean() && j[bias].get<bool>())
      fail(path, ": key \"", bias, "\" is true; biases are not supported");

  // The scale direction (BITNET.md section 3): decided by the config, never by the numbers.
  if (j.contains("quantization_config") && !j["quantization_config"].is_null()) {
    const json& q = j["quantization_config"];
    if (!q.is_object()) fail(path, ": key \"quantization_config\" must be an object, got ", q.dump());
    if (q.contains("linear_class") && !q["linear_class"].is_null()) {
      if (!q["linear_class"].is_string())
        fail(path, ": quantization_config.linear_class must be a string, got ", q["linear_class"].dump());
      c.linearClass = q["linear_class"].get<std::string>();
    }
  }
  if (c.linearClass == "autobitlinear") {
    c.scaleRule = ScaleRule::Mul;
  } else if (c.linearClass == "bitlinear" || c.linearClass.empty()) {
    c.scaleRule = ScaleRule::Div;
  } else {
    fail(path, ": unsupported quantization_config.linear_class \"", c.linearClass,
         "\" (supported: autobitlinear, bitlinear)");
  }
  return c;
}

}  // namespace bitnetc
