// Reads the weight of a matmul-like op and decides, element by element, whether it is ternary
// times one scale (or one scale per output channel): the weight half of fuse-bitlinear's check.
// Three sources: a float weight of matmul ([K, N], or [N, K] with transpose_b), an integer
// weight of matmul_integer (with its zero point), and the packed 2-bit weight of matmul_nbits
// (codes, zero points and block scales, dequantized like com.microsoft MatMulNBits).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "compiler/ir/IR.h"

namespace bitnetc {

struct TernaryValues {
  std::vector<int8_t> t;  // [N, K] row-major (bitlinear's orientation)
  float a = 1.0f;         // the one magnitude of the non-zero elements (1 when all are zero)
  // [N] when the magnitudes differ between output channels (one per channel), else empty. A
  // per-output-channel scale factors out of the sum over k; a per-input-channel one does not.
  std::vector<float> columnScales;
  int64_t n = 0, k = 0;
};

// matmul's b: a float weight [K, N] (or [N, K] when transposed), or a ternary weight read as
// matmul reads it (its values T * ws, T / ws or T).
std::optional<TernaryValues> floatWeightTernary(const Value* b, bool transposed, std::string& why);
// matmul_integer's b: an i8/u8 weight [K, N] with a zero point (scalar-like or [N]) subtracted.
std::optional<TernaryValues> integerWeightTernary(const Value* b, const Value* zeroPoint, std::string& why);
// matmul_nbits (bits = 2): b u8 [N, blocks, block_size / 4], scales f32 [N * blocks] (or
// [N, blocks]), zero points u8 packed 4 a byte per row of blocks; dequant = (code - zp) * scale.
std::optional<TernaryValues> nbitsWeightTernary(const Op& op, std::string& why);

}  // namespace bitnetc
