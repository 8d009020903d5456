// rms_norm and rope (rotate_half) against hand-computed values.
#include <gtest/gtest.h>

#include <cmath>

#include "interp_test_util.h"

using namespace bitnetc;
using namespace bitnetc::testutil;

TEST(InterpRmsNorm, MatchesFormula) {
  Graph g;
  Value* x = g.f->addInput("x", f32({2, 4}));
  Value* w = g.weightF32("w", {4}, {1.0f, 2.0f, 0.5f, -1.0f});
  AttributeList a;
  a.set("eps", 1e-5);
  g.f->setOutputs({g.f->add("rms_norm", {x, w}, "y", f32({2, 4}), a)});
  Interpreter in(*g.module, *g.f);
  const std::vector<float> xs = {1, 2, 3, 4, -0.5f, 0, 0, 0.5f};
  auto y = floats(in.run({HostTensor::fromF32({2, 4}, xs)})[0]);
  // Row 0: mean(x^2) = 30/4 = 7.5; row 1: 0.5/4 = 0.125.
  const float r0 = 1.0f / std::sqrt(7.5f + 1e-5f), r1 = 1.0f / std::sqrt(0.125f + 1e-5f);
  const std::vector<float> ws = {1.0f, 2.0f, 0.5f, -1.0f};
  for (int i = 0; i < 8; ++i) EXPECT_EQ(y[size_t(i)], ws[size_t(i % 4)] * (xs[size_t(i)] * (i < 4 ? r0 : r1)));
  EXPECT_NEAR(y[0], 1.0 / std::sqrt(7.5), 1e-6);
}

namespace {

std::vector<float> runRope(const std::vector<float>& x, int64_t S, int64_t pos, Fault fault = Fault::None) {
  Graph g;
  Value* xv = g.f->addInput("x", f32({S, 8}));
  Value* p = g.f->addInput("pos", TensorType::of(DType::I64, {}));
  AttributeList a;
  a.set("heads", int64_t(2));
  a.set("head_dim", int64_t(4));
  a.set("theta", 10000.0);
  g.f->setOutputs({g.f->add("rope", {xv, p}, "y", f32({S, 8}), a)});
  InterpreterOptions o;
  o.fault = fault;
  Interpreter in(*g.module, *g.f, o);
  return floats(in.run({HostTensor::fromF32({S, 8}, x), HostTensor::scalarI64(pos)})[0]);
}

}  // namespace

TEST(InterpRope, RotateHalfByHand) {
  // head_dim 4: pairs (0, 2) with inv_freq 1 and (1, 3) with inv_freq 1/100.
  const std::vector<float> x = randomFloats(16, 3);
  const int64_t pos = 3;
  auto y = runRope(x, 2, pos);
  for (int t = 0; t < 2; ++t)
    for (int h = 0; h < 2; ++h)
      for (int i = 0; i < 2; ++i) {
        const double angle = double(pos + t) * (i == 0 ? 1.0 : 0.01);
        const size_t b = size_t(t * 8 + h * 4);
        const double x0 = x[b + size_t(i)], x1 = x[b + size_t(i) + 2];
        EXPECT_NEAR(y[b + size_t(i)], x0 * std::cos(angle) - x1 * std::sin(angle), 1e-6);
        EXPECT_NEAR(y[b + size_t(i) + 2], x1 * std::cos(angle) + x0 * std::sin(angle), 1e-6);
      }
}

TEST(InterpRope, PositionZeroIsIdentity) {
  const std::vector<float> x = randomFloats(8, 4);
  EXPECT_EQ(runRope(x, 1, 0), x);
}

TEST(InterpRope, InterleavedFaultChangesResult) {
  const std::vector<float> x = randomFloats(16, 5);
  EXPECT_NE(runRope(x, 2, 5), runRope(x, 2, 5, Fault::InterleavedRope));
}
