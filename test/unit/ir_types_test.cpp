#include <gtest/gtest.h>

#include <cmath>

#include "compiler/ir/IR.h"

namespace bitnetc {

TEST(Types, PrintsTensorAndTernaryTypes) {
  TensorType t(DType::F32, {Dim::dynamic("seq", 128), Dim::fixed(64)});
  EXPECT_EQ(t.str(), "tensor<?seq x 64 x f32>");
  EXPECT_EQ(TensorType::of(DType::Ternary, {8, 16}).str(), "ternary<8 x 16>");
  EXPECT_EQ(TensorType::of(DType::I64, {}).str(), "tensor<i64>");
  EXPECT_FALSE(t.isStatic());
  EXPECT_EQ(t.numElementsUpperBound(), 128 * 64);
}

TEST(Weights, HFBlockedPackingRoundTripsAndMatchesTheFormula) {
  const int64_t out = 10, in = 3;  // out not a multiple of 4: the last block is padded
  std::vector<int8_t> values(out * in);
  for (size_t i = 0; i < values.size(); ++i) values[i] = int8_t(int(i * 7 % 3) - 1);
  Weight w = makeTernaryWeight("w", out, in, values, kLayoutHFBlocked, ScaleRule::Mul, 1.5f);
  ASSERT_EQ(w.byteSize, size_t(3 * in));
  EXPECT_EQ(w.unpackTernary(), values);
  const int64_t rows = 3;  // R = ceil(10 / 4)
  for (int64_t row = 0; row < out; ++row)
    for (int64_t c = 0; c < in; ++c)
      EXPECT_EQ(((w.data[(row % rows) * in + c] >> (2 * (row / rows))) & 3) - 1, values[row * in + c]);
}

TEST(Weights, Bf16AndF16Conversions) {
  EXPECT_EQ(bf16ToFloat(floatToBf16(1.5f)), 1.5f);
  EXPECT_EQ(floatToBf16(1.0f + 1.0f / 256), floatToBf16(1.0f));  // tie rounds to even
  EXPECT_EQ(f16ToFloat(floatToF16(0.333251953125f)), 0.333251953125f);
  EXPECT_EQ(f16ToFloat(floatToF16(65504.0f)), 65504.0f);
  EXPECT_EQ(f16ToFloat(0x0001), std::ldexp(1.0f, -24));
  for (uint32_t h = 0; h < 0x7c00; ++h) EXPECT_EQ(floatToF16(f16ToFloat(uint16_t(h))), h);
}

}  // namespace bitnetc
