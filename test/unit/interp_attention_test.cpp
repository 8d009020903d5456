// attention: cache writes at pos.., causal mask, the GQA head mapping h / (heads / kv_heads),
// context overflow.
#include <gtest/gtest.h>

#include <cmath>

#include "interp_test_util.h"

using namespace bitnetc;
using namespace bitnetc::testutil;

namespace {

constexpr int64_t Hq = 4, Hkv = 2, D = 2, C = 8;

struct AttnGraph {
  Graph g;
  std::unique_ptr<Interpreter> in;
  explicit AttnGraph(int64_t S, Fault fault = Fault::None) {
    Value* q = g.f->addInput("q", f32({S, Hq * D}));
    Value* k = g.f->addInput("k", f32({S, Hkv * D}));
    Value* v = g.f->addInput("v", f32({S, Hkv * D}));
    Value* p = g.f->addInput("pos", TensorType::of(DType::I64, {}));
    Value* kc = g.f->addState("k_cache", f32({C, Hkv, D}));
    Value* vc = g.f->addState("v_cache", f32({C, Hkv, D}));
    AttributeList a;
    a.set("heads", Hq);
    a.set("kv_heads", Hkv);
    a.set("head_dim", D);
    a.set("scale", 1.0 / std::sqrt(double(D)));
    Value* o = g.f->add("attention", {q, k, v, kc, vc, p}, "o", f32({S, Hq * D}), a);
    g.f->setOutputs({o, kc, vc});
    InterpreterOptions opt;
    opt.fault = fault;
    in = std::make_unique<Interpreter>(*g.module, *g.f, opt);
  }
  std::vector<HostTensor> run(int64_t S, const std::vector<float>& q, const std::vector<float>& k,
                              const std::vector<float>& v, int64_t pos) {
    return in->run({HostTensor::fromF32({S, Hq * D}, q), HostTensor::fromF32({S, Hkv * D}, k),
                    HostTensor::fromF32({S, Hkv * D}, v), HostTensor::scalarI64(pos)});
  }
};

// Naive double-precision reference over full k/v histories [T, Hkv*D].
std::vector<double> reference(const std::vector<float>& q, const std::vector<float>& k,
                              const std::vector<float>& v, int64_t S, int64_t pos) {
  std::vector<double> out(size_t(S * Hq * D), 0.0);
  for (int64_t t = 0; t < S; ++t)
    for (int64_t h = 0; h < Hq; ++h) {
      const int64_t kvh = h / (Hq / Hkv);
      std::vector<double> w;
      double mx = -1e300, sum = 0;
      for (int64_t j = 0; j <= pos + t; ++j) {
        double dot = 0;
        for (int64_t d = 0; d < D; ++d) dot += double(q[size_t(t * Hq * D + h * D + d)]) * k[size_t(j * Hkv * D + kvh * D + d)];
        w.push_back(dot / std::sqrt(double(D)));
        mx = std::max(mx, w.back());
      }
      for (double& x : w) sum += x = std::exp(x - mx);
      for (size_t j = 0; j < w.size(); ++j)
        for (int64_t d = 0; d < D; ++d)
          out[size_t(t * Hq * D + h * D + d)] += w[j] / sum * v[j * Hkv * D + size_t(kvh * D + d)];
    }
  return out;
}

}  // namespace

TEST(InterpAttention, MatchesNaiveReferenceAndWritesCache) {
  const int64_t S = 3;
  auto q = randomFloats(S * Hq * D, 1, -2, 2), k = randomFloats(S * Hkv * D, 2, -2, 2), v = randomFloats(S * Hkv * D, 3);
  AttnGraph a(S);
  auto r = a.run(S, q, k, v, 0);
  auto ref = reference(q, k, v, S, 0);
  auto o = floats(r[0]);
  for (size_t i = 0; i < o.size(); ++i) EXPECT_NEAR(o[i], ref[i], 1e-6) << i;
  // Cache rows 0..S-1 hold k and v; the rest stays zero.
  auto kc = floats(r[1]), vc = floats(r[2]);
  for (int64_t i = 0; i < C * Hkv * D; ++i) {
    EXPECT_EQ(kc[size_t(i)], i < S * Hkv * D ? k[size_t(i)] : 0.0f);
    EXPECT_EQ(vc[size_t(i)], i < S * Hkv * D ? v[size_t(i)] : 0.0f);
  }
  // Query row 0 sees only key 0: its output is v row 0 of its kv head.
  for (int64_t h = 0; h < Hq; ++h)
    for (int64_t d = 0; d < D; ++d) EXPECT_EQ(o[size_t(h * D + d)], v[size_t((h / 2) * D + d)]);
}

