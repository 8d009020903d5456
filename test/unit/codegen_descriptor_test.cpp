// The model descriptor @bitnet__model read back as the C struct (JIT-compiled, so its layout is
// checked too): functions and tensor signatures, dims, metadata JSON, weights (embedded symbol or
// external file), language-model facts, the embedded tokenizer.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "codegen_test_util.h"
#include "compiler/ir/Parser.h"
#include "frontends/safetensors/Import.h"
#include "targets/codegen/ModelDescriptor.h"

namespace bitnetc::target {
namespace {

using testing::JitGenerated;

const char* kTiny = BITNETC_SOURCE_DIR "/test/models/bitnet-tiny-trained";

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<int64_t> dimsOf(const bitnet_tensor_desc& t) {
  return std::vector<int64_t>(t.dims, t.dims + t.rank);
}

TEST(CodegenDescriptor, BundledLanguageModel) {
  auto m = importCheckpoint(kTiny, {.maxContext = 64});
  CodegenOptions options;
  options.prefix = "tiny";
  options.targetDescription = "x86_64-linux-gnu, znver5, +avx2";
  options.maxBatch = 16;
  options.weightHash = 0x123456789abcdef0ull;
  options.tokenizerJson = readFile(std::string(kTiny) + "/tokenizer.json");
  ASSERT_FALSE(options.tokenizerJson.empty());
  JitGenerated jit(*m, options);
  const bitnet_model_desc& d = jit.desc();

  EXPECT_EQ(d.abi_version, BITNET_ABI_VERSION);
  EXPECT_STREQ(d.name, "tiny");
  EXPECT_STREQ(d.target, "x86_64-linux-gnu, znver5, +avx2");
  ASSERT_EQ(d.num_dims, 1);
  EXPECT_STREQ(d.dim_names[0], "seq");
  EXPECT_EQ(d.dim_max[0], 64);

  ASSERT_EQ(d.num_functions, 1);
  const bitnet_function_desc& f = d.functions[0];
  EXPECT_STREQ(f.name, "forward");
  ASSERT_EQ(f.num_inputs, 2);
  EXPECT_STREQ(f.inputs[0].name, "tokens");
  EXPECT_EQ(f.inputs[0].dtype, BITNET_I32);
  EXPECT_EQ(dimsOf(f.inputs[0]), (std::vector<int64_t>{-1}));
  EXPECT_STREQ(f.inputs[1].name, "pos");
  EXPECT_EQ(f.inputs[1].dtype, BITNET_I64);
  EXPECT_EQ(f.inputs[1].rank, 0);
  ASSERT_EQ(f.num_outputs, 1);
  EXPECT_EQ(f.outputs[0].dtype, BITNET_F32);
  EXPECT_EQ(dimsOf(f.outputs[0]), (std::vector<int64_t>{-1, 3072}));
  ASSERT_EQ(f.num_states, 8);
  EXPECT_STREQ(f.states[0].name, "l0.k_cache");
  EXPECT_STREQ(f.states[7].name, "l3.v_cache");
  for (int i = 0; i < 8; ++i) EXPECT_EQ(dimsOf(f.states[i]), (std::vector<int64_t>{64, 2, 64}));
  EXPECT_GT(f.scratch_bytes, 0);
  EXPECT_EQ(f.scratch_bytes % 64, 0);
  EXPECT_NE(f.entry, nullptr);

  EXPECT_EQ(uint64_t(d.weight_bytes), jit.weights().totalBytes);
  EXPECT_EQ(uint64_t(d.weight_hash), 0x123456789abcdef0ull);
  EXPECT_EQ(d.weights_embedded, jit.blob());  // @tiny__weights
  EXPECT_EQ(d.weights_file_name, nullptr);

  EXPECT_EQ(d.is_lm, 1);
  EXPECT_STREQ(d.architecture, "BitNetForCausalLM");
  EXPECT_EQ(d.vocab_size, 3072);
  EXPECT_EQ(d.max_context, 64);
  EXPECT_EQ(d.max_batch, 16);
  EXPECT_EQ(d.bos_token_id, 3070);
  EXPECT_EQ(d.eos_token_id, 3071);
  ASSERT_EQ(d.num_eos_ids, 1);
  EXPECT_EQ(d.eos_ids[0], 3071);
  ASSERT_EQ(size_t(d.tokenizer_json_bytes), options.tokenizerJson.size());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(d.tokenizer_json), options.tokenizerJson.size()),
            options.tokenizerJson);

  const auto meta = nlohmann::json::parse(d.metadata_json);
  EXPECT_EQ(meta.at("architecture"), "BitNetForCausalLM");
  EXPECT_EQ(meta.at("vocab_size"), 3072);
  EXPECT_EQ(meta.at("max_context"), 64);
  EXPECT_EQ(meta.at("scale_rule"), "mul");
  // Every module attribute but the tokenizer's path on the build machine (its bytes are embedded).
  EXPECT_TRUE(m->attrs.has("tokenizer"));
  EXPECT_FALSE(meta.contains("tokenizer"));
  EXPECT_EQ(meta.size(), m->attrs.entries().size() - 1);
}

