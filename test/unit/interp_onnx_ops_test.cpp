// The ops and element types added for ONNX graphs, through the interpreter, against
// hand-computed values (numpy / the ONNX operator docs): comparisons and where, integer division
// and widths, pow with an integer exponent, cast across kinds, expand/range/slice with dynamic
// result dims, trilu, shape, layer_norm, matmul_integer, matmul_nbits and matmul on ternary.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "compiler/interp/Interpreter.h"
#include "compiler/ir/Parser.h"
#include "compiler/support/Error.h"

using namespace bitnetc;

namespace {

template <typename T>
HostTensor tensor(DType t, std::vector<int64_t> shape, std::vector<T> v) {
  HostTensor h = HostTensor::zeros(t, std::move(shape));
  EXPECT_EQ(h.bytes.size(), v.size() * sizeof(T));
  std::memcpy(h.bytes.data(), v.data(), h.bytes.size());
  return h;
}

template <typename T>
std::vector<T> values(const HostTensor& h) {
  return std::vector<T>(h.as<T>(), h.as<T>() + h.numElements());
}

// Runs @f of `body` (the text after "bir 1\n") on the inputs.
std::vector<HostTensor> run(const std::string& body, const std::vector<HostTensor>& inputs) {
  auto m = parseModule("bir 1\n" + body, "test.bir");
  Interpreter in(*m, *m->function("f"));
  return in.run(inputs);
}

std::string runError(const std::string& body, const std::vector<HostTensor>& inputs) {
  try {
    run(body, inputs);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

const float kNaN = std::numeric_limits<float>::quiet_NaN();

}  // namespace

TEST(InterpOnnxOps, CompareBroadcastsAndNaNComparesFalse) {
  const std::string body = R"(
func @f(%a: tensor<2 x 3 x f32>, %b: tensor<3 x f32>) -> (tensor<2 x 3 x bool>, tensor<2 x 3 x bool>, tensor<2 x 3 x bool>) {
  %e = equal(%a, %b) : tensor<2 x 3 x bool>
  %l = less(%a, %b) : tensor<2 x 3 x bool>
  %g = greater(%a, %b) : tensor<2 x 3 x bool>
  return %e, %l, %g
})";
  auto r = run(body, {tensor<float>(DType::F32, {2, 3}, {1, 2, kNaN, -0.0f, 5, 6}),
                      tensor<float>(DType::F32, {3}, {0.0f, 2, 3})});
  EXPECT_EQ(values<uint8_t>(r[0]), (std::vector<uint8_t>{0, 1, 0, 1, 0, 0}));
  EXPECT_EQ(values<uint8_t>(r[1]), (std::vector<uint8_t>{0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(values<uint8_t>(r[2]), (std::vector<uint8_t>{1, 0, 0, 0, 1, 1}));
}

TEST(InterpOnnxOps, UnsignedCompareAndMaxUseUnsignedOrder) {
  const std::string body = R"(
func @f(%a: tensor<2 x u64>, %b: tensor<2 x u64>) -> (tensor<2 x bool>, tensor<2 x u64>) {
  %l = less(%a, %b) : tensor<2 x bool>
  %m = max(%a, %b) : tensor<2 x u64>
  return %l, %m
})";
  const uint64_t big = 18446744073709551615ull;
  auto r = run(body, {tensor<uint64_t>(DType::U64, {2}, {1, big}), tensor<uint64_t>(DType::U64, {2}, {big, 2})});
  EXPECT_EQ(values<uint8_t>(r[0]), (std::vector<uint8_t>{1, 0}));
  EXPECT_EQ(values<uint64_t>(r[1]), (std::vector<uint64_t>{big, big}));
}

TEST(InterpOnnxOps, WhereBroadcastsAllThree) {
  const std::string body = R"(
func @f(%c: tensor<2 x 1 x bool>, %a: tensor<3 x i64>, %b: tensor<i64>) -> (tensor<2 x 3 x i64>) {
  %y = where(%c, %a, %b) : tensor<2 x 3 x i64>
  return %y
})";
  auto r = run(body, {tensor<uint8_t>(DType::Bool, {2, 1}, {1, 0}), tensor<int64_t>(DType::I64, {3}, {1, 2, 3}),
                      tensor<int64_t>(DType::I64, {}, {-9})});
  EXPECT_EQ(values<int64_t>(r[0]), (std::vector<int64_t>{1, 2, 3, -9, -9, -9}));
}

TEST(InterpOnnxOps, IntegerDivisionTruncatesAndWraps) {
  const std::string body = R"(
func @f(%a: tensor<4 x i32>, %b: tensor<4 x i32>, %c: tensor<2 x i8>, %d: tensor<2 x u8>) -> (tensor<4 x i32>, tensor<2 x i8>, tensor<2 x u8>, tensor<2 x u8>) {
  %q = div(%a, %b) : tensor<4 x i32>
  %n = div(%c, %c) : tensor<2 x i8>
  %w = add(%d, %d) : tensor<2 x u8>
  %u = div(%d, %d) : tensor<2 x u8>
  return %q, %n, %w, %u
})";
  auto r = run(body, {tensor<int32_t>(DType::I32, {4}, {7, -7, 7, -7}), tensor<int32_t>(DType::I32, {4}, {2, 2, -2, -2}),
                      tensor<int8_t>(DType::I8, {2}, {-128, 5}), tensor<uint8_t>(DType::U8, {2}, {200, 3})});
  EXPECT_EQ(values<int32_t>(r[0]), (std::vector<int32_t>{3, -3, -3, 3}));
  EXPECT_EQ(values<int8_t>(r[1]), (std::vector<int8_t>{1, 1}));
  EXPECT_EQ(values<uint8_t>(r[2]), (std::vector<uint8_t>{144, 6}));  // 400 wraps to 144
  EXPECT_EQ(values<uint8_t>(r[3]), (std::vector<uint8_t>{1, 1}));
  const std::string byMinusOne = R"(
func @f(%a: tensor<2 x i8>, %b: tensor<2 x i8>) -> (tensor<2 x i8>) {
  %q = div(%a, %b) : tensor<2 x i8>
  return %q
})";
  EXPECT_EQ(values<int8_t>(run(byMinusOne, {tensor<int8_t>(DType::I8, {2}, {-128, 100}), tensor<int8_t>(DType::I8, {2}, {-1, -7})})[0]),
            (std::vector<int8_t>{-128, -14}));
  EXPECT_NE(runError(byMinusOne, {tensor<int8_t>(DType::I8, {2}, {1, 2}), tensor<int8_t>(DType::I8, {2}, {1, 0})})
                .find("integer division by zero"), std::string::npos);
}

