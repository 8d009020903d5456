// Elementwise kernels against the interpreter, bit-exact: every binary op and dtype under numpy
// broadcasting (scalars, size-1 dims on either side, rank 8, large flat tensors over a pool),
// integer wrap-around, NaN / signed zero / infinity handling; every unary op and dtype on
// special values; clip; cast between every pair of element types.
#include "kernels_test_util.h"

using namespace bitnetc;
using namespace bitnetc::kerneltest;

namespace {

using Shape = std::vector<int64_t>;

const std::pair<Shape, Shape> kBroadcasts[] = {
    {{5}, {5}},
    {{2, 3}, {3}},
    {{2, 3}, {2, 1}},
    {{1}, {4, 1, 3}},
    {{}, {3, 2}},
    {{3, 2}, {}},
    {{}, {}},
    {{2, 1, 3, 1}, {1, 4, 1, 5}},
    {{3, 1, 4}, {1, 5, 1}},
    {{2, 1, 2, 1, 2, 1, 2, 3}, {1, 2, 1, 2, 1, 2, 1, 3}},
    {{2, 2, 2, 2, 2, 2, 2, 2}, {2, 1, 2, 1, 2, 1, 2, 1}},
    {{7, 65}, {7, 65}},
    {{0, 3}, {3}},
};

// f32 values that exercise the special cases of every op.
HostTensor specialFloats(const Shape& shape, uint32_t seed) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const float specials[] = {0.0f, -0.0f, inf, -inf, nan, 0.5f, 1.5f, 2.5f, -0.5f, -2.5f, 1.0f, -1.0f,
                            88.7f, -104.0f, 1e-40f, 3e38f, 16777217.0f, 2.0f, 0.1f, -7.25f};
  HostTensor h = randomTensor(DType::F32, shape, seed, -4.0, 4.0);
  std::mt19937 rng(seed);
  for (int64_t i = 0; i < h.numElements(); ++i)
    if (rng() % 3 == 0) h.as<float>()[i] = specials[rng() % std::size(specials)];
  return h;
}

HostTensor specialInts(DType t, const Shape& shape, uint32_t seed) {
  HostTensor h = randomTensor(t, shape, seed);
  std::mt19937 rng(seed + 1);
  for (int64_t i = 0; i < h.numElements(); ++i) {
    if (rng() % 4) continue;
    const int pick = int(rng() % 4);
    switch (t) {
      case DType::I8: h.as<int8_t>()[i] = int8_t(pick == 0 ? -128 : pick == 1 ? 127 : pick == 2 ? 0 : -1); break;
      case DType::U8: h.as<uint8_t>()[i] = uint8_t(pick == 0 ? 255 : pick == 1 ? 128 : pick == 2 ? 0 : 1); break;
      case DType::I32:
        h.as<int32_t>()[i] = pick == 0 ? INT32_MIN : pick == 1 ? INT32_MAX : pick == 2 ? 0 : -1;
        break;
      default:
        h.as<int64_t>()[i] = pick == 0 ? INT64_MIN : pick == 1 ? INT64_MAX : pick == 2 ? 0 : -1;
        break;
    }
  }
  return h;
}

HostTensor values(DType t, const Shape& shape, uint32_t seed) {
  return t == DType::F32 ? specialFloats(shape, seed) : specialInts(t, shape, seed);
}

}  // namespace

TEST(KernelsElementwise, BinaryOpsBroadcastEveryDType) {
  uint32_t seed = 1;
  for (DType t : {DType::F32, DType::I8, DType::I32, DType::I64, DType::U8})
    for (const char* op : {"add", "sub", "mul", "div", "max", "min", "pow"}) {
      const bool floatOnly = std::string(op) == "div" || std::string(op) == "pow";
      if (floatOnly && t != DType::F32) continue;
      for (const auto& [sa, sb] : kBroadcasts) {
        const HostTensor a = values(t, sa, ++seed), b = values(t, sb, ++seed);
        OneOp o = oneOp(op, {a, b});
        expectBitExact(*o.module, {a, b},
                       std::string(op) + " " + std::string(dtypeName(t)) + " " + shapeString(sa) + " " + shapeString(sb));
      }
    }
}

TEST(KernelsElementwise, LargeBinaryOverAPool) {
  Pool pool(3);
  const std::pair<Shape, Shape> shapes[] = {{{100003}, {100003}}, {{300, 1027}, {1027}}, {{1}, {70001}},
                                            {{513, 1}, {513, 300}}};
  uint32_t seed = 500;
  for (const auto& [sa, sb] : shapes)
    for (DType t : {DType::F32, DType::I32})
      for (const char* op : {"add", "mul", "max"}) {
        const HostTensor a = values(t, sa, ++seed), b = values(t, sb, ++seed);
        OneOp o = oneOp(op, {a, b});
        expectBitExact(*o.module, {a, b}, std::string(op) + " " + shapeString(sa) + " " + shapeString(sb), pool.pool);
      }
}

