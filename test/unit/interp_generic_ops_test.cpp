// The generic imported ops: broadcasting, reductions, softmax, matmul, shape ops, cast, clip.
#include <gtest/gtest.h>

#include <cmath>

#include "interp_test_util.h"

using namespace bitnetc;
using namespace bitnetc::testutil;

namespace {

// Runs a one-op function on the given inputs; returns its single result.
HostTensor runOp(const std::string& opcode, const std::vector<HostTensor>& inputs, TensorType result,
                 AttributeList attrs = {}) {
  Graph g;
  std::vector<Value*> operands;
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::vector<Dim> dims;
    for (int64_t d : inputs[i].shape) dims.push_back(Dim::fixed(d));
    operands.push_back(g.f->addInput("x" + std::to_string(i), TensorType(inputs[i].dtype, dims)));
  }
  g.f->setOutputs({g.f->add(opcode, operands, "y", result, attrs)});
  Interpreter in(*g.module, *g.f);
  return in.run(inputs)[0];
}

std::vector<int32_t> i32s(const HostTensor& t) { return {t.as<int32_t>(), t.as<int32_t>() + t.numElements()}; }

}  // namespace

TEST(InterpGeneric, BroadcastBinary) {
  auto a = HostTensor::fromF32({2, 3}, {1, 2, 3, 4, 5, 6});
  auto b = HostTensor::fromF32({3}, {10, 20, 30});
  EXPECT_EQ(floats(runOp("add", {a, b}, f32({2, 3}))), (std::vector<float>{11, 22, 33, 14, 25, 36}));
  auto c = HostTensor::fromF32({2, 1}, {2, 4});
  EXPECT_EQ(floats(runOp("div", {a, c}, f32({2, 3}))), (std::vector<float>{0.5f, 1, 1.5f, 1, 1.25f, 1.5f}));
  EXPECT_EQ(floats(runOp("max", {c, b}, f32({2, 3}))), (std::vector<float>{10, 20, 30, 10, 20, 30}));
  auto i = HostTensor::fromI32({2}, {3, -4});
  EXPECT_EQ(i32s(runOp("mul", {i, i}, TensorType::of(DType::I32, {2}))), (std::vector<int32_t>{9, 16}));
  EXPECT_THROW(runOp("add", {a, HostTensor::fromF32({2}, {1, 2})}, f32({2, 3})), Error);
}

TEST(InterpGeneric, UnaryRoundIsHalfToEven) {
  auto x = HostTensor::fromF32({5}, {0.5f, 1.5f, 2.5f, -0.5f, -1.5f});
  EXPECT_EQ(floats(runOp("round", {x}, f32({5}))), (std::vector<float>{0, 2, 2, -0.0f, -2}));
  auto c = runOp("cast", {x}, TensorType::of(DType::I32, {5}), [] { AttributeList a; a.set("to", std::string("i32")); return a; }());
  EXPECT_EQ(i32s(c), (std::vector<int32_t>{0, 1, 2, 0, -1}));  // cast truncates toward zero (ONNX)
  auto big = HostTensor::fromF32({2}, {300.0f, -300.0f});
  AttributeList to8;
  to8.set("to", std::string("i8"));
  auto s = runOp("cast", {big}, TensorType::of(DType::I8, {2}), to8);
  EXPECT_EQ(s.as<int8_t>()[0], 127);
  EXPECT_EQ(s.as<int8_t>()[1], -128);
}

TEST(InterpGeneric, ClipAndReductions) {
  auto x = HostTensor::fromF32({2, 3}, {1, -5, 3, 4, 9, -6});
  AttributeList clip;
  clip.set("min", -2.0);
  clip.set("max", 3.0);
  EXPECT_EQ(floats(runOp("clip", {x}, f32({2, 3}), clip)), (std::vector<float>{1, -2, 3, 3, 3, -2}));
  AttributeList last;
  last.set("axes", std::vector<int64_t>{-1});
  last.set("keepdims", true);
  EXPECT_EQ(floats(runOp("reduce_max", {x}, f32({2, 1}), last)), (std::vector<float>{3, 9}));
  AttributeList first;
  first.set("axes", std::vector<int64_t>{0});
  first.set("keepdims", false);
  EXPECT_EQ(floats(runOp("reduce_sum", {x}, f32({3}), first)), (std::vector<float>{5, 4, -3}));
  EXPECT_EQ(floats(runOp("reduce_mean", {x}, f32({3}), first)), (std::vector<float>{2.5f, 2, -1.5f}));
}