TEST(CodegenDescriptor, ExternalWeightsAndNoTokenizer) {
  auto m = importCheckpoint(kTiny, {.maxContext = 32});
  CodegenOptions options;
  options.weightsExternal = true;
  options.weightsFileName = "tiny.weights";
  options.maxBatch = 512;
  JitGenerated jit(*m, options);
  const bitnet_model_desc& d = jit.desc();
  EXPECT_STREQ(d.name, "model");
  EXPECT_EQ(d.weights_embedded, nullptr);
  EXPECT_STREQ(d.weights_file_name, "tiny.weights");
  EXPECT_EQ(d.max_batch, 32);  // capped by ?seq's bound
  EXPECT_EQ(d.tokenizer_json, nullptr);
  EXPECT_EQ(d.tokenizer_json_bytes, 0);
}

TEST(CodegenDescriptor, GenericGraphWithSeveralFunctions) {
  auto m = parseModule(R"(bir 1
module {note = "x\"y", ratio = 0.1, flags = [1, 2], weights = [0.5, 1.5], on = true, eos_token_id = 5, eos_token_ids = [5, 9]}
dim ?a <= 7
dim ?b <= 3
weight @w : tensor<2 x bf16> = dense<[1, 2]>
func @first(%x: tensor<?b x ?a x f32>) -> (tensor<?b x ?a x f32>) {
  %y = relu(%x) : tensor<?b x ?a x f32>
  return %y
}
func @forward(%tokens: tensor<?a x i32>, %pos: tensor<i64>) -> (tensor<2 x bf16>) {
  return @w
}
)",
                       "in.bir");
  JitGenerated jit(*m, {});
  const bitnet_model_desc& d = jit.desc();
  EXPECT_EQ(d.is_lm, 0);
  EXPECT_EQ(d.max_batch, 0);
  EXPECT_EQ(d.architecture, nullptr);
  EXPECT_EQ(d.vocab_size, 0);
  EXPECT_EQ(d.bos_token_id, -1);
  EXPECT_EQ(d.eos_token_id, 5);
  ASSERT_EQ(d.num_eos_ids, 2);
  EXPECT_EQ(d.eos_ids[1], 9);
  ASSERT_EQ(d.num_dims, 2);
  EXPECT_STREQ(d.dim_names[1], "b");
  EXPECT_EQ(d.dim_max[1], 3);
  ASSERT_EQ(d.num_functions, 2);
  EXPECT_STREQ(d.functions[0].name, "first");  // module order: not an LM
  EXPECT_EQ(dimsOf(d.functions[0].inputs[0]), (std::vector<int64_t>{-2, -1}));
  EXPECT_EQ(d.functions[0].scratch_bytes, 0);  // the only value is the output
  EXPECT_STREQ(d.functions[1].outputs[0].name, "w");
  EXPECT_EQ(d.functions[1].outputs[0].dtype, BITNET_BF16);
  EXPECT_EQ(d.functions[1].num_states, 0);
  EXPECT_EQ(d.functions[1].states, nullptr);

  const auto meta = nlohmann::json::parse(d.metadata_json);
  EXPECT_EQ(meta.at("note"), "x\"y");
  EXPECT_EQ(meta.at("ratio"), 0.1);
  EXPECT_EQ(meta.at("flags"), nlohmann::json::array({1, 2}));
  EXPECT_EQ(meta.at("weights"), nlohmann::json::array({0.5, 1.5}));
  EXPECT_EQ(meta.at("on"), true);
  EXPECT_EQ(moduleMetadataJson(*m), std::string(d.metadata_json));

  // The weight output is copied from the blob.
  std::vector<int32_t> tokens = {1};
  int64_t pos = 0;
  uint16_t out[2] = {0, 0};
  ASSERT_EQ(jit.run("forward", {1, 1}, {tokens.data(), &pos}, {out}), 0);
  EXPECT_EQ(out[0], 0x3f80);  // bf16 1.0
  EXPECT_EQ(out[1], 0x4000);  // bf16 2.0
}

TEST(CodegenDescriptor, LanguageModelForwardComesFirst) {
  auto m = parseModule(R"(bir 1
module {architecture = "Toy", vocab_size = 8}
dim ?seq <= 100
weight @e : tensor<8 x 2 x f32> = dense<[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]>
func @helper(%x: tensor<2 x f32>) -> (tensor<2 x f32>) {
  %y = relu(%x) : tensor<2 x f32>
  %z = relu(%y) : tensor<2 x f32>
  return %z
}
func @forward(%tokens: tensor<?seq x i32>, %pos: tensor<i64>) -> (tensor<?seq x 8 x f32>) {
  %h = embedding(%tokens, @e) : tensor<?seq x 2 x f32>
  %l = matmul(%h, @e) {transpose_b = true} : tensor<?seq x 8 x f32>
  return %l
}
)",
                       "in.bir");
  CodegenOptions options;
  options.maxBatch = 10;
  JitGenerated jit(*m, options);
  const bitnet_model_desc& d = jit.desc();
  EXPECT_EQ(d.is_lm, 1);
  ASSERT_EQ(d.num_functions, 2);
  EXPECT_STREQ(d.functions[0].name, "forward");
  EXPECT_STREQ(d.functions[1].name, "helper");
  EXPECT_EQ(d.max_batch, 10);
  EXPECT_EQ(d.max_context, 100);  // no max_context attr: ?seq's bound
  EXPECT_EQ(d.vocab_size, 8);
  EXPECT_EQ(d.num_eos_ids, 0);
  EXPECT_EQ(d.eos_ids, nullptr);
  EXPECT_EQ(d.eos_token_id, -1);
  EXPECT_EQ(d.functions[0].scratch_bytes, 10 * 2 * 4 + 48);  // %h at 10 tokens, 64-aligned
  EXPECT_EQ(d.functions[1].scratch_bytes, 64);
}

}  // namespace
}  // namespace bitnetc::target
