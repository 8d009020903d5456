// rope and attention kernels against the interpreter. rope is bit-exact (same f32 operations,
// same libm). attention runs prefill + decode sequences on both (each keeps its own KV cache):
// outputs bit for bit (the same f32 orders), GQA, MQA and MHA, a context longer than the kernel's
// on-stack score buffer (its recompute path), more query heads per kv head than it takes at
// once, capacities that are not a multiple of the key cache's 16-row blocks, the cache rows the
// kernel wrote (keys in its blocked layout), and the errors:
// pos + S past the capacity (static, or a smaller session capacity in dims[0]) is
// BITNET_ERR_CONTEXT_FULL, a negative pos BITNET_ERR_INVALID_ARGUMENT.
#include "kernels_test_util.h"

using namespace bitnetc;
using namespace bitnetc::kerneltest;

namespace {

struct AttnShape {
  int64_t heads, kvHeads, headDim, capacity, maxSeq;
};

std::unique_ptr<Module> attentionModule(const AttnShape& s, double scale) {
  const std::string hq = std::to_string(s.heads * s.headDim), hk = std::to_string(s.kvHeads * s.headDim);
  const std::string cache = "tensor<" + std::to_string(s.capacity) + " x " + std::to_string(s.kvHeads) + " x " +
                            std::to_string(s.headDim) + " x f32>";
  return parse("bir 1\ndim ?seq <= " + std::to_string(s.maxSeq) + "\n" +
               "func @forward(%q: tensor<?seq x " + hq + " x f32>, %k: tensor<?seq x " + hk + " x f32>, %v: tensor<?seq x " +
               hk + " x f32>, %pos: tensor<i64>) -> (tensor<?seq x " + hq + " x f32>)\n    state(%kc: " + cache +
               ", %vc: " + cache + ") {\n  %o = attention(%q, %k, %v, %kc, %vc, %pos) {heads = " + std::to_string(s.heads) +
               ", kv_heads = " + std::to_string(s.kvHeads) + ", head_dim = " + std::to_string(s.headDim) +
               ", scale = " + std::to_string(scale) + "} : tensor<?seq x " + hq + " x f32>\n  return %o\n}\n");
}

std::vector<HostTensor> stepInputs(const AttnShape& s, int64_t S, int64_t pos, uint32_t seed) {
  return {randomTensor(DType::F32, {S, s.heads * s.headDim}, seed, -2.0, 2.0),
          randomTensor(DType::F32, {S, s.kvHeads * s.headDim}, seed + 1, -2.0, 2.0),
          randomTensor(DType::F32, {S, s.kvHeads * s.headDim}, seed + 2, -2.0, 2.0), HostTensor::scalarI64(pos)};
}

// Element e of key row j in the kernel's key cache: rows in blocks of 16, each block
// transposed (targets/kernels/attention.c), the last block of the capacity C narrower.
float blockedKey(const float* kc, int64_t C, int64_t rowLen, int64_t j, int64_t e) {
  const int64_t B = j - j % 16, nb = std::min<int64_t>(16, C - B);
  return kc[B * rowLen + e * nb + (j - B)];
}

// Runs the steps (tokens per call) on both and compares every output; checks the cache rows.
void runSequence(const AttnShape& s, const std::vector<int64_t>& steps, bitnet_pool* pool,
                 const std::string& what, int64_t sessionRows = -1, double scale = 0) {
  auto m = attentionModule(s, scale ? scale : 1.0 / std::sqrt(double(s.headDim)));
  const Function& f = *m->functions()[0];
  Interpreter interp(*m, f);
  KernelRunner runner(*m, f, pool, sessionRows);
  const int64_t C = sessionRows > 0 ? sessionRows : s.capacity;
  int64_t pos = 0;
  uint32_t seed = 1;
  for (int64_t S : steps) {
    const std::vector<HostTensor> in = stepInputs(s, S, pos, seed += 3);
    const std::vector<HostTensor> expected = interp.run(in);
    const std::vector<HostTensor> actual = runner.run(in);
    ASSERT_EQ(runner.status, 0) << what << ": " << runner.error;
    ASSERT_EQ(actual.size(), 1u);
    ASSERT_EQ(actual[0].bytes.size(), expected[0].bytes.size());
    EXPECT_EQ(std::memcmp(actual[0].bytes.data(), expected[0].bytes.data(), actual[0].bytes.size()), 0)
        << what << " step at pos " << pos << " S=" << S;
    // The new keys and values are at cache rows pos .. pos + S - 1.
    const int64_t row = s.kvHeads * s.headDim;
    int64_t keyMismatches = 0;
    for (int64_t t = 0; t < S; ++t)
      for (int64_t e = 0; e < row; ++e)
        keyMismatches += blockedKey(runner.states()[0].as<float>(), C, row, pos + t, e) != in[1].as<float>()[t * row + e];
    EXPECT_EQ(keyMismatches, 0) << what;
    EXPECT_EQ(std::memcmp(runner.states()[1].as<float>() + pos * row, in[2].bytes.data(), in[2].bytes.size()), 0) << what;
    pos += S;
  }
}

}  // namespace

