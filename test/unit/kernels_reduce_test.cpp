// reduce_max / reduce_mean / reduce_sum and softmax kernels against the interpreter, bit-exact
// (both walk each reduced group in row-major order with f64 sums): every axes subset of a
// rank-4 tensor, negative and absent axes, keepdims on and off, integer dtypes with wrap-around,
// NaN groups, zero-size dims, and softmax along every axis.
#include "kernels_test_util.h"

using namespace bitnetc;
using namespace bitnetc::kerneltest;

namespace {

HostTensor withNaNs(HostTensor h, uint32_t seed) {
  std::mt19937 rng(seed);
  for (int64_t i = 0; i < h.numElements(); ++i)
    if (rng() % 29 == 0) h.as<float>()[i] = std::numeric_limits<float>::quiet_NaN();
  return h;
}

}  // namespace

TEST(KernelsReduce, EveryAxesSubsetAndDType) {
  const std::vector<int64_t> shape = {3, 4, 5, 6};
  uint32_t seed = 1;
  for (const char* op : {"reduce_max", "reduce_mean", "reduce_sum"})
    for (DType t : {DType::F32, DType::I8, DType::I32, DType::I64, DType::U8}) {
      if (std::string(op) == "reduce_mean" && t != DType::F32) continue;
      ++seed;
      const HostTensor x = t == DType::F32 ? withNaNs(randomTensor(t, shape, seed), seed) : randomTensor(t, shape, seed);
      for (int mask = 0; mask < 16; ++mask)
        for (bool keep : {true, false}) {
          std::vector<int64_t> axes;
          for (int d = 0; d < 4; ++d)
            if (mask & (1 << d)) axes.push_back(d % 2 ? d - 4 : d);  // some negative
          AttributeList a;
          if (mask) a.set("axes", axes);  // absent: every axis
          a.set("keepdims", keep);
          OneOp o = oneOp(op, {x}, a);
          expectBitExact(*o.module, {x},
                         std::string(op) + " " + std::string(dtypeName(t)) + " mask " + std::to_string(mask) +
                             (keep ? " keep" : ""));
        }
    }
}

TEST(KernelsReduce, EmptyAxesListDefaultKeepdimsAndZeroSizes) {
  const HostTensor x = randomTensor(DType::F32, {7, 9}, 5);
  OneOp all = oneOp("reduce_sum", {x}, attrs({{"axes", std::vector<int64_t>{}}}));
  expectBitExact(*all.module, {x}, "axes []");
  OneOp last = oneOp("reduce_mean", {x}, attrs({{"axes", std::vector<int64_t>{-1}}}));
  expectBitExact(*last.module, {x}, "axes [-1], keepdims default");
  for (const char* op : {"reduce_max", "reduce_mean", "reduce_sum"}) {
    const HostTensor z = HostTensor::zeros(DType::F32, {3, 0, 2});
    OneOp reduceEmpty = oneOp(op, {z}, attrs({{"axes", std::vector<int64_t>{1}}}));
    expectBitExact(*reduceEmpty.module, {z}, std::string(op) + " over a zero-size dim");
    OneOp keepEmpty = oneOp(op, {z}, attrs({{"axes", std::vector<int64_t>{0}}}));
    expectBitExact(*keepEmpty.module, {z}, std::string(op) + " of a zero-size result");
  }
}

TEST(KernelsReduce, LargeRowsOverAPool) {
  Pool pool(2);
  const HostTensor x = randomTensor(DType::F32, {300, 2560}, 6);
  for (const char* op : {"reduce_max", "reduce_mean", "reduce_sum"}) {
    OneOp o = oneOp(op, {x}, attrs({{"axes", std::vector<int64_t>{1}}, {"keepdims", false}}));
    expectBitExact(*o.module, {x}, op, pool.pool);
  }
}

TEST(KernelsSoftmax, EveryAxis) {
  uint32_t seed = 40;
  for (const std::vector<int64_t>& shape : {std::vector<int64_t>{1}, {17}, {3, 5}, {2, 3, 4, 5}, {4, 1000}})
    for (int64_t axis = -int64_t(shape.size()); axis < int64_t(shape.size()); ++axis) {
      const HostTensor x = randomTensor(DType::F32, shape, ++seed, -30.0, 30.0);
      OneOp o = oneOp("softmax", {x}, attrs({{"axis", axis}}));
      expectBitExact(*o.module, {x}, "softmax " + shapeString(shape) + " axis " + std::to_string(axis));
    }
  // -inf entries (masked), a NaN row, and a row of equal values.
  const float inf = std::numeric_limits<float>::infinity();
  const HostTensor x = HostTensor::fromF32({3, 4}, {-inf, 0, -inf, 1, 1, std::numeric_limits<float>::quiet_NaN(), 2, 3, 5, 5, 5, 5});
  OneOp o = oneOp("softmax", {x}, attrs({{"axis", int64_t(1)}}));
  expectBitExact(*o.module, {x}, "softmax special rows");
  Pool pool(3);
  const HostTensor big = randomTensor(DType::F32, {512, 333}, 77, -10.0, 10.0);
  OneOp ob = oneOp("softmax", {big}, attrs({{"axis", int64_t(-1)}}));
  expectBitExact(*ob.module, {big}, "softmax 512 x 333 with a pool", pool.pool);
}
