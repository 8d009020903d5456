// bitlinear: exact int32 accumulators against a naive loop over the logical ternary values, for
// both layouts (hf_blocked_2bit with out % 4 != 0 included), the three scale rules, the cached
// and the row-by-row decoding paths, and the packing / scale faults.
#include <gtest/gtest.h>

#include "interp_test_util.h"

using namespace bitnetc;
using namespace bitnetc::testutil;

namespace {

struct BitlinearCase {
  int64_t rows, n, k;
  std::vector<int8_t> q, t;
  std::vector<float> s;
};

BitlinearCase makeCase(int64_t rows, int64_t n, int64_t k, uint32_t seed) {
  BitlinearCase c{rows, n, k, {}, randomTernary(size_t(n * k), seed), randomFloats(size_t(rows), seed + 1, 0.5f, 200.0f)};
  std::mt19937 rng(seed + 2);
  std::uniform_int_distribution<int> dist(-128, 127);
  for (int64_t i = 0; i < rows * k; ++i) c.q.push_back(int8_t(dist(rng)));
  return c;
}

struct Result {
  std::vector<float> y;
  std::vector<int32_t> acc;
};

Result runBitlinear(const BitlinearCase& c, std::string_view layout, ScaleRule rule, float ws,
                    Fault fault = Fault::None, size_t cacheBytes = size_t(1) << 20) {
  Graph g;
  Value* q = g.f->addInput("q", TensorType::of(DType::I8, {c.rows, c.k}));
  Value* s = g.f->addInput("s", f32({c.rows}));
  Value* w = g.ternary("w", c.n, c.k, c.t, layout, rule, ws);
  g.f->setOutputs({g.f->add("bitlinear", {q, s, w}, "y", f32({c.rows, c.n}))});
  Result r;
  InterpreterOptions o;
  o.fault = fault;
  o.weightCacheBytes = cacheBytes;
  o.observer = [&](const Op& op, const std::vector<const HostTensor*>&, const HostTensor* acc) {
    ASSERT_EQ(op.opcode, "bitlinear");
    ASSERT_NE(acc, nullptr);
    ASSERT_EQ(acc->dtype, DType::I32);
    r.acc.assign(acc->as<int32_t>(), acc->as<int32_t>() + acc->numElements());
  };
  Interpreter in(*g.module, *g.f, o);
  HostTensor qt = HostTensor::zeros(DType::I8, {c.rows, c.k});
  std::memcpy(qt.bytes.data(), c.q.data(), c.q.size());
  r.y = floats(in.run({qt, HostTensor::fromF32({c.rows}, c.s)})[0]);
  return r;
}

std::vector<int32_t> naiveAcc(const BitlinearCase& c) {
  std::vector<int32_t> acc(size_t(c.rows * c.n));
  for (int64_t r = 0; r < c.rows; ++r)
    for (int64_t n = 0; n < c.n; ++n) {
      int32_t sum = 0;
      for (int64_t k = 0; k < c.k; ++k) sum += int32_t(c.q[size_t(r * c.k + k)]) * c.t[size_t(n * c.k + k)];
      acc[size_t(r * c.n + n)] = sum;
    }
  return acc;
}

}  // namespace

TEST(InterpBitlinear, AccumulatorsMatchNaiveLoopForEveryLayout) {
  for (int64_t n : {1, 4, 6, 7, 13, 32}) {
    const BitlinearCase c = makeCase(3, n, 37, uint32_t(100 + n));
    const auto expect = naiveAcc(c);
    for (std::string_view layout : {kLayoutHFBlocked, kLayoutI8}) {
      for (size_t cache : {size_t(1) << 20, size_t(0)}) {  // cached matrix and row-by-row decoding
        const Result r = runBitlinear(c, layout, ScaleRule::Mul, 1.25f, Fault::None, cache);
        EXPECT_EQ(r.acc, expect) << "n=" << n << " layout=" << layout << " cache=" << cache;
      }
    }
  }
}

TEST(InterpBitlinear, ScaleRules) {
  const BitlinearCase c = makeCase(2, 5, 16, 7);
  const auto acc = naiveAcc(c);
  const float ws = 1.7f;
  const Result mul = runBitlinear(c, kLayoutHFBlocked, ScaleRule::Mul, ws);
  const Result div = runBitlinear(c, kLayoutHFBlocked, ScaleRule::Div, ws);
  const Result none = runBitlinear(c, kLayoutHFBlocked, ScaleRule::None, ws);
  for (int64_t r = 0; r < c.rows; ++r)
    for (int64_t n = 0; n < c.n; ++n) {
      const size_t i = size_t(r * c.n + n);
      const float a = float(acc[i]), s = c.s[size_t(r)];
      EXPECT_EQ(mul.y[i], (a * ws) / s);
      EXPECT_EQ(div.y[i], a / (ws * s));
      EXPECT_EQ(none.y[i], a / s);
    }
}

TEST(InterpBitlinear, InterleavedPackingFaultChangesAccumulators) {
  const BitlinearCase c = makeCase(2, 10, 16, 11);
  const Result good = runBitlinear(c, kLayoutHFBlocked, ScaleRule::Mul, 1.0f);
  const Result bad = runBitlinear(c, kLayoutHFBlocked, ScaleRule::Mul, 1.0f, Fault::InterleavedPacking);
  EXPECT_EQ(good.acc, naiveAcc(c));
  EXPECT_NE(bad.acc, good.acc);
}

TEST(InterpBitlinear, DivideScaleFaultChangesOutputs) {
  const BitlinearCase c = makeCase(2, 8, 16, 12);
  const Result good = runBitlinear(c, kLayoutHFBlocked, ScaleRule::Mul, 1.5f);
  const Result bad = runBitlinear(c, kLayoutHFBlocked, ScaleRule::Mul, 1.5f, Fault::DivideScale);
  EXPECT_EQ(good.acc, bad.acc);
  EXPECT_NE(good.y, bad.y);
}

TEST(InterpBitlinear, InvalidCode3IsAnError) {
  Graph g;
  Value* q = g.f->addInput("q", TensorType::of(DType::I8, {1, 2}));
  Value* s = g.f->addInput("s", f32({1}));
  Weight w = makeOwnedWeight("bad", TensorType::of(DType::Ternary, {4, 2}), {0x55, 0xff});
  w.layout = std::string(kLayoutHFBlocked);
  w.scaleRule = ScaleRule::Mul;
  Value* wv = g.module->addWeight(std::move(w));
  g.f->setOutputs({g.f->add("bitlinear", {q, s, wv}, "y", f32({1, 4}))});
  Interpreter in(*g.module, *g.f);
  try {
    in.run({HostTensor::zeros(DType::I8, {1, 2}), HostTensor::fromF32({1}, {1.0f})});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("@bad"), std::string::npos) << e.what();
  }
}
