// Generated code with the real (native) kernels and no runtime: the bundled model's logits over a
// prefill and decode steps through the KV-cache states agree with the reference interpreter.
#include <gtest/gtest.h>

#include <cmath>

#include "codegen_test_util.h"
#include "compiler/interp/Interpreter.h"
#include "frontends/safetensors/Import.h"

namespace bitnetc::target {
namespace {

TEST(CodegenNative, BundledModelMatchesTheInterpreter) {
  auto m = importCheckpoint(BITNETC_SOURCE_DIR "/test/models/bitnet-tiny-trained", {.maxContext = 32});
  CodegenOptions options;
  options.maxBatch = 8;
  testing::JitGenerated jit(*m, options, testing::Kernels::Native);
  Interpreter interp(*m, *m->function("forward"));

  const int64_t rows = 32, vocab = 3072;
  std::vector<std::vector<float>> caches(8, std::vector<float>(rows * 2 * 64, 0.0f));
  std::vector<void*> states;
  for (auto& c : caches) states.push_back(c.data());

  // A prefill of 8 tokens (the planned max batch), then three single-token decode steps.
  const std::vector<std::vector<int32_t>> steps = {{3070, 17, 250, 1999, 4, 88, 600, 3000}, {42}, {7}, {1234}};
  int64_t pos = 0;
  for (const auto& tokens : steps) {
    const int64_t seq = int64_t(tokens.size());
    auto ref = interp.run({HostTensor::fromI32({seq}, tokens), HostTensor::scalarI64(pos)});
    std::vector<float> logits(size_t(seq * vocab), NAN);
    std::vector<int32_t> ids = tokens;
    int64_t p = pos;
    ASSERT_EQ(jit.run("forward", {seq}, {ids.data(), &p}, {logits.data()}, states, rows), 0)
        << jit.error();
    ASSERT_EQ(ref.at(0).numElements(), seq * vocab);
    const float* r = ref[0].as<float>();
    double worst = 0;
    for (int64_t i = 0; i < seq * vocab; ++i)
      worst = std::max(worst, std::abs(double(logits[i]) - r[i]) / std::max(1.0, std::abs(double(r[i]))));
    // f32 sums in the kernels vs f64 in the interpreter: last-ulp differences only.
    EXPECT_LT(worst, 1e-4) << "at pos " << pos;
    pos += seq;
  }
}

TEST(CodegenNative, KernelErrorsComeBackWithTheirMessage) {
  auto m = importCheckpoint(BITNETC_SOURCE_DIR "/test/models/bitnet-tiny-trained", {.maxContext = 32});
  testing::JitGenerated jit(*m, {}, testing::Kernels::Native);
  std::vector<std::vector<float>> caches(8, std::vector<float>(32 * 2 * 64, 0.0f));
  std::vector<void*> states;
  for (auto& c : caches) states.push_back(c.data());
  std::vector<int32_t> ids = {1, 99999};  // past the vocabulary
  int64_t pos = 0;
  std::vector<float> logits(2 * 3072);
  EXPECT_NE(jit.run("forward", {2}, {ids.data(), &pos}, {logits.data()}, states, 32), 0);
  EXPECT_NE(jit.error().find("99999"), std::string::npos) << jit.error();
}

}  // namespace
}  // namespace bitnetc::target