TEST(InterpOnnxOps, PowWithIntegerExponentsAndBases) {
  const std::string body = R"(
func @f(%x: tensor<3 x f32>, %i: tensor<3 x i32>, %l: tensor<3 x i64>, %y: tensor<3 x f32>) -> (tensor<3 x f32>, tensor<3 x i32>, tensor<3 x i64>) {
  %a = pow(%x, %i) : tensor<3 x f32>
  %b = pow(%i, %i) : tensor<3 x i32>
  %c = pow(%l, %y) : tensor<3 x i64>
  return %a, %b, %c
})";
  // ONNX's pow_types tests: [1, 2, 3] ** [4, 5, 6] = [1, 32, 729]; a float exponent truncates.
  auto r = run(body, {tensor<float>(DType::F32, {3}, {1, 2, 3}), tensor<int32_t>(DType::I32, {3}, {4, 5, 6}),
                      tensor<int64_t>(DType::I64, {3}, {1, 2, 3}), tensor<float>(DType::F32, {3}, {4, 5, 0.5f})});
  EXPECT_EQ(values<float>(r[0]), (std::vector<float>{1, 32, 729}));
  EXPECT_EQ(values<int32_t>(r[1]), (std::vector<int32_t>{256, 3125, 46656}));
  EXPECT_EQ(values<int64_t>(r[2]), (std::vector<int64_t>{1, 32, 1}));  // 3 ** 0.5 = 1.73 -> 1
}

