// matmul kernel against the interpreter. The kernel sums in f32, the interpreter in f64, so each
// element is checked against the rigorous bound of an f32 dot product in any order:
// |got - ref| <= (K + 2) * 2^-24 * sum_k |a_k b_k| (the sum of magnitudes comes from the
// interpreter run on |a|, |b|). Covers f32/bf16/f16 b, b as a weight or a value, transpose_b,
// batched b, rank-1 a, edge sizes, and the LM-head shape (K = 2560, bf16) over a pool.
#include "kernels_test_util.h"

using namespace bitnetc;
using namespace bitnetc::kerneltest;

namespace {

HostTensor absolute(const HostTensor& h) {
  HostTensor a = h;
  const size_t es = dtypeSize(h.dtype);
  for (int64_t i = 0; i < h.numElements(); ++i) a.bytes[size_t(i) * es + es - 1] &= 0x7f;  // sign bit
  return a;
}

Weight weightOf(const HostTensor& h) {
  std::vector<Dim> dims;
  for (int64_t d : h.shape) dims.push_back(Dim::fixed(d));
  return makeOwnedWeight("b", TensorType(h.dtype, dims), h.bytes);
}

void checkMatmul(const HostTensor& a, const HostTensor& b, bool transposeB, bool bAsWeight, bitnet_pool* pool,
                 const std::string& what) {
  const int64_t K = a.shape.back();
  AttributeList at;
  if (transposeB) at.set("transpose_b", true);
  OneOp o = bAsWeight ? oneOp("matmul", {a}, at, {weightOf(b)}) : oneOp("matmul", {a, b}, at);
  const std::vector<HostTensor> inputs = bAsWeight ? std::vector<HostTensor>{a} : std::vector<HostTensor>{a, b};
  const BothOutputs both = runBoth(*o.module, inputs, pool);
  ASSERT_EQ(both.actual.size(), 1u) << what;
  const HostTensor& got = both.actual[0];
  const HostTensor& ref = both.expected[0];
  ASSERT_EQ(got.shape, ref.shape) << what;
  OneOp oa = bAsWeight ? oneOp("matmul", {absolute(a)}, at, {weightOf(absolute(b))})
                       : oneOp("matmul", {absolute(a), absolute(b)}, at);
  Interpreter absInterp(*oa.module, *oa.f);
  const HostTensor mag = absInterp.run(bAsWeight ? std::vector<HostTensor>{absolute(a)}
                                                 : std::vector<HostTensor>{absolute(a), absolute(b)})[0];
  for (int64_t i = 0; i < got.numElements(); ++i) {
    const double bound = double(K + 2) * std::ldexp(1.0, -24) * mag.as<float>()[i] + 1e-37;
    ASSERT_LE(std::fabs(double(got.as<float>()[i]) - double(ref.as<float>()[i])), bound)
        << what << ": element " << i << " got " << got.as<float>()[i] << ", expected " << ref.as<float>()[i];
  }
}

}  // namespace

TEST(KernelsMatmul, EdgeSizesEveryBType) {
  uint32_t seed = 1;
  for (DType bt : {DType::F32, DType::BF16, DType::F16})
    for (int64_t K : {1, 3, 4, 5, 63, 64, 65, 127, 255, 257, 2560})
      for (int64_t N : {1, 3, 4, 5, 17, 257})
        for (int64_t M : {1, 2, 5})
          for (bool trans : {false, true}) {
            const bool asWeight = (K + N + M) % 2 == 0;
            const HostTensor a = randomTensor(DType::F32, {M, K}, ++seed);
            const HostTensor b = randomTensor(bt, trans ? std::vector<int64_t>{N, K} : std::vector<int64_t>{K, N}, ++seed);
            checkMatmul(a, b, trans, asWeight, nullptr,
                        std::string(dtypeName(bt)) + " M=" + std::to_string(M) + " K=" + std::to_string(K) +
                            " N=" + std::to_string(N) + (trans ? " transposed" : ""));
          }
}

TEST(KernelsMatmul, RanksAndBatches) {
  uint32_t seed = 100;
  // a of rank 1 and 3 against a 2-D b.
  checkMatmul(randomTensor(DType::F32, {37}, 1), randomTensor(DType::F32, {37, 9}, 2), false, false, nullptr, "rank-1 a");
  checkMatmul(randomTensor(DType::F32, {37}, 3), randomTensor(DType::BF16, {9, 37}, 4), true, true, nullptr, "rank-1 a, b^T");
  checkMatmul(randomTensor(DType::F32, {2, 3, 37}, 5), randomTensor(DType::F16, {37, 11}, 6), false, true, nullptr, "rank-3 a");
  // Batched: b has a's leading dims.
  for (bool trans : {false, true}) {
    const HostTensor a = randomTensor(DType::F32, {2, 3, 5, 19}, ++seed);
    const HostTensor b = randomTensor(DType::F32, trans ? std::vector<int64_t>{2, 3, 7, 19} : std::vector<int64_t>{2, 3, 19, 7}, ++seed);
    checkMatmul(a, b, trans, false, nullptr, trans ? "batched transposed" : "batched");
  }
  const HostTensor a = randomTensor(DType::F32, {4, 6, 300}, ++seed);
  checkMatmul(a, randomTensor(DType::BF16, {4, 300, 70}, ++seed), false, false, nullptr, "batched bf16");
}

TEST(KernelsMatmul, LmHeadShapeOverAPool) {
  Pool pool(3);
  const HostTensor table = randomTensor(DType::BF16, {4099, 2560}, 7, -0.1, 0.1);
  for (int64_t M : {1, 6}) {
    const HostTensor h = randomTensor(DType::F32, {M, 2560}, 8 + uint32_t(M), -3.0, 3.0);
    checkMatmul(h, table, true, true, pool.pool, "logits M=" + std::to_string(M));
  }
  checkMatmul(randomTensor(DType::F32, {9, 600}, 20), randomTensor(DType::F32, {600, 1500}, 21), false, false,
              pool.pool, "plain 9x600x1500 with a pool");
}
