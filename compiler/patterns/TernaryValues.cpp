#include "compiler/patterns/TernaryValues.h"

#include <cmath>
#include <sstream>

#include "compiler/patterns/PatternUtils.h"

namespace bitnetc {

namespace {


std::string pair(int64_t i, int64_t j) { return "[" + std::to_string(i) + ", " + std::to_string(j) + "]"; }

bool isConstant(const Value* v, std::string_view role, std::string& why) {
  if (v->isWeight() && v->weight) return true;
  why = "its " + std::string(role) + " " + v->ref() + " is computed, not a constant";
  return false;
}

// Element i of an integer weight (i8, u8, i32, i64) as int64.
int64_t intAt(const Weight& w, int64_t i) {
  switch (w.type.dtype) {
    case DType::I8: return reinterpret_cast<const int8_t*>(w.data)[i];
    case DType::U8: return w.data[i];
    case DType::I32: return reinterpret_cast<const int32_t*>(w.data)[i];
    case DType::I64: return reinterpret_cast<const int64_t*>(w.data)[i];
    default: return 0;
  }
}

}  // namespace

// Classifies a matrix stored row-major as [rows, cols] = [K, N] (kn) or [N, K], element i read by
// value(i), in storage order (one pass, sequential reads: a 2560 x 6912 weight takes ~0.1 s).
template <typename Get>
std::optional<TernaryValues> classify(int64_t rows, int64_t cols, bool kn, Get value, const std::string& what,
                                      std::string& why) {
  TernaryValues r;
  r.n = kn ? cols : rows;
  r.k = kn ? rows : cols;
  r.t.resize(size_t(r.n * r.k));
  std::vector<float> column(size_t(r.n), 0.0f);  // magnitude per output channel, 0 = none yet
  bool single = true;
  float first = 0.0f;
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < cols; ++j) {
      const float v = value(i * cols + j);
      const int64_t n = kn ? j : i, k = kn ? i : j;
      int8_t t = 0;
      if (v != 0.0f) {
        if (!std::isfinite(v)) {
          why = what + " holds " + numberText(v) + " at " + pair(i, j);
          return std::nullopt;
        }
        const float mag = std::fabs(v);
        if (first == 0.0f) first = mag;
        single = single && mag == first;
        float& c = column[size_t(n)];
        if (c == 0.0f) c = mag;
        if (mag != c) {
          why = what + " is not ternary times one scale per output channel: " + pair(i, j) + " = " + numberText(v) +
                " but another element of output channel " + std::to_string(n) + " has magnitude " + numberText(c);
          return std::nullopt;
        }
        t = v > 0 ? 1 : -1;
      }
      r.t[size_t(n * r.k + k)] = t;
    }
  }
  if (first != 0.0f) r.a = first;
  if (!single) {
    for (float& c : column)
      if (c == 0.0f) c = 1.0f;  // an all-zero channel: any scale
    r.columnScales = std::move(column);
  }
  return r;
}

std::optional<TernaryValues> floatWeightTernary(const Value* b, bool transposed, std::string& why) {
  if (!isConstant(b, "weight", why)) return std::nullopt;
  const Weight& w = *b->weight;
  if ((!isFloat(w.type.dtype) && !w.isTernary()) || w.type.rank() != 2) {
    why = "its weight " + b->ref() + " is " + w.type.str() + ", expected a 2-D float or ternary weight";
    return std::nullopt;
  }
  const int64_t rows = w.type.dims[0].size, cols = w.type.dims[1].size;
  const std::string what = "its weight " + b->ref();
  if (w.type.dtype == DType::F32) {
    const float* data = reinterpret_cast<const float*>(w.data);
    return classify(rows, cols, !transposed, [&](int64_t i) { return data[i]; }, what, why);
  }
  if (!w.isTernary()) return classify(rows, cols, !transposed, [&](int64_t i) { return w.floatAt(i); }, what, why);
  // A ternary weight's values, as matmul reads them: T * ws, T / ws or T (one f32 operation).
  const std::vector<int8_t> ternary = w.unpackTernary();
  auto element = [&](int64_t i) {
    const float t = float(ternary[size_t(i)]);
    return w.scaleRule == ScaleRule::Mul ? t * w.scale : w.scaleRule == ScaleRule::Div ? t / w.scale : t;
  };
  return classify(rows, cols, !transposed, element, what, why);
}

std::optional<TernaryValues> integerWeightTernary(const Value* b, const Value* zeroPoint, std::string& why) {
  if (!isConstant(b, "weight", why) || !isConstant(zeroPoint, "weight zero point", why)) return std::nullopt;
  const Weight& w = *b->weight;
  if ((w.type.dtype != DType::I8 && w.type.dtype != DType::U8) || w.type.rank() != 2) {
    why = "its weight " + b->ref() + " is " + w.type.str() + ", expected a 2-D i8/u8 weight";
    return std::nullopt;
  }
  const int64_t K = w.type.dims[0].size, N = w.type.dims[1].size;
  const Weight& z = *zeroPoint->weight;
  const bool perColumn = z.type.rank() == 1 && z.type.dims[0].size == N && N != 1;
  if (!isScalarLike(z.type) && !perColumn) {
    why = "its weight zero point " + zeroPoint->ref() + " is " + z.type.str() + ", expected a scalar or [N]";
    return std::nullopt;
  }
  return classify(
      K, N, true, [&](int64_t i) { return float(intAt(w, i) - intAt(z, perColumn ? i % N : 0)); },
      "its weight " + b->ref() + " minus its zero point", why);
}

std::optional<TernaryValues> nbitsWeightTernary(const Op& op, std::string& why) {
  const Value *b = op.operand(1), *scales = op.operand(2), *zp = op.operand(3);
  if (!isConstant(b, "weight", why) || !isConstant(scales, "scales", why) || !isConstant(zp, "zero points", why))
    return std::nullopt;
  const int64_t K = op.attrs.getInt("K"), N = op.attrs.getInt("N"), bits = op.attrs.getInt("bits"),
                block = op.attrs.getInt("block_size");
  if (bits != 2 || block <= 0 || block % 4 != 0) {
    why = "it has bits = " + std::to_string(bits) + ", block_size = " + std::to_string(block) +
          " (only bits = 2 with blocks of whole bytes is ternary)";
    return std::nullopt;
  }
  const int64_t blocks = (K + block - 1) / block, blob = block / 4, zpRow = (blocks + 3) / 4;
  const Weight &wb = *b->weight, &ws = *scales->weight, &wz = *zp->weight;
  if (wb.type.dtype != DType::U8 || wb.numElements() != N * blocks * blob || !isFloat(ws.type.dtype) ||
      ws.numElements() != N * blocks || wz.type.dtype != DType::U8 || wz.numElements() != N * zpRow) {
    why = "its operands do not have MatMulNBits' packed shapes for K = " + std::to_string(K) + ", N = " +
          std::to_string(N) + ", block_size = " + std::to_string(block);
    return std::nullopt;
  }
  auto value = [&](int64_t idx) {  // element idx of the dequantized [N, K]
    const int64_t n = idx / K, k = idx % K, j = k / block, i = k % block;
    const int code = (wb.data[(n * blocks + j) * blob + i / 4] >> (2 * (i % 4))) & 3;
    const int zero = (wz.data[n * zpRow + j / 4] >> (2 * (j % 4))) & 3;
    return float(code - zero) * ws.floatAt(n * blocks + j);
  };
  return classify(N, K, false, value, "its dequantized weight " + b->ref(), why);
}

}  // namespace bitnetc