TEST(InterpAttention, CausalMaskIgnoresLaterTokens) {
  const int64_t S = 3;
  auto q = randomFloats(S * Hq * D, 4), k = randomFloats(S * Hkv * D, 5), v = randomFloats(S * Hkv * D, 6);
  AttnGraph a(S), b(S);
  auto o1 = floats(a.run(S, q, k, v, 0)[0]);
  for (int64_t i = 2 * Hkv * D; i < 3 * Hkv * D; ++i) k[size_t(i)] += 1.0f, v[size_t(i)] -= 2.0f;
  auto o2 = floats(b.run(S, q, k, v, 0)[0]);
  for (int64_t i = 0; i < 2 * Hq * D; ++i) EXPECT_EQ(o1[size_t(i)], o2[size_t(i)]);
  EXPECT_NE(o1, o2);
}

TEST(InterpAttention, DecodeAfterPrefillUsesCacheAndMatchesFullRun) {
  auto q = randomFloats(4 * Hq * D, 7), k = randomFloats(4 * Hkv * D, 8), v = randomFloats(4 * Hkv * D, 9);
  AttnGraph full(4);
  auto of = floats(full.run(4, q, k, v, 0)[0]);
  auto slice = [](const std::vector<float>& x, int64_t from, int64_t to, int64_t w) {
    return std::vector<float>(x.begin() + from * w, x.begin() + to * w);
  };
  // One token at a time through the cache equals the full causal evaluation, bit for bit.
  AttnGraph one(1);
  for (int64_t t = 0; t < 4; ++t) {
    auto r = one.run(1, slice(q, t, t + 1, Hq * D), slice(k, t, t + 1, Hkv * D), slice(v, t, t + 1, Hkv * D), t);
    auto o = floats(r[0]);
    for (int64_t i = 0; i < Hq * D; ++i) EXPECT_EQ(o[size_t(i)], of[size_t(t * Hq * D + i)]) << "t=" << t;
  }
  // resetState empties the cache.
  one.in->resetState();
  auto r = one.run(1, slice(q, 3, 4, Hq * D), slice(k, 3, 4, Hkv * D), slice(v, 3, 4, Hkv * D), 0);
  auto kc = floats(r[1]);
  for (size_t i = size_t(Hkv * D); i < kc.size(); ++i) EXPECT_EQ(kc[i], 0.0f);
}

TEST(InterpAttention, GqaMappingDividesHeads) {
  // kv head 0 and kv head 1 hold different values; with h / 2 heads 0,1 read kv 0 and 2,3 read kv 1.
  const int64_t S = 1;
  std::vector<float> q(S * Hq * D, 0.5f), k = {1, 0, 0, 1}, v = {1, 2, 30, 40};
  AttnGraph a(S), bad(S, Fault::GqaModulo);
  auto o = floats(a.run(S, q, k, v, 0)[0]);
  EXPECT_EQ(o, (std::vector<float>{1, 2, 1, 2, 30, 40, 30, 40}));
  auto ob = floats(bad.run(S, q, k, v, 0)[0]);
  EXPECT_EQ(ob, (std::vector<float>{1, 2, 30, 40, 1, 2, 30, 40}));
}

TEST(InterpAttention, ContextOverflowIsAnError) {
  AttnGraph a(3);
  auto q = randomFloats(3 * Hq * D, 1), k = randomFloats(3 * Hkv * D, 2), v = randomFloats(3 * Hkv * D, 3);
  EXPECT_NO_THROW(a.run(3, q, k, v, 5));  // rows 5..7 of 8
  try {
    a.run(3, q, k, v, 6);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("context overflow"), std::string::npos) << e.what();
  }
}