TEST(InterpOnnxOps, CastAcrossKinds) {
  const std::string body = R"(
func @f(%x: tensor<4 x f32>, %d: tensor<2 x f64>, %u: tensor<2 x u64>, %i: tensor<2 x i32>) -> (tensor<4 x bool>, tensor<4 x f32>, tensor<2 x f32>, tensor<4 x f16>, tensor<2 x i8>, tensor<2 x u64>, tensor<4 x i32>) {
  %b = cast(%x) {to = "bool"} : tensor<4 x bool>
  %bf = cast(%b) {to = "f32"} : tensor<4 x f32>
  %df = cast(%d) {to = "f32"} : tensor<2 x f32>
  %h = cast(%x) {to = "f16"} : tensor<4 x f16>
  %s = cast(%u) {to = "i8"} : tensor<2 x i8>
  %n = cast(%i) {to = "u64"} : tensor<2 x u64>
  %r = cast(%x) {to = "i32"} : tensor<4 x i32>
  return %b, %bf, %df, %h, %s, %n, %r
})";
  auto r = run(body, {tensor<float>(DType::F32, {4}, {0.0f, -0.0f, -2.7f, kNaN}), tensor<double>(DType::F64, {2}, {0.1, 1e300}),
                      tensor<uint64_t>(DType::U64, {2}, {5, 18446744073709551615ull}), tensor<int32_t>(DType::I32, {2}, {-1, 7})});
  EXPECT_EQ(values<uint8_t>(r[0]), (std::vector<uint8_t>{0, 0, 1, 1}));  // NaN is true
  EXPECT_EQ(values<float>(r[1]), (std::vector<float>{0, 0, 1, 1}));
  EXPECT_EQ(values<float>(r[2]), (std::vector<float>{0.1f, std::numeric_limits<float>::infinity()}));
  EXPECT_EQ(values<uint16_t>(r[3]), (std::vector<uint16_t>{0x0000, 0x8000, 0xc166, 0x7e00}));
  EXPECT_EQ(values<int8_t>(r[4]), (std::vector<int8_t>{5, -1}));  // wraps (C, numpy, ONNX Runtime)
  EXPECT_EQ(values<uint64_t>(r[5]), (std::vector<uint64_t>{18446744073709551615ull, 7}));  // -1 wraps
  EXPECT_EQ(values<int32_t>(r[6]), (std::vector<int32_t>{0, 0, -2, 0}));  // truncates, NaN -> 0
}

TEST(InterpOnnxOps, ShapeFromDeclaredTypeOps) {
  const std::string body = R"(
dim ?n <= 8
weight @start : tensor<i64> = dense<[-3]>
weight @delta : tensor<i64> = dense<[2]>
weight @fs : tensor<f32> = dense<[0.5]>
weight @fd : tensor<f32> = dense<[-0.25]>
func @f(%x: tensor<?n x 4 x f32>, %row: tensor<4 x f32>) -> (tensor<?n x 4 x f32>, tensor<?n x i64>, tensor<3 x f32>, tensor<?n x 2 x f32>, tensor<2 x i64>) {
  %e = expand(%row) : tensor<?n x 4 x f32>
  %r = range(@start, @delta) : tensor<?n x i64>
  %rf = range(@fs, @fd) : tensor<3 x f32>
  %s = slice(%x) {starts = [-1], axes = [1], steps = [-2]} : tensor<?n x 2 x f32>
  %sh = shape(%x) : tensor<2 x i64>
  return %e, %r, %rf, %s, %sh
})";
  auto r = run(body, {tensor<float>(DType::F32, {3, 4}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}),
                      tensor<float>(DType::F32, {4}, {1, 2, 3, 4})});
  EXPECT_EQ(r[0].shape, (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(values<float>(r[0]), (std::vector<float>{1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4}));
  EXPECT_EQ(values<int64_t>(r[1]), (std::vector<int64_t>{-3, -1, 1}));
  EXPECT_EQ(values<float>(r[2]), (std::vector<float>{0.5f, 0.25f, 0.0f}));
  EXPECT_EQ(values<float>(r[3]), (std::vector<float>{3, 1, 7, 5, 11, 9}));  // x[:, -1::-2]
  EXPECT_EQ(values<int64_t>(r[4]), (std::vector<int64_t>{3, 4}));
}

TEST(InterpOnnxOps, SliceOutsideTheInputIsARunTimeError) {
  const std::string body = R"(
dim ?n <= 8
func @f(%x: tensor<?n x f32>, %y: tensor<3 x f32>) -> (tensor<3 x f32>) {
  %s = slice(%x) {starts = [1], axes = [0], steps = [2]} : tensor<3 x f32>
  %z = add(%s, %y) : tensor<3 x f32>
  return %z
})";
  const HostTensor y = tensor<float>(DType::F32, {3}, {0, 0, 0});
  EXPECT_EQ(values<float>(run(body, {tensor<float>(DType::F32, {6}, {0, 1, 2, 3, 4, 5}), y})[0]), (std::vector<float>{1, 3, 5}));
  const std::string e = runError(body, {tensor<float>(DType::F32, {5}, {0, 1, 2, 3, 4}), y});
  EXPECT_NE(e.find("reads 3 elements from index 1 in steps of 2 but the input dim is 5"), std::string::npos) << e;
}