TEST(KernelsRope, BitExact) {
  uint32_t seed = 1;
  for (auto [heads, headDim] : {std::pair<int64_t, int64_t>{1, 2}, {2, 8}, {3, 6}, {4, 128}})
    for (int64_t S : {1, 3, 17})
      for (int64_t pos : {0, 5, 4000})
        for (double theta : {10000.0, 500000.0}) {
          const HostTensor x = randomTensor(DType::F32, {S, heads * headDim}, ++seed);
          const HostTensor p = HostTensor::scalarI64(pos);
          OneOp o = oneOp("rope", {x, p}, attrs({{"heads", heads}, {"head_dim", headDim}, {"theta", theta}}));
          expectBitExact(*o.module, {x, p},
                         "rope heads=" + std::to_string(heads) + " D=" + std::to_string(headDim) + " S=" +
                             std::to_string(S) + " pos=" + std::to_string(pos));
        }
  Pool pool(2);
  const HostTensor x = randomTensor(DType::F32, {256, 20 * 128}, 5);
  const HostTensor p = HostTensor::scalarI64(17);
  OneOp o = oneOp("rope", {x, p}, attrs({{"heads", int64_t(20)}, {"head_dim", int64_t(128)}, {"theta", 500000.0}}));
  expectBitExact(*o.module, {x, p}, "rope 256 x 20 x 128 with a pool", pool.pool);
}

TEST(KernelsRope, NegativePosIsAnError) {
  const HostTensor x = randomTensor(DType::F32, {2, 4}, 1);
  const HostTensor p = HostTensor::scalarI64(-1);
  OneOp o = oneOp("rope", {x, p}, attrs({{"heads", int64_t(1)}, {"head_dim", int64_t(4)}, {"theta", 10000.0}}));
  KernelRunner runner(*o.module, *o.f);
  EXPECT_TRUE(runner.run({x, p}).empty());
  EXPECT_EQ(runner.status, BITNET_ERR_INVALID_ARGUMENT);
  EXPECT_NE(runner.error.find("pos -1 is negative"), std::string::npos) << runner.error;
}

TEST(KernelsAttention, PrefillThenDecode) {
  runSequence({1, 1, 4, 16, 8}, {5, 1, 1, 3, 1}, nullptr, "MHA");
  runSequence({4, 2, 8, 16, 8}, {1, 1, 7, 1}, nullptr, "GQA 4/2");
  runSequence({6, 3, 2, 16, 16}, {16}, nullptr, "GQA 6/3, D=2, the whole cache at once");
  runSequence({20, 1, 8, 32, 16}, {9, 1, 16}, nullptr, "MQA: 20 heads on one kv head (16 + 4 at a time)");
  runSequence({2, 2, 40, 37, 37}, {30, 1, 1, 1, 1, 1, 1, 1}, nullptr, "capacity 37: a 5-row last key block");
  runSequence({2, 1, 8, 100, 40}, {19, 1, 1}, nullptr, "a 21-row session in a cache typed for 100", 21);
  Pool pool(3);
  runSequence({20, 5, 128, 64, 32}, {7, 1, 1, 16, 1}, pool.pool, "2B-4T heads with a pool");
  runSequence({16, 16, 64, 300, 256}, {256, 1, 1}, pool.pool, "small-shape heads, 258 keys");
}

TEST(KernelsAttention, ScoresThatUnderflow) {
  // Scores 30x larger: most e^(s - max) are below -104 (answered without expf) or in glibc's
  // subnormal and may-underflow ranges; the same bits as the interpreter's std::exp.
  runSequence({4, 2, 16, 64, 64}, {40, 1, 1}, nullptr, "large scores", -1, 8.0);
}

TEST(KernelsAttention, ContextLongerThanTheStackScores) {
  // 8 query heads share the kv head: rows past 2048 (8 x 2048 scores = the kernel's 64 KB of
  // stack) take the recompute path, the others the stack path.
  runSequence({8, 1, 4, 4200, 4100}, {4100, 1, 1}, nullptr, "long context");
}

TEST(KernelsAttention, CacheOverflowIsContextFull) {
  const AttnShape s{2, 1, 4, 8, 8};
  auto m = attentionModule(s, 0.5);
  const Function& f = *m->functions()[0];
  {
    KernelRunner runner(*m, f);
    ASSERT_FALSE(runner.run(stepInputs(s, 6, 0, 1)).empty()) << runner.error;
    EXPECT_TRUE(runner.run(stepInputs(s, 3, 6, 2)).empty());
    EXPECT_EQ(runner.status, BITNET_ERR_CONTEXT_FULL);
    EXPECT_NE(runner.error.find("op %o = attention"), std::string::npos) << runner.error;
    EXPECT_NE(runner.error.find("pos 6 + 3 tokens exceed the cache capacity 8"), std::string::npos) << runner.error;
    ASSERT_FALSE(runner.run(stepInputs(s, 2, 6, 3)).empty()) << "exactly full is fine: " << runner.error;
  }
  {
    // A session with 4 rows of capacity (dims[0] of the states) in a cache typed for 8.
    KernelRunner runner(*m, f, nullptr, 4);
    EXPECT_TRUE(runner.run(stepInputs(s, 5, 0, 4)).empty());
    EXPECT_EQ(runner.status, BITNET_ERR_CONTEXT_FULL);
    EXPECT_NE(runner.error.find("pos 0 + 5 tokens exceed the cache capacity 4"), std::string::npos) << runner.error;
    ASSERT_FALSE(runner.run(stepInputs(s, 4, 0, 5)).empty()) << runner.error;
    EXPECT_TRUE(runner.run(stepInputs(s, 1, 4, 6)).empty());
    EXPECT_EQ(runner.status, BITNET_ERR_CONTEXT_FULL);
  }
  {
    KernelRunner runner(*m, f);
    EXPECT_TRUE(runner.run(stepInputs(s, 1, -3, 7)).empty());
    EXPECT_EQ(runner.status, BITNET_ERR_INVALID_ARGUMENT);
    EXPECT_NE(runner.error.find("pos -3 is negative"), std::string::npos) << runner.error;
  }
}
