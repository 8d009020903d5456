// Data-movement and lookup kernels against the interpreter, bit-exact: transpose (ranks 1-8,
// element sizes 1/2/4/8), reshape, concat along every axis, gather (i32/i64 indices of rank
// 0-2, negative indices, every axis), embedding (f32/bf16/f16 tables); and their errors: an
// embedding id outside the vocabulary (BITNET_ERR_TOKEN_OUT_OF_RANGE), a gather index outside
// its dim (BITNET_ERR_INVALID_ARGUMENT), each message naming the op and the id.
#include <algorithm>
#include <numeric>

#include "kernels_test_util.h"

using namespace bitnetc;
using namespace bitnetc::kerneltest;

namespace {

HostTensor indices(DType t, std::vector<int64_t> shape, const std::vector<int64_t>& v) {
  HostTensor h = HostTensor::zeros(t, std::move(shape));
  for (size_t i = 0; i < v.size(); ++i) {
    if (t == DType::I32) h.as<int32_t>()[i] = int32_t(v[i]);
    else h.as<int64_t>()[i] = v[i];
  }
  return h;
}

Weight tableWeight(const HostTensor& h) {
  std::vector<Dim> dims;
  for (int64_t d : h.shape) dims.push_back(Dim::fixed(d));
  return makeOwnedWeight("table", TensorType(h.dtype, dims), h.bytes);
}

}  // namespace

TEST(KernelsShape, TransposeEveryRankAndElementSize) {
  std::mt19937 rng(3);
  uint32_t seed = 1;
  for (size_t rank = 1; rank <= 8; ++rank)
    for (DType t : {DType::I8, DType::BF16, DType::F32, DType::I64})
      for (int trial = 0; trial < 3; ++trial) {
        std::vector<int64_t> shape(rank), perm(rank);
        for (int64_t& d : shape) d = 1 + int64_t(rng() % (rank > 5 ? 3 : 6));
        std::iota(perm.begin(), perm.end(), 0);
        std::shuffle(perm.begin(), perm.end(), rng);
        const HostTensor x = randomTensor(t, shape, ++seed);
        OneOp o = oneOp("transpose", {x}, attrs({{"perm", perm}}));
        expectBitExact(*o.module, {x}, "transpose " + shapeString(shape) + " perm " + shapeString(perm));
      }
  Pool pool(2);
  const HostTensor big = randomTensor(DType::F32, {300, 257, 3}, 9);
  OneOp o = oneOp("transpose", {big}, attrs({{"perm", std::vector<int64_t>{2, 0, 1}}}));
  expectBitExact(*o.module, {big}, "transpose 300x257x3 with a pool", pool.pool);
}

TEST(KernelsShape, Reshape) {
  const HostTensor x = randomTensor(DType::I32, {4, 6}, 1);
  for (const std::vector<int64_t>& shape : {std::vector<int64_t>{24}, {-1, 3}, {0, 2, 3}, {2, 2, 2, 3}, {1, 24, 1}}) {
    OneOp o = oneOp("reshape", {x}, attrs({{"shape", shape}}));
    expectBitExact(*o.module, {x}, "reshape to " + shapeString(shape));
  }
}

TEST(KernelsShape, ConcatEveryAxis) {
  uint32_t seed = 20;
  for (DType t : {DType::F32, DType::BF16, DType::I8, DType::I64})
    for (int64_t axis = -3; axis < 3; ++axis) {
      const int64_t a = axis < 0 ? axis + 3 : axis;
      std::vector<HostTensor> parts;
      for (int64_t len : {2, 1, 3}) {
        std::vector<int64_t> shape = {3, 4, 5};
        shape[size_t(a)] = len;
        parts.push_back(randomTensor(t, shape, ++seed));
      }
      OneOp o = oneOp("concat", parts, attrs({{"axis", axis}}));
      expectBitExact(*o.module, parts, std::string(dtypeName(t)) + " concat axis " + std::to_string(axis));
      OneOp single = oneOp("concat", {parts[0]}, attrs({{"axis", axis}}));
      expectBitExact(*single.module, {parts[0]}, "concat of one operand");
    }
}

