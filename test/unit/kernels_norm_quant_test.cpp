// rms_norm and act_quant kernels against the interpreter: act_quant bit-exact (q and s) over
// edge sizes and special values (zero rows, tiny rows, NaN, infinities, exact .5 ties);
// rms_norm within a few ulps (its f64 sum of squares runs in eight partial sums) for f32, bf16
// and f16 weights; rms_norm_quant (the two fused) bit-exact.
#include "kernels_test_util.h"

using namespace bitnetc;
using namespace bitnetc::kerneltest;

namespace {

const int64_t kSizes[] = {1, 3, 4, 5, 63, 64, 65, 127, 255, 257, 2560, 6912};

HostTensor f32Tensor(std::vector<int64_t> shape, const std::vector<float>& v) { return HostTensor::fromF32(std::move(shape), v); }

}  // namespace

TEST(KernelsActQuant, BitExactOverSizesAndRows) {
  uint32_t seed = 10;
  for (int64_t K : kSizes)
    for (std::vector<int64_t> lead : {std::vector<int64_t>{1}, {3}, {2, 3}}) {
      std::vector<int64_t> shape = lead;
      shape.push_back(K);
      const HostTensor x = randomTensor(DType::F32, shape, ++seed, -3.0, 3.0);
      OneOp o = oneOp("act_quant", {x});
      expectBitExact(*o.module, {x}, "act_quant " + shapeString(shape));
    }
}

TEST(KernelsActQuant, SpecialRows) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<std::vector<float>> rows = {
      {0, 0, 0, 0, 0, 0},                        // absmax 0: scale 127 / 1e-5
      {1e-7f, -3e-6f, 2e-6f, 0, 1e-6f, -1e-7f},  // absmax below 1e-5
      {127, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f},     // s = 1: ties round to even
      {-127, 126.5f, -126.5f, 3.5f, -2.5f, 0},
      {1, nan, -1, 0.25f, nan, 0.5f},            // NaN never becomes the maximum; quantizes to 0
      {inf, 1, -1, 0, 2, 3},                     // scale 0: inf * 0 is NaN -> 0
      {-inf, inf, 5, -5, 0, 1},
      {3e38f, -3e38f, 1e30f, 1, 0, -1e-30f},
      {1e-38f, -1e-45f, 0, 1e-40f, 5e-39f, 0},   // subnormals
  };
  std::vector<float> all;
  for (const auto& r : rows) all.insert(all.end(), r.begin(), r.end());
  const HostTensor x = f32Tensor({int64_t(rows.size()), 6}, all);
  OneOp o = oneOp("act_quant", {x});
  expectBitExact(*o.module, {x}, "special rows");
}

TEST(KernelsActQuant, ThreadPool) {
  Pool pool(3);
  const HostTensor x = randomTensor(DType::F32, {97, 2560}, 3, -8.0, 8.0);
  OneOp o = oneOp("act_quant", {x});
  expectBitExact(*o.module, {x}, "act_quant 97 x 2560 with a pool", pool.pool);
}

TEST(KernelsRmsNorm, BitExactForEveryWeightType) {
  uint32_t seed = 100;
  for (DType wt : {DType::F32, DType::BF16, DType::F16})
    for (int64_t N : kSizes)
      for (std::vector<int64_t> lead : {std::vector<int64_t>{1}, {4}, {2, 3}, {11}}) {
        std::vector<int64_t> shape = lead;
        shape.push_back(N);
        const HostTensor x = randomTensor(DType::F32, shape, ++seed, -4.0, 4.0);
        const HostTensor w = randomTensor(wt, {N}, ++seed, 0.5, 1.5);
        OneOp o = oneOp("rms_norm", {x, w}, attrs({{"eps", 1e-5}}));
        expectBitExact(*o.module, {x, w}, std::string(dtypeName(wt)) + " " + shapeString(shape));
      }
}

TEST(KernelsRmsNorm, WeightOperandAndSpecialRows) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const HostTensor x = f32Tensor({4, 4}, {0, 0, 0, 0,             // mean 0: r = 1 / sqrt(eps)
                                          1e20f, -1e20f, 3, 0,    // squares overflow f32, not f64
                                          1, nan, 2, 3,           // NaN spreads over the row
                                          1e-30f, 2e-30f, 0, -1e-30f});
  std::vector<uint8_t> wbytes(16);
  const float wv[4] = {1.0f, 0.5f, -2.0f, 3.0f};
  std::memcpy(wbytes.data(), wv, 16);
  OneOp o = oneOp("rms_norm", {x}, attrs({{"eps", 1e-6}}),
                  {makeOwnedWeight("w", TensorType::of(DType::F32, {4}), wbytes)});
  expectBitExact(*o.module, {x}, "special rows");
}

TEST(KernelsRmsNorm, ThreadPool) {
  Pool pool(2);
  const HostTensor x = randomTensor(DType::F32, {67, 6912}, 7, -3.0, 3.0);
  const HostTensor w = randomTensor(DType::BF16, {6912}, 8, 0.5, 1.5);
  OneOp o = oneOp("rms_norm", {x, w}, attrs({{"eps", 1e-5}}));
  expectBitExact(*o.module, {x, w}, "rms_norm 67 x 6912 with a pool", pool.pool);
}

// rms_norm_quant (fuse-norm-quant's op) is rms_norm then act_quant: q and s bit for bit against
// the interpreter (which composes the two ops), for every weight type, sizes around the kernel's
// 256-element pieces, several rows, special rows, and a pool. A single ulp of difference in the
// normalized values would flip a q at a rounding tie on some of these rows.
TEST(KernelsRmsNormQuant, BitExactForEveryWeightType) {
  uint32_t seed = 300;
  for (DType wt : {DType::F32, DType::BF16, DType::F16})
    for (int64_t N : {1, 5, 255, 256, 257, 513, 2560, 6912})
      for (std::vector<int64_t> lead : {std::vector<int64_t>{1}, {3}, {2, 3}}) {
        std::vector<int64_t> shape = lead;
        shape.push_back(N);
        const HostTensor x = randomTensor(DType::F32, shape, ++seed, -4.0, 4.0);
        const HostTensor w = randomTensor(wt, {N}, ++seed, -1.5, 1.5);
        OneOp o = oneOp("rms_norm_quant", {x, w}, attrs({{"eps", 1e-5}}));
        expectBitExact(*o.module, {x, w}, std::string(dtypeName(wt)) + " " + shapeString(shape));
      }
}

TEST(KernelsRmsNormQuant, SpecialRowsAndPool) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const HostTensor x = f32Tensor({4, 4}, {0, 0, 0, 0,             // all zero: absmax 0
                                          1e20f, -1e20f, 3, 0,    // squares overflow f32, not f64
                                          1, nan, 2, 3,           // NaN spreads over the row
                                          1e-30f, 2e-30f, 0, -1e-30f});
  const HostTensor w = f32Tensor({4}, {1.0f, 0.5f, -2.0f, 3.0f});
  OneOp o = oneOp("rms_norm_quant", {x, w}, attrs({{"eps", 1e-6}}));
  expectBitExact(*o.module, {x, w}, "special rows");
  Pool pool(3);
  const HostTensor xb = randomTensor(DType::F32, {97, 2560}, 9, -8.0, 8.0);
  const HostTensor wb = randomTensor(DType::BF16, {2560}, 10, 0.5, 1.5);
  OneOp ob = oneOp("rms_norm_quant", {xb, wb}, attrs({{"eps", 1e-5}}));
  expectBitExact(*ob.module, {xb, wb}, "97 x 2560 with a pool", pool.pool);
}
