// Elementwise ops: binary with numpy broadcasting (add sub mul div max min pow), unary
// (neg abs sqrt exp relu sigmoid reciprocal round relu2 silu), clip and cast.
// Float math is f32 (operands of any float dtype are widened exactly to f32 first), f64 math is
// f64; integer math is done in 64 bits (int64, or uint64 for unsigned types: division and
// comparisons differ) and stored into the result dtype (wrapping).
#include <algorithm>
#include <cmath>
#include <limits>

#include "compiler/interp/Broadcast.h"
#include "compiler/interp/Kernels.h"

namespace bitnetc::interp {
namespace {

bool isFloatView(const TensorView& v) { return isFloat(v.dtype); }
bool isIntView(const TensorView& v) { return isInteger(v.dtype); }

// Opcodes resolved once per op (not per element).
enum class Bin { Add, Sub, Mul, Div, Max, Min, Pow };
enum class Un { Neg, Abs, Sqrt, Exp, Relu, Sigmoid, Reciprocal, Round, Relu2, Silu };

Bin binaryOf(const std::string& op) {
  if (op == "add") return Bin::Add;
  if (op == "sub") return Bin::Sub;
  if (op == "mul") return Bin::Mul;
  if (op == "div") return Bin::Div;
  if (op == "max") return Bin::Max;
  if (op == "min") return Bin::Min;
  return Bin::Pow;
}

float floatBinary(Bin op, float a, float b) {
  switch (op) {
    case Bin::Add: return a + b;
    case Bin::Sub: return a - b;
    case Bin::Mul: return a * b;
    case Bin::Div: return a / b;
    case Bin::Max: return std::isnan(a) || std::isnan(b) ? std::numeric_limits<float>::quiet_NaN() : std::max(a, b);
    case Bin::Min: return std::isnan(a) || std::isnan(b) ? std::numeric_limits<float>::quiet_NaN() : std::min(a, b);
    case Bin::Pow: return std::pow(a, b);  // pow(float, float): the f32 overload
  }
  return 0;
}

double doubleBinary(Bin op, double a, double b) {
  switch (op) {
    case Bin::Add: return a + b;
    case Bin::Sub: return a - b;
    case Bin::Mul: return a * b;
    case Bin::Div: return a / b;
    case Bin::Max: return std::isnan(a) || std::isnan(b) ? std::numeric_limits<double>::quiet_NaN() : std::max(a, b);
    case Bin::Min: return std::isnan(a) || std::isnan(b) ? std::numeric_limits<double>::quiet_NaN() : std::min(a, b);
    case Bin::Pow: return std::pow(a, b);
  }
  return 0;
}

// Signed integers (b != 0 for div, checked before): wrapping, division truncates toward zero.
int64_t intBinary(Bin op, int64_t a, int64_t b) {
  switch (op) {
    case Bin::Add: return int64_t(uint64_t(a) + uint64_t(b));
    case Bin::Sub: return int64_t(uint64_t(a) - uint64_t(b));
    case Bin::Mul: return int64_t(uint64_t(a) * uint64_t(b));
    case Bin::Div: return b == -1 ? int64_t(0 - uint64_t(a)) : a / b;
    case Bin::Max: return std::max(a, b);
    default: return std::min(a, b);
  }
}

uint64_t uintBinary(Bin op, uint64_t a, uint64_t b) {
  switch (op) {
    case Bin::Add: return a + b;
    case Bin::Sub: return a - b;
    case Bin::Mul: return a * b;
    case Bin::Div: return a / b;
    case Bin::Max: return std::max(a, b);
    default: return std::min(a, b);
  }
}

// The f64 value of an integer dtype's range bounds, for float -> int conversions: the largest
// doubles within the range (2^63 - 1024 for i64, 2^64 - 2048 for u64).
void intRange(DType t, double& lo, double& hi);

// A double converted to an integer dtype: NaN -> 0, else `rounded` (already integral),
// saturated to the dtype's range; returned as the dtype's bits in an int64.
int64_t saturateToInt(DType t, double rounded) {
  if (std::isnan(rounded)) return 0;
  double lo, hi;
  intRange(t, lo, hi);
  const double v = std::min(std::max(rounded, lo), hi);
  return isUnsigned(t) ? int64_t(uint64_t(v)) : int64_t(v);
}

// Integer pow: an integer exponent >= 0 by repeated multiplication (wrapping, like numpy); a
// negative one gives the truncated real result (1, +-1 for a base of -1, else 0); a float
// exponent: pow in f64, truncated toward zero and saturated.
int64_t intPow(const TensorView& a, int64_t ia, const TensorView& b, int64_t ib, DType rt) {
  const bool aUnsigned = isUnsigned(a.dtype);
  if (!isInteger(b.dtype) && b.dtype != DType::Bool)
    return saturateToInt(rt, std::trunc(std::pow(a.doubleAt(ia), b.doubleAt(ib))));
  const int64_t base = a.intAt(ia);
  if (!isUnsigned(b.dtype) && b.intAt(ib) < 0) {
    if (base == 1 && !aUnsigned) return 1;
    if (base == -1 && !aUnsigned) return (b.intAt(ib) & 1) ? -1 : 1;
    return aUnsigned && base == 1 ? 1 : 0;
  }
  uint64_t e = b.uintAt(ib), x = uint64_t(base), r = 1;
  for (; e; e >>= 1, x *= x)
    if (e & 1) r *= x;
  return int64_t(r);
}

void binaryKernel(OpCall& call) {
  call.expectOperands(2);
  const TensorView &a = call.in(0), &b = call.in(1);
  const std::string& op = call.op.opcode;
  const Bin bop = binaryOf(op);
  const DType rt = call.resultDType();
  if (bop == Bin::Pow || a.dtype == DType::F64 || isIntView(a)) {
    if (bop != Bin::Pow && a.dtype != b.dtype) call.error("operands " + a.describe() + " and " + b.describe() + " must have one dtype");
    if (rt != a.dtype && !(isFloat(rt) && isFloatView(a))) call.error("the result dtype must be the operand's");
    if (isIntView(a) && bop == Bin::Div)
      for (int64_t i = 0; i < b.numElements(); ++i)
        if (b.intAt(i) == 0) call.error("integer division by zero (" + b.describe() + " element " + std::to_string(i) + ")");
    std::vector<int64_t> out = broadcastShape(call, a.shape, b.shape);
    HostTensor r = HostTensor::zeros(rt, out);
    auto sa = broadcastStrides(a.shape, out), sb = broadcastStrides(b.shape, out);
    forEachBroadcast(out, sa, sb, [&](int64_t i, int64_t ia, int64_t ib) {
      if (isFloatView(a))  // pow of f32/bf16/f16 with another exponent dtype: the exponent as f32
        storeFloat(r, i, floatBinary(bop, a.floatAt(ia), float(b.doubleAt(ib))));
      else if (a.dtype == DType::F64) storeDouble(r, i, doubleBinary(bop, a.doubleAt(ia), b.doubleAt(ib)));
      else if (bop == Bin::Pow) storeInt(r, i, intPow(a, ia, b, ib, rt));
      else if (isUnsigned(a.dtype)) storeInt(r, i, int64_t(uintBinary(bop, a.uintAt(ia), b.uintAt(ib))));
      else storeInt(r, i, intBinary(bop, a.intAt(ia), b.intAt(ib)));
    });
    call.results.push_back(std::move(r));
    return;
  }
  const bool floats = isFloatView(a) && isFloatView(b);
  if (!floats) call.error("operands " + a.describe() + " and " + b.describe() + " must both be float or of one dtype");
  if (floats != isFloat(rt)) call.error("result dtype " + std::string(dtypeName(rt)) + " does not match the operands");
  std::vector<int64_t> out = broadcastShape(call, a.shape, b.shape);
  HostTensor r = HostTensor::zeros(rt, out);
  if (floats && a.dtype == DType::F32 && b.dtype == DType::F32 && rt == DType::F32 && a.shape == b.shape) {
    const float *pa = a.as<float>(), *pb = b.as<float>();
    float* pr = r.as<float>();
    const int64_t n = r.numElements();
    if (bop == Bin::Add) for (int64_t i = 0; i < n; ++i) pr[i] = pa[i] + pb[i];
    else if (bop == Bin::Mul) for (int64_t i = 0; i < n; ++i) pr[i] = pa[i] * pb[i];
    else for (int64_t i = 0; i < n; ++i) pr[i] = floatBinary(bop, pa[i], pb[i]);
  } else {
    auto sa = broadcastStrides(a.shape, out), sb = broadcastStrides(b.shape, out);
    forEachBroadcast(out, sa, sb, [&](int64_t i, int64_t ia, int64_t ib) {
      storeFloat(r, i, floatBinary(bop, a.floatAt(ia), b.floatAt(ib)));
    });
  }
  call.results.push_back(std::move(r));
}

Un unaryOf(const std::string& op) {
  static const std::pair<const char*, Un> kNames[] = {
      {"neg", Un::Neg},     {"abs", Un::Abs},         {"sqrt", Un::Sqrt},         {"exp", Un::Exp},
      {"relu", Un::Relu},   {"sigmoid", Un::Sigmoid}, {"reciprocal", Un::Reciprocal},
      {"round", Un::Round}, {"relu2", Un::Relu2},     {"silu", Un::Silu}};
  for (const auto& [name, u] : kNames)
    if (op == name) return u;
  fail("internal: unknown unary op ", op);
}

float floatUnary(Un op, float x) {
  switch (op) {
    case Un::Neg: return -x;
    case Un::Abs: return std::fabs(x);
    case Un::Sqrt: return std::sqrt(x);
    case Un::Exp: return std::exp(x);
    case Un::Relu: return x > 0.0f ? x : 0.0f;
    case Un::Sigmoid: return 1.0f / (1.0f + std::exp(-x));
    case Un::Reciprocal: return 1.0f / x;
    case Un::Round: return std::nearbyint(x);  // half to even in the default rounding mode
    case Un::Relu2: {
      const float r = x > 0.0f ? x : 0.0f;
      return r * r;
    }
    case Un::Silu: return x / (1.0f + std::exp(-x));
  }
  return 0;
}

void unaryKernel(OpCall& call) {
  call.expectOperands(1);
  const TensorView& x = call.in(0);
  const std::string& op = call.op.opcode;
  const Un uop = unaryOf(op);
  const DType rt = call.resultDType();
  HostTensor r = HostTensor::zeros(rt, x.shape);
  const int64_t n = x.numElements();
  if (isFloatView(x)) {
    if (!isFloat(rt)) call.error("the result of a float op must be float");
    if (x.dtype == DType::F32 && rt == DType::F32) {
      const float* px = x.as<float>();
      float* pr = r.as<float>();
      for (int64_t i = 0; i < n; ++i) pr[i] = floatUnary(uop, px[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) storeFloat(r, i, floatUnary(uop, x.floatAt(i)));
    }
  } else if (x.dtype == DType::F64 && (op == "neg" || op == "abs" || op == "relu")) {
    if (rt != x.dtype) call.error("the result dtype must be the operand's");
    for (int64_t i = 0; i < n; ++i) {
      const double v = x.doubleAt(i);
      storeDouble(r, i, op == "neg" ? -v : op == "abs" ? std::fabs(v) : v > 0.0 ? v : 0.0);
    }
  } else if (isIntView(x) && (op == "neg" || op == "abs" || op == "relu")) {
    if (rt != x.dtype) call.error("the result dtype must be the operand's");
    const bool unsignedX = isUnsigned(x.dtype);  // abs and relu are the identity; neg wraps
    for (int64_t i = 0; i < n; ++i) {
      const int64_t v = x.intAt(i);
      const int64_t negated = int64_t(0 - uint64_t(v));
      storeInt(r, i, op == "neg" ? negated : unsignedX ? v : op == "abs" ? (v < 0 ? negated : v) : std::max<int64_t>(v, 0));
    }
  } else {
    call.error("operand " + x.describe() + " has an unsupported dtype for " + op);
  }
  call.results.push_back(std::move(r));
}

void clipKernel(OpCall& call) {
  call.expectOperands(1);
  const TensorView& x = call.in(0);
  const double lo = call.op.attrs.getFloat("min"), hi = call.op.attrs.getFloat("max");
  const DType rt = call.resultDType();
  if (rt != x.dtype && !(isFloat(rt) && isFloatView(x))) call.error("the result dtype must be the operand's");
  HostTensor r = HostTensor::zeros(rt, x.shape);
  const int64_t n = x.numElements();
  if (isFloatView(x)) {
    const float flo = float(lo), fhi = float(hi);
    for (int64_t i = 0; i < n; ++i) {
      float v = x.floatAt(i);
      if (!std::isnan(v)) v = std::min(std::max(v, flo), fhi);
      storeFloat(r, i, v);
    }
  } else {
    for (int64_t i = 0; i < n; ++i) {
      const double v = double(x.intAt(i));
      storeInt(r, i, int64_t(std::min(std::max(v, lo), hi)));
    }
  }
  call.results.push_back(std::move(r));
}

void intRange(DType t, double& lo, double& hi) {
  switch (t) {
    case DType::I8: lo = -128, hi = 127; return;
    case DType::U8: lo = 0, hi = 255; return;
    case DType::I16: lo = -32768, hi = 32767; return;
    case DType::U16: lo = 0, hi = 65535; return;
    case DType::I32: lo = -2147483648.0, hi = 2147483647.0; return;
    case DType::U32: lo = 0, hi = 4294967295.0; return;
    case DType::U64: lo = 0, hi = 18446744073709549568.0; return;  // largest double < 2^64
    default: lo = -9223372036854775808.0, hi = 9223372036854774784.0; return;  // largest double < 2^63
  }
}

// An integer (or bool) element as the two's-complement bits a narrower store keeps (int -> int
// wraps, as C conversions, numpy's astype and ONNX Runtime do).
int64_t intBits(const TensorView& x, int64_t i) {
  return isUnsigned(x.dtype) ? int64_t(x.uintAt(i)) : x.intAt(i);
}

void castKernel(OpCall& call) {
  call.expectOperands(1);
  const TensorView& x = call.in(0);
  const auto to = dtypeFromName(call.op.attrs.getString("to"));
  if (!to || *to == DType::Ternary) call.error("unknown cast target \"" + call.op.attrs.getString("to") + "\"");
  if (call.resultDType() != *to) call.error("the result dtype must be the `to` dtype");
  HostTensor r = HostTensor::zeros(*to, x.shape);
  const int64_t n = x.numElements();
  if (x.dtype == DType::Ternary) call.error("operand " + x.describe() + " cannot be cast");
  const bool fromFloat = isFloatView(x) || x.dtype == DType::F64;
  for (int64_t i = 0; i < n; ++i) {
    if (*to == DType::Bool) {
      storeInt(r, i, fromFloat ? x.doubleAt(i) != 0.0 : x.intAt(i) != 0);  // NaN is true
    } else if (isFloat(*to)) {
      // float -> float exact through f32 (f64 rounds to f32 first); int -> f32 round to nearest.
      storeFloat(r, i, isFloatView(x) ? x.floatAt(i) : x.dtype == DType::F64 ? float(x.doubleAt(i))
                                     : isUnsigned(x.dtype) ? float(x.uintAt(i)) : float(x.intAt(i)));
    } else if (*to == DType::F64) {
      storeDouble(r, i, x.doubleAt(i));
    } else if (fromFloat) {
      // Truncate toward zero (ONNX, numpy, C), saturate out of range; NaN becomes 0.
      storeInt(r, i, saturateToInt(*to, std::trunc(x.doubleAt(i))));
    } else {
      storeInt(r, i, intBits(x, i));  // wraps
    }
  }
  call.results.push_back(std::move(r));
}

}  // namespace

void registerElementwiseOps(KernelTable& table) {
  for (const char* op : {"add", "sub", "mul", "div", "max", "min", "pow"}) table[op] = binaryKernel;
  for (const char* op : {"neg", "abs", "sqrt", "exp", "relu", "sigmoid", "reciprocal", "round", "relu2", "silu"})
    table[op] = unaryKernel;
  table["clip"] = clipKernel;
  table["cast"] = castKernel;
}

}  // namespace bitnetc::interp
