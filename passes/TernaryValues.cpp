#include "passes/TernaryValues.h"

#include <cmath>
#include <sstream>

#include "passes/PatternUtils.h"

namespace bitnetc {

namespace {

std::string num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

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

std::optional<TernaryValues> classifyTernary(int64_t n, int64_t k, const std::function<float(int64_t, int64_t)>& value,
                                             const std::function<std::string(int64_t, int64_t)>& at,
                                             const std::string& what, std::string& why) {
  TernaryValues r;
  r.n = n;
  r.k = k;
  r.t.resize(size_t(n * k));
  std::vector<float> column(size_t(n), 0.0f);  // magnitude per output channel, 0 = none yet
  bool single = true;
  float first = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < k; ++j) {
      const float v = value(i, j);
      int8_t t = 0;
      if (v != 0.0f) {
        if (!std::isfinite(v)) {
          why = what + " holds " + num(v) + " at " + at(i, j);
          return std::nullopt;
        }
        const float mag = std::fabs(v);
        if (first == 0.0f) first = mag;
        single = single && mag == first;
        float& c = column[size_t(i)];
        if (c == 0.0f) c = mag;
        if (mag != c) {
          why = what + " is not ternary times one scale per output channel: " + at(i, j) + " = " + num(v) +
                " but another element of output channel " + std::to_string(i) + " has magnitude " + num(c);
          return std::nullopt;
        }
        t = v > 0 ? 1 : -1;
      }
      r.t[size_t(i * k + j)] = t;
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
  // A ternary weight's values, as matmul reads them: T * ws, T / ws or T (one f32 operation).
  std::vector<int8_t> ternary;
  if (w.isTernary()) ternary = w.unpackTernary();
  auto element = [&](int64_t i) {
    if (!w.isTernary()) return w.floatAt(i);
    const float t = float(ternary[size_t(i)]);
    return w.scaleRule == ScaleRule::Mul ? t * w.scale : w.scaleRule == ScaleRule::Div ? t / w.scale : t;
  };
  // Element (n, k) of the logical [N, K] matrix, at [k, n] of W (or [n, k] when transposed).
  auto index = [&](int64_t n, int64_t k) { return transposed ? n * cols + k : k * cols + n; };
  return classifyTernary(
      transposed ? rows : cols, transposed ? cols : rows, [&](int64_t n, int64_t k) { return element(index(n, k)); },
      [&](int64_t n, int64_t k) { return transposed ? pair(n, k) : pair(k, n); }, "its weight " + b->ref(), why);
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
  return classifyTernary(
      N, K, [&](int64_t n, int64_t k) { return float(intAt(w, k * N + n) - intAt(z, perColumn ? n : 0)); },
      [&](int64_t n, int64_t k) { return pair(k, n); }, "its weight " + b->ref() + " minus its zero point", why);
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
  auto value = [&](int64_t n, int64_t k) {
    const int64_t j = k / block, i = k % block;
    const int code = (wb.data[(n * blocks + j) * blob + i / 4] >> (2 * (i % 4))) & 3;
    const int zero = (wz.data[n * zpRow + j / 4] >> (2 * (j % 4))) & 3;
    return float(code - zero) * ws.floatAt(n * blocks + j);
  };
  return classifyTernary(N, K, value, [&](int64_t n, int64_t k) { return pair(n, k); },
                         "its dequantized weight " + b->ref(), why);
}

}  // namespace bitnetc