TEST(KernelsElementwise, UnaryOpsEveryDType) {
  uint32_t seed = 1000;
  for (const char* op : {"neg", "abs", "relu", "sqrt", "exp", "sigmoid", "reciprocal", "round", "relu2", "silu"})
    for (DType t : {DType::F32, DType::I8, DType::I32, DType::I64}) {
      const std::string name = op;
      const bool ints = name == "neg" || name == "abs" || name == "relu";
      if (t != DType::F32 && !ints) continue;
      for (const Shape& shape : {Shape{}, Shape{1}, Shape{37}, Shape{3, 5, 7}, Shape{40000}}) {
        const HostTensor x = values(t, shape, ++seed);
        OneOp o = oneOp(op, {x});
        expectBitExact(*o.module, {x}, name + " " + std::string(dtypeName(t)) + " " + shapeString(shape));
      }
    }
}

TEST(KernelsElementwise, UnaryOverAPool) {
  Pool pool(2);
  const HostTensor x = specialFloats({512, 1000}, 42);
  for (const char* op : {"silu", "exp", "relu2", "round"}) {
    OneOp o = oneOp(op, {x});
    expectBitExact(*o.module, {x}, op, pool.pool);
  }
}

TEST(KernelsElementwise, Clip) {
  uint32_t seed = 2000;
  const std::pair<double, double> bounds[] = {{-1.0, 1.0}, {-128.0, 127.0}, {0.0, 0.0}, {1e-5, 3e38},
                                              {2.0, -2.0}, {-std::numeric_limits<double>::infinity(), 0.25}};
  for (const auto& [lo, hi] : bounds)
    for (const Shape& shape : {Shape{}, Shape{17}, Shape{4, 33}, Shape{70000}}) {
      const HostTensor x = specialFloats(shape, ++seed);
      OneOp o = oneOp("clip", {x}, attrs({{"min", lo}, {"max", hi}}));
      expectBitExact(*o.module, {x}, "clip " + std::to_string(lo) + " " + std::to_string(hi));
    }
}

TEST(KernelsCast, EveryPairOfElementTypes) {
  const DType all[] = {DType::F32, DType::BF16, DType::F16, DType::I8, DType::I32, DType::I64, DType::U8};
  const float floatSpecials[] = {0.0f, -0.0f, std::numeric_limits<float>::infinity(),
                                 -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN(),
                                 0.5f, 1.5f, 2.5f, -0.5f, -2.5f, 127.5f, 128.0f, -128.5f, -129.0f, 255.5f, 256.0f,
                                 -1.0f, 1e10f, -1e10f, 2147483520.0f, 2147483648.0f, 9.3e18f, -9.3e18f,
                                 65504.0f, 65519.99f, 65520.0f, 1e-8f, 6.1e-5f, 5.96e-8f, 2.98e-8f,
                                 1.00390625f, 1.01171875f, 3.4e38f, 1e-40f};
  uint32_t seed = 3000;
  for (DType from : all)
    for (DType to : all) {
      HostTensor x = randomTensor(from, {4099}, ++seed, -300.0, 300.0);
      // Special values at the front (float sources), integer boundaries come from randomTensor.
      if (from == DType::F32)
        for (size_t i = 0; i < std::size(floatSpecials); ++i) x.as<float>()[i] = floatSpecials[i];
      if (from == DType::BF16 || from == DType::F16)
        for (size_t i = 0; i < std::size(floatSpecials); ++i)
          x.as<uint16_t>()[i] = from == DType::BF16 ? floatToBf16(floatSpecials[i]) : floatToF16(floatSpecials[i]);
      if (from == DType::I64) {
        const int64_t specials[] = {INT64_MAX, INT64_MIN, 9223372036854774784, (int64_t(1) << 24) + 1, -1, 0, 255, 256};
        for (size_t i = 0; i < std::size(specials); ++i) x.as<int64_t>()[i] = specials[i];
      }
      if (from == DType::I32) {
        const int32_t specials[] = {INT32_MAX, INT32_MIN, (1 << 24) + 1, 65520, -129, 128};
        for (size_t i = 0; i < std::size(specials); ++i) x.as<int32_t>()[i] = specials[i];
      }
      OneOp o = oneOp("cast", {x}, attrs({{"to", std::string(dtypeName(to))}}));
      expectBitExact(*o.module, {x}, "cast " + std::string(dtypeName(from)) + " -> " + std::string(dtypeName(to)));
    }
}

TEST(KernelsCast, F32ToHalfTypesOnRandomBitPatterns) {
  // Every exponent, rounding boundary and NaN payload class of the f32 -> f16 / bf16 rounding.
  HostTensor x = HostTensor::zeros(DType::F32, {200000});
  std::mt19937 rng(9);
  for (int64_t i = 0; i < x.numElements(); ++i) {
    uint32_t bits = rng();
    std::memcpy(x.as<float>() + i, &bits, 4);
  }
  Pool pool(2);
  for (const char* to : {"f16", "bf16"}) {
    OneOp o = oneOp("cast", {x}, attrs({{"to", std::string(to)}}));
    expectBitExact(*o.module, {x}, std::string("f32 bits -> ") + to, pool.pool);
  }
}