TEST(InterpOnnxOps, TriluKeepsADiagonalBand) {
  const std::string body = R"(
func @f(%x: tensor<3 x 4 x i32>) -> (tensor<3 x 4 x i32>, tensor<3 x 4 x i32>) {
  %u = trilu(%x) {upper = true, k = 1} : tensor<3 x 4 x i32>
  %l = trilu(%x) {upper = false, k = -1} : tensor<3 x 4 x i32>
  return %u, %l
})";
  auto r = run(body, {tensor<int32_t>(DType::I32, {3, 4}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})});
  EXPECT_EQ(values<int32_t>(r[0]), (std::vector<int32_t>{0, 2, 3, 4, 0, 0, 7, 8, 0, 0, 0, 12}));
  EXPECT_EQ(values<int32_t>(r[1]), (std::vector<int32_t>{0, 0, 0, 0, 5, 0, 0, 0, 9, 10, 0, 0}));
}

TEST(InterpOnnxOps, LayerNormMatchesTheFloat64Formula) {
  const std::string body = R"(
weight @s : tensor<4 x f32> = dense<[1, 0.5, -2, 1.5]>
weight @b : tensor<4 x f32> = dense<[0, 0.25, 1, -1]>
func @f(%x: tensor<2 x 4 x f32>) -> (tensor<2 x 4 x f32>) {
  %y = layer_norm(%x, @s, @b) {axis = -1, eps = 1e-05} : tensor<2 x 4 x f32>
  return %y
})";
  const std::vector<float> x = {1, 2, 3, 4, -0.5f, 8, 0.25f, 3};
  auto y = values<float>(run(body, {tensor<float>(DType::F32, {2, 4}, x)})[0]);
  const double s[4] = {1, 0.5, -2, 1.5}, b[4] = {0, 0.25, 1, -1};
  for (int row = 0; row < 2; ++row) {
    double mean = 0, var = 0;
    for (int i = 0; i < 4; ++i) mean += x[row * 4 + i] / 4.0;
    for (int i = 0; i < 4; ++i) var += (x[row * 4 + i] - mean) * (x[row * 4 + i] - mean) / 4.0;
    for (int i = 0; i < 4; ++i) {
      const double want = (x[row * 4 + i] - mean) / std::sqrt(var + 1e-5) * s[i] + b[i];
      EXPECT_NEAR(y[size_t(row * 4 + i)], want, 1e-6) << row << ", " << i;
    }
  }
  // Row 0 by hand: mean 2.5, var 1.25, so y0 = -1.5 / sqrt(1.25001) = -1.3416355.
  EXPECT_NEAR(y[0], -1.3416355, 1e-6);
}

TEST(InterpOnnxOps, MatmulIntegerAsTheOnnxExample) {
  // onnx MatMulInteger's documented example.
  const std::string body = R"(
weight @az : tensor<u8> = dense<[12]>
weight @bz : tensor<u8> = dense<[0]>
func @f(%a: tensor<4 x 3 x u8>, %b: tensor<3 x 2 x u8>) -> (tensor<4 x 2 x i32>) {
  %y = matmul_integer(%a, %b, @az, @bz) : tensor<4 x 2 x i32>
  return %y
})";
  auto r = run(body, {tensor<uint8_t>(DType::U8, {4, 3}, {11, 7, 3, 10, 6, 2, 9, 5, 1, 8, 4, 0}),
                      tensor<uint8_t>(DType::U8, {3, 2}, {1, 4, 2, 5, 3, 6})});
  EXPECT_EQ(values<int32_t>(r[0]), (std::vector<int32_t>{-38, -83, -44, -98, -50, -113, -56, -128}));
  // Per-row / per-column zero points, i8 operands.
  const std::string perRow = R"(