TEST(KernelsShape, GatherEveryAxisAndIndexType) {
  uint32_t seed = 40;
  const HostTensor data = randomTensor(DType::F32, {5, 4, 3}, ++seed);
  for (DType it : {DType::I32, DType::I64})
    for (int64_t axis = -3; axis < 3; ++axis) {
      const int64_t len = data.shape[size_t(axis < 0 ? axis + 3 : axis)];
      const std::vector<HostTensor> idxs = {indices(it, {}, {len - 1}), indices(it, {4}, {0, -1, len - 1, -len}),
                                            indices(it, {2, 3}, {1 % len, 0, -2 % len, len - 1, 0, 0})};
      for (const HostTensor& idx : idxs) {
        OneOp o = oneOp("gather", {data, idx}, attrs({{"axis", axis}}));
        expectBitExact(*o.module, {data, idx},
                       std::string(dtypeName(it)) + " gather axis " + std::to_string(axis) + " indices " + shapeString(idx.shape));
      }
    }
  // Other element types.
  const HostTensor bytes = randomTensor(DType::U8, {6, 7}, ++seed);
  const HostTensor idx = indices(DType::I64, {3}, {5, 0, -6});
  OneOp o = oneOp("gather", {bytes, idx}, attrs({{"axis", int64_t(0)}}));
  expectBitExact(*o.module, {bytes, idx}, "u8 gather");
  const HostTensor bf = randomTensor(DType::BF16, {9, 4}, ++seed);
  OneOp obf = oneOp("gather", {bf, idx}, attrs({{"axis", int64_t(0)}}));
  expectBitExact(*obf.module, {bf, idx}, "bf16 gather");
}

TEST(KernelsShape, GatherIndexOutOfRangeIsAnError) {
  const HostTensor data = randomTensor(DType::F32, {5, 4}, 1);
  for (int64_t bad : {5, -6, 1000}) {
    const HostTensor idx = indices(DType::I64, {3}, {0, bad, 1});
    OneOp o = oneOp("gather", {data, idx}, attrs({{"axis", int64_t(0)}}));
    KernelRunner runner(*o.module, *o.f);
    EXPECT_TRUE(runner.run({data, idx}).empty());
    EXPECT_EQ(runner.status, BITNET_ERR_INVALID_ARGUMENT);
    EXPECT_NE(runner.error.find("op %y0 = gather"), std::string::npos) << runner.error;
    EXPECT_NE(runner.error.find("index " + std::to_string(bad) + " is out of range for dim 5"), std::string::npos)
        << runner.error;
  }
}

TEST(KernelsEmbedding, EveryTableType) {
  uint32_t seed = 60;
  Pool pool(2);
  for (DType t : {DType::F32, DType::BF16, DType::F16})
    for (int64_t H : {1, 5, 64, 2560}) {
      const HostTensor table = randomTensor(t, {37, H}, ++seed);
      const HostTensor ids = indices(DType::I32, {6}, {0, 36, 5, 5, 17, 1});
      OneOp o = oneOp("embedding", {ids}, {}, {tableWeight(table)});
      expectBitExact(*o.module, {ids}, std::string(dtypeName(t)) + " H=" + std::to_string(H), pool.pool);
    }
  const HostTensor table = randomTensor(DType::BF16, {10, 8}, 99);
  const HostTensor none = indices(DType::I32, {0}, {});
  OneOp o = oneOp("embedding", {none, table});
  expectBitExact(*o.module, {none, table}, "no tokens");
}

TEST(KernelsEmbedding, TokenOutOfRangeIsAnError) {
  const HostTensor table = randomTensor(DType::F32, {10, 4}, 1);
  for (int64_t bad : {10, -1, 2147483647}) {
    const HostTensor ids = indices(DType::I32, {3}, {1, bad, 2});
    OneOp o = oneOp("embedding", {ids}, {}, {tableWeight(table)});
    KernelRunner runner(*o.module, *o.f);
    EXPECT_TRUE(runner.run({ids}).empty());
    EXPECT_EQ(runner.status, BITNET_ERR_TOKEN_OUT_OF_RANGE);
    EXPECT_NE(runner.error.find("op %y0 = embedding"), std::string::npos) << runner.error;
    EXPECT_NE(runner.error.find("token id " + std::to_string(bad) + " is out of range for the vocabulary size 10"),
              std::string::npos)
        << runner.error;
  }
}
