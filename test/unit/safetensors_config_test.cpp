// config.json parsing: HF defaults, required keys, wrong types, architectures, the scale rule.
#include <gtest/gtest.h>

#include <string>

#include "compiler/support/Error.h"
#include "frontends/safetensors/HFConfig.h"

namespace bitnetc {
namespace {

// A minimal BitNet config; extra is spliced in before the closing brace.
std::string bitnetConfig(const std::string& extra = "") {
  return R"({"architectures": ["BitNetForCausalLM"], "model_type": "bitnet", "hidden_size": 64,
             "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4,
             "vocab_size": 256, "bos_token_id": 1, "eos_token_id": 2)" +
         extra + "}";
}

std::string parseError(const std::string& text) {
  try {
    HFConfig::parse(text, "/m/config.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(HFConfig, DefaultsFollowHF) {
  HFConfig c = HFConfig::parse(bitnetConfig(), "/m/config.json");
  EXPECT_EQ(c.family, CheckpointFamily::BitNet);
  EXPECT_EQ(c.numKVHeads, 4);   // = num_attention_heads
  EXPECT_EQ(c.headDim, 16);     // = hidden / heads
  EXPECT_EQ(c.hiddenAct, "relu2");
  EXPECT_DOUBLE_EQ(c.rmsNormEps, 1e-5);
  EXPECT_DOUBLE_EQ(c.ropeTheta, 500000.0);
  EXPECT_EQ(c.maxPositionEmbeddings, 2048);
  EXPECT_FALSE(c.tieWordEmbeddingsGiven);
  EXPECT_EQ(c.scaleRule, ScaleRule::Div);  // no quantization_config
  EXPECT_FALSE(c.notes.empty());
}

TEST(HFConfig, ReadsGivenValues) {
  HFConfig c = HFConfig::parse(
      bitnetConfig(R"(, "num_key_value_heads": 2, "head_dim": 32, "rms_norm_eps": 1e-6, "rope_theta": 10000,
                      "max_position_embeddings": 512, "tie_word_embeddings": false, "hidden_act": "silu",
                      "quantization_config": {"linear_class": "autobitlinear"})"),
      "/m/config.json");
  EXPECT_EQ(c.numKVHeads, 2);
  EXPECT_EQ(c.headDim, 32);
  EXPECT_DOUBLE_EQ(c.rmsNormEps, 1e-6);
  EXPECT_DOUBLE_EQ(c.ropeTheta, 10000.0);
  EXPECT_EQ(c.maxPositionEmbeddings, 512);
  EXPECT_TRUE(c.tieWordEmbeddingsGiven);
  EXPECT_FALSE(c.tieWordEmbeddings);
  EXPECT_EQ(c.hiddenAct, "silu");
  EXPECT_EQ(c.scaleRule, ScaleRule::Mul);
  EXPECT_EQ(c.linearClass, "autobitlinear");
}

TEST(HFConfig, ScaleRuleFromLinearClass) {
  EXPECT_EQ(HFConfig::parse(bitnetConfig(R"(, "quantization_config": {"linear_class": "bitlinear"})"), "c").scaleRule,
            ScaleRule::Div);
  EXPECT_EQ(HFConfig::parse(bitnetConfig(R"(, "quantization_config": {"quant_method": "bitnet"})"), "c").scaleRule,
            ScaleRule::Div);
  const std::string e = parseError(bitnetConfig(R"(, "quantization_config": {"linear_class": "fancy"})"));
  EXPECT_NE(e.find("linear_class \"fancy\""), std::string::npos) << e;
}

TEST(HFConfig, OneBitLLMFamily) {
  HFConfig c = HFConfig::parse(
      R"({"architectures": ["BitnetForCausalLM"], "model_type": "llama", "hidden_size": 64, "intermediate_size": 96,
          "num_hidden_layers": 1, "num_attention_heads": 4, "vocab_size": 32, "hidden_act": "silu"})",
      "c");
  EXPECT_EQ(c.family, CheckpointFamily::OneBitLLM);
  EXPECT_DOUBLE_EQ(c.ropeTheta, 10000.0);
  EXPECT_EQ(c.bosTokenId, 1);
  EXPECT_EQ(c.eosTokenId, 2);
}

TEST(HFConfig, MissingKey) {
  std::string text = bitnetConfig();
  text.replace(text.find("\"intermediate_size\": 96,"), 24, "");
  EXPECT_EQ(parseError(text), "/m/config.json: missing key \"intermediate_size\"");
}

TEST(HFConfig, WrongTypes) {
  std::string e = parseError(bitnetConfig(R"(, "num_key_value_heads": "2")"));
  EXPECT_NE(e.find("\"num_key_value_heads\" must be an integer"), std::string::npos) << e;
  e = parseError(bitnetConfig(R"(, "rope_theta": "big")"));
  EXPECT_NE(e.find("\"rope_theta\" must be a number"), std::string::npos) << e;
  e = parseError(bitnetConfig(R"(, "tie_word_embeddings": 1)"));
  EXPECT_NE(e.find("\"tie_word_embeddings\" must be true or false"), std::string::npos) << e;
  std::string text = bitnetConfig();
  text.replace(text.find("\"num_hidden_layers\": 2"), 22, "\"num_hidden_layers\": 0");
  e = parseError(text);
  EXPECT_NE(e.find("\"num_hidden_layers\" must be >= 1"), std::string::npos) << e;
}

TEST(HFConfig, UnknownArchitectureListsSupported) {
  std::string text = bitnetConfig();
  text.replace(text.find("BitNetForCausalLM"), 17, "MistralForCausalLM");
  const std::string e = parseError(text);
  EXPECT_NE(e.find("/m/config.json: unsupported architecture \"MistralForCausalLM\""), std::string::npos) << e;
  EXPECT_NE(e.find("BitNetForCausalLM"), std::string::npos) << e;
  EXPECT_NE(e.find("BitnetForCausalLM"), std::string::npos) << e;
}

TEST(HFConfig, ShapeConsistency) {
  std::string e = parseError(bitnetConfig(R"(, "num_key_value_heads": 3)"));
  EXPECT_NE(e.find("not a multiple of num_key_value_heads 3"), std::string::npos) << e;
  e = parseError(bitnetConfig(R"(, "head_dim": 15)"));
  EXPECT_NE(e.find("head_dim 15"), std::string::npos) << e;
  EXPECT_NE(e.find("odd"), std::string::npos) << e;
  e = parseError(bitnetConfig(R"(, "hidden_act": "gelu")"));
  EXPECT_NE(e.find("unsupported hidden_act \"gelu\""), std::string::npos) << e;
  e = parseError(bitnetConfig(R"(, "rope_scaling": {"type": "linear", "factor": 2.0})"));
  EXPECT_NE(e.find("rope_scaling"), std::string::npos) << e;
}

TEST(HFConfig, TokenIds) {
  // Llama-3 instruct style: a list of eos ids; the first is used.
  std::string text = bitnetConfig();
  text.replace(text.find("\"eos_token_id\": 2"), 17, "\"eos_token_id\": [3, 9]");
  EXPECT_EQ(HFConfig::parse(text, "c").eosTokenId, 3);
  text = bitnetConfig();
  text.replace(text.find("\"bos_token_id\": 1"), 17, "\"bos_token_id\": 256");
  const std::string e = parseError(text);
  EXPECT_NE(e.find("\"bos_token_id\" is 256, outside the vocabulary (vocab_size 256)"), std::string::npos) << e;
}

TEST(HFConfig, NegativeIdInAListIsAnError) {
  // Was silently taken as "no eos" (any negative id meant none).
  std::string text = bitnetConfig();
  text.replace(text.find("\"eos_token_id\": 2"), 17, "\"eos_token_id\": [-3, 2]");
  const std::string e = parseError(text);
  EXPECT_NE(e.find("\"eos_token_id\" must be a non-negative integer, got [-3,2]"), std::string::npos) << e;
}

TEST(HFConfig, SizesBeyondInt32AreRefused) {
  // Products of such sizes (heads x head_dim, the KV cache) overflowed int64.
  std::string e = parseError(bitnetConfig(R"(, "max_position_embeddings": 4611686018427387904)"));
  EXPECT_NE(e.find("\"max_position_embeddings\" is 4611686018427387904, larger than the limit 2147483647"),
            std::string::npos) << e;
  e = parseError(bitnetConfig(R"(, "head_dim": 4611686018427387904)"));
  EXPECT_NE(e.find("\"head_dim\" is 4611686018427387904, larger than the limit"), std::string::npos) << e;
  EXPECT_EQ(HFConfig::parse(bitnetConfig(R"(, "max_position_embeddings": 2147483647)"), "c").maxPositionEmbeddings,
            2147483647);
}

TEST(HFConfig, NotJson) {
  EXPECT_NE(parseError("{").find("/m/config.json: not valid JSON"), std::string::npos);
}

}  // namespace
}  // namespace bitnetc