weight @az : tensor<2 x i8> = dense<[1, -1]>
weight @bz : tensor<2 x i8> = dense<[0, 2]>
func @f(%a: tensor<2 x 2 x i8>, %b: tensor<2 x 2 x i8>) -> (tensor<2 x 2 x i32>) {
  %y = matmul_integer(%a, %b, @az, @bz) : tensor<2 x 2 x i32>
  return %y
})";
  // a - az = [[0, 1], [3, 5]], b - bz = [[1, -4], [-128, 125]]
  auto q = run(perRow, {tensor<int8_t>(DType::I8, {2, 2}, {1, 2, 2, 4}), tensor<int8_t>(DType::I8, {2, 2}, {1, -2, -128, 127})});
  EXPECT_EQ(values<int32_t>(q[0]), (std::vector<int32_t>{-128, 125, 3 - 640, -12 + 625}));
}

TEST(InterpOnnxOps, MatmulNBitsDequantizesTwoBitCodes) {
  // K = 4, N = 2, one block of 4: row 0 codes 0 1 2 3 (byte 0b11100100), zp 2, scale 0.5 ->
  // [-1, -0.5, 0, 0.5]; row 1 codes 3 3 0 1 (0b01001111), zp 1, scale 2 -> [4, 4, -2, 0].
  const std::string body = R"(
weight @b : tensor<2 x 1 x 1 x u8> = dense<[228, 79]>
weight @s : tensor<2 x f32> = dense<[0.5, 2]>
weight @z : tensor<2 x u8> = dense<[2, 1]>
func @f(%a: tensor<1 x 4 x f32>) -> (tensor<1 x 2 x f32>) {
  %y = matmul_nbits(%a, @b, @s, @z) {K = 4, N = 2, bits = 2, block_size = 4} : tensor<1 x 2 x f32>
  return %y
})";
  auto r = run(body, {tensor<float>(DType::F32, {1, 4}, {1, 2, 3, 4})});
  EXPECT_EQ(values<float>(r[0]), (std::vector<float>{0, 6}));
}

TEST(InterpOnnxOps, MatmulOnTernaryWeightsAppliesTheScaleRule) {
  const std::string body = R"(
weight @m : ternary<2 x 3> layout "hf_blocked_2bit" scale mul 1.5 = dense<[1, 0, -1, 0, 1, 1]>
weight @d : ternary<3 x 2> layout "i8" scale div 4.0 = dense<[1, 0, 0, -1, -1, 1]>
func @f(%a: tensor<1 x 3 x f32>) -> (tensor<1 x 2 x f32>, tensor<1 x 2 x f32>) {
  %y = matmul(%a, @m) {transpose_b = true} : tensor<1 x 2 x f32>
  %z = matmul(%a, @d) : tensor<1 x 2 x f32>
  return %y, %z
})";
  auto r = run(body, {tensor<float>(DType::F32, {1, 3}, {1, 2, 3})});
  EXPECT_EQ(values<float>(r[0]), (std::vector<float>{-3, 7.5f}));
  EXPECT_EQ(values<float>(r[1]), (std::vector<float>{(1 - 3) / 4.0f, (-2 + 3) / 4.0f}));
}

TEST(InterpOnnxOps, ReductionsOnWiderIntegers) {
  const std::string body = R"(
func @f(%a: tensor<2 x 2 x u16>, %b: tensor<3 x u64>) -> (tensor<2 x u16>, tensor<u64>) {
  %s = reduce_sum(%a) {axes = [1], keepdims = false} : tensor<2 x u16>
  %m = reduce_max(%b) {keepdims = false} : tensor<u64>
  return %s, %m
})";
  auto r = run(body, {tensor<uint16_t>(DType::U16, {2, 2}, {65535, 2, 7, 9}),
                      tensor<uint64_t>(DType::U64, {3}, {1, 9223372036854775808ull, 5})});
  EXPECT_EQ(values<uint16_t>(r[0]), (std::vector<uint16_t>{1, 16}));  // wraps
  EXPECT_EQ(values<uint64_t>(r[1]), (std::vector<uint64_t>{9223372036854775808ull}));
}
