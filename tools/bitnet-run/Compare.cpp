#include "tools/bitnet-run/Compare.h"

#include <cmath>
#include <cstring>
#include <sstream>

#include "compiler/ir/Weights.h"
#include "runtime/abi/bitnet_abi.h"
#include "tools/bitnet-run/TensorIO.h"

namespace bitnetc::run {

namespace {

template <typename T>
T load(const HostTensor& t, int64_t i) {
  T v;
  std::memcpy(&v, t.bytes.data() + size_t(i) * sizeof(T), sizeof(T));
  return v;
}

bool isFloatCode(DType t) {
  const int c = int(t);
  return c == BITNET_F32 || c == BITNET_F64 || c == BITNET_F16 || c == BITNET_BF16;
}

// Integer elements exactly (u64 past INT64_MAX keeps its bits).
int64_t elementBits(const HostTensor& t, int64_t i) {
  switch (int(t.dtype)) {
    case BITNET_I8: return load<int8_t>(t, i);
    case BITNET_U8: case BITNET_BOOL: return load<uint8_t>(t, i);
    case BITNET_I16: return load<int16_t>(t, i);
    case BITNET_U16: return load<uint16_t>(t, i);
    case BITNET_I32: return load<int32_t>(t, i);
    case BITNET_U32: return load<uint32_t>(t, i);
    case BITNET_I64: return load<int64_t>(t, i);
    case BITNET_U64: return int64_t(load<uint64_t>(t, i));
    default: return 0;
  }
}

std::string indexText(const std::vector<int64_t>& shape, int64_t flat) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = shape[d] ? flat % shape[d] : 0;
    flat = shape[d] ? flat / shape[d] : 0;
  }
  return shapeString(idx);
}

}  // namespace

double elementAsDouble(const HostTensor& t, int64_t i) {
  switch (int(t.dtype)) {
    case BITNET_F32: return load<float>(t, i);
    case BITNET_F64: return load<double>(t, i);
    case BITNET_F16: return f16ToFloat(load<uint16_t>(t, i));
    case BITNET_BF16: return bf16ToFloat(load<uint16_t>(t, i));
    case BITNET_U64: return double(load<uint64_t>(t, i));
    default: return double(elementBits(t, i));
  }
}

Comparison compareTensors(const HostTensor& actual, const HostTensor& expected, double rtol, double atol) {
  Comparison c;
  if (actual.dtype != expected.dtype) {
    c.ok = false;
    c.reason = "type " + typeName(actual.dtype) + ", expected " + typeName(expected.dtype);
    return c;
  }
  if (actual.shape != expected.shape) {
    c.ok = false;
    c.reason = "shape " + shapeString(actual.shape) + ", expected " + shapeString(expected.shape);
    return c;
  }
  const int64_t n = expected.numElements();
  const bool isFloat = isFloatCode(expected.dtype);
  int64_t first = -1;
  for (int64_t i = 0; i < n; ++i) {
    bool same;
    if (isFloat) {
      const double a = elementAsDouble(actual, i), e = elementAsDouble(expected, i);
      if (std::isnan(e) || std::isnan(a)) same = std::isnan(e) && std::isnan(a);
      else if (std::isinf(e) || std::isinf(a)) same = a == e;
      else {
        const double diff = std::fabs(a - e);
        c.maxAbsDiff = std::max(c.maxAbsDiff, diff);
        same = diff <= atol + rtol * std::fabs(e);
      }
    } else {
      same = elementBits(actual, i) == elementBits(expected, i);
    }
    if (!same) {
      ++c.mismatches;
      if (first < 0) first = i;
    }
  }
  if (c.mismatches) {
    c.ok = false;
    std::ostringstream r;
    r.precision(9);
    r << c.mismatches << " of " << n << " values differ, first at " << indexText(expected.shape, first) << ": "
      << elementAsDouble(actual, first) << " vs expected " << elementAsDouble(expected, first);
    if (isFloat) r << " (max abs diff " << c.maxAbsDiff << ")";
    c.reason = r.str();
  }
  return c;
}

}  // namespace bitnetc::run