TEST(InterpGeneric, Softmax) {
  AttributeList a;
  a.set("axis", int64_t(-1));
  auto y = floats(runOp("softmax", {HostTensor::fromF32({1, 3}, {1, 2, 1000})}, f32({1, 3}), a));
  EXPECT_EQ(y[2], 1.0f);
  EXPECT_EQ(y[0], 0.0f);
  auto z = floats(runOp("softmax", {HostTensor::fromF32({2}, {0, std::log(3.0f)})}, f32({2}), a));
  EXPECT_NEAR(z[0], 0.25, 1e-7);
  EXPECT_NEAR(z[1], 0.75, 1e-7);
}

TEST(InterpGeneric, MatmulPlainTransposedAndBatched) {
  auto a = HostTensor::fromF32({2, 3}, {1, 2, 3, 4, 5, 6});
  auto b = HostTensor::fromF32({3, 2}, {1, 0, 0, 1, 1, 1});
  EXPECT_EQ(floats(runOp("matmul", {a, b}, f32({2, 2}))), (std::vector<float>{4, 5, 10, 11}));
  auto bt = HostTensor::fromF32({2, 3}, {1, 0, 1, 0, 1, 1});
  AttributeList t;
  t.set("transpose_b", true);
  EXPECT_EQ(floats(runOp("matmul", {a, bt}, f32({2, 2}), t)), (std::vector<float>{4, 5, 10, 11}));
  auto a3 = HostTensor::fromF32({2, 1, 2}, {1, 2, 3, 4});
  auto b3 = HostTensor::fromF32({2, 2, 1}, {1, 1, 2, 0});
  EXPECT_EQ(floats(runOp("matmul", {a3, b3}, f32({2, 1, 1}))), (std::vector<float>{3, 6}));
}

TEST(InterpGeneric, ShapeOps) {
  auto x = HostTensor::fromF32({2, 3}, {1, 2, 3, 4, 5, 6});
  AttributeList perm;
  perm.set("perm", std::vector<int64_t>{1, 0});
  EXPECT_EQ(floats(runOp("transpose", {x}, f32({3, 2}), perm)), (std::vector<float>{1, 4, 2, 5, 3, 6}));
  AttributeList shape;
  shape.set("shape", std::vector<int64_t>{0, -1, 1});
  EXPECT_EQ(runOp("reshape", {x}, f32({2, 3, 1}), shape).shape, (std::vector<int64_t>{2, 3, 1}));
  AttributeList axis1;
  axis1.set("axis", int64_t(1));
  EXPECT_EQ(floats(runOp("concat", {x, HostTensor::fromF32({2, 1}, {7, 8})}, f32({2, 4}), axis1)),
            (std::vector<float>{1, 2, 3, 7, 4, 5, 6, 8}));
  EXPECT_EQ(floats(runOp("gather", {x, HostTensor::fromI32({2}, {2, -3})}, f32({2, 2}), axis1)),
            (std::vector<float>{3, 1, 6, 4}));
  EXPECT_THROW(runOp("gather", {x, HostTensor::fromI32({1}, {3})}, f32({2, 1}), axis1), Error);
}

TEST(InterpGeneric, ResultTypeMismatchIsAnError) {
  auto a = HostTensor::fromF32({2}, {1, 2});
  EXPECT_THROW(runOp("add", {a, a}, f32({3})), Error);
  EXPECT_THROW(runOp("add", {a, a}, TensorType::of(DType::I32, {2})), Error);
}

TEST(InterpGeneric, MatmulWithBf16WeightCachedOrNot) {
  // The LM head form: matmul(x, @embed) {transpose_b} with a bf16 weight, through the weight
  // cache (widened once) and without it (widened per call): same exact values.
  const std::vector<float> w = {1.5f, -2.0f, 0.25f, 3.0f, 0.5f, -1.0f};  // exact in bf16
  std::vector<uint8_t> bytes;
  for (float f : w) {
    const uint16_t b = floatToBf16(f);
    bytes.push_back(uint8_t(b & 0xff));
    bytes.push_back(uint8_t(b >> 8));
  }
  for (size_t cache : {size_t(1) << 20, size_t(0)}) {
    Graph g;
    Value* x = g.f->addInput("x", f32({2, 3}));
    Value* wv = g.module->addWeight(makeOwnedWeight("w", TensorType::of(DType::BF16, {2, 3}), bytes));
    AttributeList t;
    t.set("transpose_b", true);
    g.f->setOutputs({g.f->add("matmul", {x, wv}, "y", f32({2, 2}), t)});
    InterpreterOptions o;
    o.weightCacheBytes = cache;
    Interpreter in(*g.module, *g.f, o);
    auto y = floats(in.run({HostTensor::fromF32({2, 3}, {1, 2, 3, -1, 0, 4})})[0]);
    EXPECT_EQ(y, (std::vector<float>{1.5f - 4.0f + 0.75f, 3.0f + 1.0f - 3.0f, -1.5f + 1.0f, -3.0f - 4.0f}))
        << "cache " << cache;
  }
}
