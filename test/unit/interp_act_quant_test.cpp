// act_quant: per-row absmax scale, f32 multiply, round half to even, clamp, the 1e-5 floor.
#include <gtest/gtest.h>

#include "interp_test_util.h"

using namespace bitnetc;
using namespace bitnetc::testutil;

namespace {

struct ActQuantGraph {
  Graph g;
  explicit ActQuantGraph(int64_t rows, int64_t k) {
    Value* x = g.f->addInput("x", f32({rows, k}));
    Op* op = g.f->addOp("act_quant", {x}, {{"q", TensorType::of(DType::I8, {rows, k})}, {"s", f32({rows})}});
    g.f->setOutputs({op->result(0), op->result(1)});
  }
  std::vector<HostTensor> run(std::vector<int64_t> shape, const std::vector<float>& x, Fault fault = Fault::None) {
    InterpreterOptions o;
    o.fault = fault;
    Interpreter in(*g.module, *g.f, o);
    return in.run({HostTensor::fromF32(shape, x)});
  }
};

std::vector<int> ints(const HostTensor& t) {
  std::vector<int> v;
  for (int64_t i = 0; i < t.numElements(); ++i) v.push_back(t.as<int8_t>()[i]);
  return v;
}

}  // namespace

TEST(InterpActQuant, TiesRoundToEven) {
  // absmax 127 gives s = 1 exactly, so x*s is x: every .5 is a tie.
  ActQuantGraph g(1, 8);
  auto r = g.run({1, 8}, {127.0f, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 3.5f});
  EXPECT_EQ(ints(r[0]), (std::vector<int>{127, 0, 2, 2, 0, -2, -2, 4}));
  EXPECT_EQ(r[1].as<float>()[0], 1.0f);
}

TEST(InterpActQuant, ScaleIsPerRowWithF32Multiply) {
  ActQuantGraph g(2, 3);
  const std::vector<float> x = {0.1f, -0.3f, 0.25f, 10.0f, 2.0f, -7.0f};
  auto r = g.run({2, 3}, x);
  const float s0 = 127.0f / 0.3f, s1 = 127.0f / 10.0f;
  EXPECT_EQ(r[1].as<float>()[0], s0);
  EXPECT_EQ(r[1].as<float>()[1], s1);
  std::vector<int> expect;
  for (int i = 0; i < 6; ++i) expect.push_back(int(std::nearbyint(x[size_t(i)] * (i < 3 ? s0 : s1))));
  EXPECT_EQ(ints(r[0]), expect);
  EXPECT_EQ(ints(r[0])[1], -127);
}

TEST(InterpActQuant, FloorOfAbsmaxIs1em5) {
  ActQuantGraph g(2, 2);
  auto r = g.run({2, 2}, {0.0f, 0.0f, 1e-6f, -2e-6f});
  const float s = 127.0f / 1e-5f;
  EXPECT_EQ(r[1].as<float>()[0], s);
  EXPECT_EQ(r[1].as<float>()[1], s);
  EXPECT_EQ(ints(r[0]), (std::vector<int>{0, 0, int(std::nearbyint(1e-6f * s)), int(std::nearbyint(-2e-6f * s))}));
  EXPECT_EQ(ints(r[0])[2], 13);  // 12.7 -> 13
}

TEST(InterpActQuant, ClampsToInt8Range) {
  // Only reachable with a scale the absmax rule cannot produce: the skip-act-quant fault (s = 1).
  ActQuantGraph g(1, 4);
  auto r = g.run({1, 4}, {-1000.0f, 1000.0f, -128.4f, 126.5f}, Fault::SkipActQuant);
  EXPECT_EQ(ints(r[0]), (std::vector<int>{-128, 127, -128, 126}));
}

TEST(InterpActQuant, PerTensorFaultChangesScales) {
  ActQuantGraph g(2, 2);
  auto good = g.run({2, 2}, {1.0f, 0.5f, 4.0f, 2.0f});
  auto bad = g.run({2, 2}, {1.0f, 0.5f, 4.0f, 2.0f}, Fault::PerTensorActQuant);
  EXPECT_EQ(good[1].as<float>()[0], 127.0f);
  EXPECT_EQ(bad[1].as<float>()[0], 127.0f / 4.0f);
  EXPECT_NE(ints(good[0]), ints(bad[0]));
}

TEST(InterpActQuant, RejectsWrongInputDType) {
  ActQuantGraph g(1, 2);
  Interpreter in(*g.g.module, *g.g.f);
  EXPECT_THROW(in.run({HostTensor::fromI32({1, 2}, {1, 2})}), Error);
  EXPECT_THROW(in.run({HostTensor::fromF32({1, 3}, {1, 2, 3})}), Error);
}
