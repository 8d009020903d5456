// The runtime's model functions over the fake model: open/close, info, the api table, option and
// descriptor checks, and the error reporting of every misuse.
#include <cstring>

#include "runtime_test_util.h"

namespace {

using namespace bitnetc::test;
namespace fake = bitnetc::test::fake;

bitnet_status openDesc(const bitnet_model_desc& desc, const bitnet_model_options* options,
                       std::string& error) {
  bitnet_model* m = nullptr;
  char buffer[1024] = "";
  bitnet_status status = bitnet_rt_model_open(&desc, options, &m, buffer, sizeof buffer);
  if (status == BITNET_OK) {
    EXPECT_NE(m, nullptr);
    bitnet__public_model_close(m);
  } else {
    EXPECT_EQ(m, nullptr);
  }
  error = buffer;
  return status;
}

TEST(RuntimeFakeModel, HashMatchesTheWeights) {
  EXPECT_EQ(uint64_t(bitnet__model.weight_hash), bitnet_hash64(fake::weights(), fake::kWeightBytes))
      << "runtime_fake_model.c: kWeightHash must be bitnet_hash64 of kWeights";
}

TEST(RuntimeModel, OpenInfoClose) {
  bitnet_model* m = nullptr;
  char error[256] = "untouched";
  ASSERT_EQ(bitnet__public_model_open(nullptr, &m, error, sizeof error), BITNET_OK) << error;
  ASSERT_NE(m, nullptr);
  EXPECT_STREQ(error, "");
  bitnet_model_info info{};
  info.struct_size = sizeof info;
  ASSERT_EQ(bitnet__public_model_info(m, &info), BITNET_OK);
  EXPECT_EQ(info.struct_size, sizeof info);
  EXPECT_STREQ(info.name, "fake");
  EXPECT_STREQ(info.target, bitnet__model.target);
  EXPECT_STREQ(info.architecture, "FakeForCausalLM");
  EXPECT_EQ(info.vocab_size, fake::kVocab);
  EXPECT_EQ(info.max_context, fake::kMaxContext);
  EXPECT_EQ(info.bos_token_id, 1);
  EXPECT_EQ(info.eos_token_id, 2);
  EXPECT_EQ(info.has_tokenizer, 0);
  EXPECT_EQ(info.weight_bytes, fake::kWeightBytes);
  EXPECT_EQ(info.weights_external, 0);
  ASSERT_EQ(info.num_eos_ids, 1);
  EXPECT_EQ(info.eos_ids[0], 2);
  EXPECT_EQ(info.state_bytes_per_token, 2 * 4 + 3 * 4);  // l0.k_cache f32 [rows, 2], l0.v_cache i32 [rows, 3]
  EXPECT_STREQ(bitnet__public_model_error(m), "");
  bitnet__public_model_close(m);
}

TEST(RuntimeModel, ApiTableHoldsThePublicFunctions) {
  const bitnet_api* api = bitnet__public_bitnet_api();
  ASSERT_NE(api, nullptr);
  EXPECT_EQ(api->struct_size, sizeof(bitnet_api));
  EXPECT_EQ(api->api_version, BITNET_API_VERSION);
  EXPECT_EQ(api->model_open, &bitnet__public_model_open);
  EXPECT_EQ(api->model_close, &bitnet__public_model_close);
  EXPECT_EQ(api->model_error, &bitnet__public_model_error);
  EXPECT_EQ(api->model_info, &bitnet__public_model_info);
  EXPECT_EQ(api->session_create, &bitnet__public_session_create);
  EXPECT_EQ(api->session_free, &bitnet__public_session_free);
  EXPECT_EQ(api->session_error, &bitnet__public_session_error);
  EXPECT_EQ(api->eval, &bitnet__public_eval);
  EXPECT_EQ(api->session_n_past, &bitnet__public_session_n_past);
  EXPECT_EQ(api->session_reset, &bitnet__public_session_reset);
  EXPECT_EQ(api->session_truncate, &bitnet__public_session_truncate);
  EXPECT_EQ(api->tokenize, &bitnet__public_tokenize);
  EXPECT_EQ(api->detokenize, &bitnet__public_detokenize);
  EXPECT_EQ(api->input_signature, &bitnet__public_input_signature);
  EXPECT_EQ(api->output_signature, &bitnet__public_output_signature);
  EXPECT_EQ(api->num_inputs, &bitnet__public_num_inputs);
  EXPECT_EQ(api->num_outputs, &bitnet__public_num_outputs);
  EXPECT_EQ(api->input_info, &bitnet__public_input_info);
  EXPECT_EQ(api->output_info, &bitnet__public_output_info);
  EXPECT_EQ(api->run, &bitnet__public_run);
  for (void* p : api->reserved_generic) EXPECT_EQ(p, nullptr);

  // A whole round through the table.
  bitnet_model* m = nullptr;
  ASSERT_EQ(api->model_open(nullptr, &m, nullptr, 0), BITNET_OK);
  bitnet_session* s = nullptr;
  ASSERT_EQ(api->session_create(m, nullptr, &s), BITNET_OK);
  std::vector<int32_t> tokens = {3, 1, 4, 1, 5, 9};
  std::vector<float> logits(static_cast<size_t>(fake::kVocab));
  ASSERT_EQ(api->eval(s, tokens.data(), 6, logits.data(), BITNET_LOGITS_LAST), BITNET_OK);
  EXPECT_EQ(logits, fake::expectedRow(tokens, 5));
  EXPECT_EQ(api->session_n_past(s), 6);
  api->session_free(s);
  api->model_close(m);
}

TEST(RuntimeModel, OpenRejectsBadArguments) {
  char error[256];
  EXPECT_EQ(bitnet__public_model_open(nullptr, nullptr, error, sizeof error),
            BITNET_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(error, "model (the result pointer) is NULL")) << error;
  // No error buffer: the status alone.
  EXPECT_EQ(bitnet__public_model_open(nullptr, nullptr, nullptr, 0), BITNET_ERR_INVALID_ARGUMENT);

  bitnet_model* m = reinterpret_cast<bitnet_model*>(0x1);
  bitnet_model_options options{};  // struct_size 0
  EXPECT_EQ(bitnet__public_model_open(&options, &m, error, sizeof error), BITNET_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(m, nullptr);
  EXPECT_TRUE(contains(error, "options->struct_size is 0")) << error;
  options.struct_size = sizeof options - 1;
  EXPECT_EQ(bitnet__public_model_open(&options, &m, error, sizeof error), BITNET_ERR_INVALID_ARGUMENT);
  options.struct_size = 0xdeadbeef;  // garbage
  EXPECT_EQ(bitnet__public_model_open(&options, &m, error, sizeof error), BITNET_ERR_INVALID_ARGUMENT);
  options.struct_size = sizeof options;
  options.verify_weights = 7;
  EXPECT_EQ(bitnet__public_model_open(&options, &m, error, sizeof error), BITNET_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(error, "verify_weights is 7")) << error;
  // A later version's larger struct is accepted.
  struct {
    bitnet_model_options v1;
    int64_t later_field;
  } grown{};
  grown.v1.struct_size = sizeof grown;
  ASSERT_EQ(bitnet__public_model_open(&grown.v1, &m, error, sizeof error), BITNET_OK) << error;
  bitnet__public_model_close(m);
}

TEST(RuntimeModel, WeightsPathIsAnErrorForEmbeddedWeights) {
  bitnet_model_options options{sizeof options, "/tmp/x.weights", 0};
  std::string error;
  EXPECT_EQ(openDesc(fake::lm(), &options, error), BITNET_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(error, "weights_path is set (/tmp/x.weights)")) << error;
  EXPECT_TRUE(contains(error, "embedded")) << error;
}

TEST(RuntimeModel, VerifyWeightsChecksTheEmbeddedBlob) {
  bitnet_model_options verify{sizeof verify, nullptr, 1};
  std::string error;
  EXPECT_EQ(openDesc(fake::lm(), &verify, error), BITNET_OK) << error;
  bitnet_model_desc wrongHash = fake::lm();
  wrongHash.weight_hash ^= 1;
  EXPECT_EQ(openDesc(wrongHash, nullptr, error), BITNET_OK) << error;  // not hashed by default
  EXPECT_EQ(openDesc(wrongHash, &verify, error), BITNET_ERR_WEIGHTS);
  EXPECT_TRUE(contains(error, "embedded weights: the weight bytes do not match their hash")) << error;
  EXPECT_TRUE(contains(error, "corrupt")) << error;
}

TEST(RuntimeModel, SmallErrorBufferIsTruncatedNotOverrun) {
  char buffer[16];
  std::memset(buffer, 'X', sizeof buffer);
  EXPECT_EQ(bitnet__public_model_open(nullptr, nullptr, buffer, 8), BITNET_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(std::strlen(buffer), 7u);
  for (size_t i = 8; i < sizeof buffer; ++i) EXPECT_EQ(buffer[i], 'X');
}

TEST(RuntimeModel, DescriptorChecks) {
  std::string error;
  bitnet_model_desc d = fake::lm();
  d.abi_version = BITNET_ABI_VERSION + 1;
  EXPECT_EQ(openDesc(d, nullptr, error), BITNET_ERR_INTERNAL);
  EXPECT_TRUE(contains(error, "model 'fake' was generated for runtime ABI version")) << error;

  d = fake::lm();
  d.vocab_size = 0;
  EXPECT_EQ(openDesc(d, nullptr, error), BITNET_ERR_INTERNAL);
  EXPECT_TRUE(contains(error, "the descriptor of model 'fake' is inconsistent")) << error;

  d = fake::lm();
  d.vocab_size = fake::kVocab + 1;  // logits are [?seq, kVocab]
  EXPECT_EQ(openDesc(d, nullptr, error), BITNET_ERR_INTERNAL);
  EXPECT_TRUE(contains(error, "logits")) << error;

  d = fake::lm();
  d.max_batch = 0;
  EXPECT_EQ(openDesc(d, nullptr, error), BITNET_ERR_INTERNAL);

  d = fake::lm();
  bitnet_function_desc f = d.functions[0];
  f.entry = nullptr;
  d.functions = &f;
  EXPECT_EQ(openDesc(d, nullptr, error), BITNET_ERR_INTERNAL);
  EXPECT_TRUE(contains(error, "no entry point")) << error;

  d = fake::lm();
  f = d.functions[0];
  bitnet_tensor_desc states[2] = {f.states[0], f.states[1]};
  states[1].dims[1] = -1;  // a dynamic dim in a state
  f.states = states;
  d.functions = &f;
  EXPECT_EQ(openDesc(d, nullptr, error), BITNET_ERR_INTERNAL);
  EXPECT_TRUE(contains(error, "state 1 (l0.v_cache)")) << error;

  states[1] = f.states[0];
  states[1].dims[0] = -5;  // no such dynamic dim
  EXPECT_EQ(openDesc(d, nullptr, error), BITNET_ERR_INTERNAL);
  EXPECT_TRUE(contains(error, "state 1 dim 0 is -5")) << error;

  d = fake::lm();
  f = d.functions[0];
  bitnet_tensor_desc inputs[2] = {f.inputs[0], f.inputs[1]};
  inputs[0].dtype = BITNET_I64;
  f.inputs = inputs;
  d.functions = &f;
  EXPECT_EQ(openDesc(d, nullptr, error), BITNET_ERR_INTERNAL);
  EXPECT_TRUE(contains(error, "tokens")) << error;

  d = fake::lm();
  d.num_functions = 0;
  EXPECT_EQ(openDesc(d, nullptr, error), BITNET_ERR_INTERNAL);

  d = fake::lm();
  alignas(64) static const uint8_t blob[fake::kWeightBytes + 1] = {};
  d.weights_embedded = blob + 1;
  EXPECT_EQ(openDesc(d, nullptr, error), BITNET_ERR_INTERNAL);
  EXPECT_TRUE(contains(error, "64-byte aligned")) << error;
}

TEST(RuntimeModel, MaxContextIsBoundedByTheStates) {
  bitnet_model_desc d = fake::lm();
  d.max_context = 1000;  // the states hold kStateRows
  ModelPtr m = openModel(d);
  bitnet_model_info info{};
  info.struct_size = sizeof info;
  ASSERT_EQ(bitnet__public_model_info(m.get(), &info), BITNET_OK);
  EXPECT_EQ(info.max_context, fake::kStateRows);
}

TEST(RuntimeModel, InfoMisuse) {
  EXPECT_EQ(bitnet__public_model_info(nullptr, nullptr), BITNET_ERR_INVALID_ARGUMENT);
  ModelPtr m = openModel(fake::lm());
  EXPECT_EQ(bitnet__public_model_info(m.get(), nullptr), BITNET_ERR_INVALID_ARGUMENT);
  EXPECT_STREQ(bitnet__public_model_error(m.get()), "model_info: info is NULL");
  bitnet_model_info info{};
  EXPECT_EQ(bitnet__public_model_info(m.get(), &info), BITNET_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(bitnet__public_model_error(m.get()), "info->struct_size is 0"));
  EXPECT_STREQ(bitnet__public_model_error(nullptr), "model is NULL");
  bitnet__public_model_close(nullptr);  // no effect
}

TEST(RuntimeModel, GenericGraphOpensButDoesNotEval) {
  bitnet_model_desc d = fake::generic();
  ModelPtr m = openModel(d);
  bitnet_model_info info{};
  info.struct_size = sizeof info;
  ASSERT_EQ(bitnet__public_model_info(m.get(), &info), BITNET_OK);
  EXPECT_STREQ(info.architecture, "");
  EXPECT_EQ(info.vocab_size, 0);
  EXPECT_EQ(info.max_context, 0);
  EXPECT_EQ(info.state_bytes_per_token, 0);
  EXPECT_EQ(info.num_eos_ids, 0);
  EXPECT_EQ(info.eos_ids, nullptr);
  SessionPtr s = createSession(m.get());
  ASSERT_NE(s, nullptr);
  int32_t token = 1;
  float logits[fake::kVocab];
  EXPECT_EQ(bitnet__public_eval(s.get(), &token, 1, logits, BITNET_LOGITS_LAST),
            BITNET_ERR_UNSUPPORTED);
  EXPECT_TRUE(contains(bitnet__public_session_error(s.get()), "generic graph")) << bitnet__public_session_error(s.get());
}

TEST(RuntimeModel, SeveralModelsAreIndependent) {
  ModelPtr a = openModel(fake::lm()), b = openModel(fake::lm());
  EXPECT_EQ(bitnet__public_model_info(a.get(), nullptr), BITNET_ERR_INVALID_ARGUMENT);
  EXPECT_STRNE(bitnet__public_model_error(a.get()), "");
  EXPECT_STREQ(bitnet__public_model_error(b.get()), "");
}

}  // namespace
