// Elementwise ops: binary with numpy broadcasting (add sub mul div max min pow), unary
// (neg abs sqrt exp relu sigmoid reciprocal round relu2 silu), clip and cast.
// Float math is f32 (operands of any float dtype are widened exactly to f32 first); integer math
// is done in int64 and stored into the result dtype.
#include <algorithm>
#include <cmath>
#include <limits>

#include "compiler/interp/Kernels.h"

namespace bitnetc::interp {
namespace {

bool isFloatView(const TensorView& v) { return isFloat(v.dtype); }
bool isIntView(const TensorView& v) { return isInteger(v.dtype); }

std::vector<int64_t> broadcastShape(const OpCall& call, const std::vector<int64_t>& a,
                                    const std::vector<int64_t>& b) {
  const size_t rank = std::max(a.size(), b.size());
  std::vector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      call.error("shapes " + shapeString(a) + " and " + shapeString(b) + " do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

// Strides of `shape` aligned to the output rank, 0 on broadcast dims.
std::vector<int64_t> broadcastStrides(const std::vector<int64_t>& shape, const std::vector<int64_t>& out) {
  std::vector<int64_t> strides(out.size(), 0);
  int64_t stride = 1;
  for (size_t k = shape.size(); k-- > 0;) {
    const size_t o = k + (out.size() - shape.size());
    strides[o] = shape[k] == 1 ? 0 : stride;
    stride *= shape[k];
  }
  return strides;
}

// Calls f(outIndex, aIndex, bIndex) for every output element.
template <typename F>
void forEachBroadcast(const std::vector<int64_t>& out, const std::vector<int64_t>& sa,
                      const std::vector<int64_t>& sb, F f) {
  const int64_t n = product(out);
  if (n == 0) return;
  std::vector<int64_t> idx(out.size(), 0);
  int64_t ia = 0, ib = 0;
  for (int64_t i = 0; i < n; ++i) {
    f(i, ia, ib);
    for (size_t d = out.size(); d-- > 0;) {
      ++idx[d];
      ia += sa[d];
      ib += sb[d];
      if (idx[d] < out[d]) break;
      ia -= sa[d] * out[d];
      ib -= sb[d] * out[d];
      idx[d] = 0;
    }
  }
}

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

int64_t intBinary(Bin op, int64_t a, int64_t b) {
  switch (op) {
    case Bin::Add: return a + b;
    case Bin::Sub: return a - b;
    case Bin::Mul: return a * b;
    case Bin::Max: return std::max(a, b);
    default: return std::min(a, b);
  }
}

void binaryKernel(OpCall& call) {
  call.expectOperands(2);
  const TensorView &a = call.in(0), &b = call.in(1);
  const std::string& op = call.op.opcode;
  const Bin bop = binaryOf(op);
  const bool floats = isFloatView(a) && isFloatView(b);
  const bool ints = isIntView(a) && isIntView(b) && a.dtype == b.dtype;
  if (!floats && !ints)
    call.error("operands " + a.describe() + " and " + b.describe() + " must both be float or the same integer dtype");
  if (ints && (op == "div" || op == "pow")) call.error(op + " is defined for floats only");
  const DType rt = call.resultDType();
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
    if (floats)
      forEachBroadcast(out, sa, sb, [&](int64_t i, int64_t ia, int64_t ib) {
        storeFloat(r, i, floatBinary(bop, a.floatAt(ia), b.floatAt(ib)));
      });
    else
      forEachBroadcast(out, sa, sb, [&](int64_t i, int64_t ia, int64_t ib) {
        storeInt(r, i, intBinary(bop, a.intAt(ia), b.intAt(ib)));
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
  } else if (isIntView(x) && (op == "neg" || op == "abs" || op == "relu")) {
    if (rt != x.dtype) call.error("the result dtype must be the operand's");
    for (int64_t i = 0; i < n; ++i) {
      const int64_t v = x.intAt(i);
      storeInt(r, i, op == "neg" ? -v : op == "abs" ? (v < 0 ? -v : v) : std::max<int64_t>(v, 0));
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

// Integer range of a dtype, for saturating casts.
void intRange(DType t, double& lo, double& hi) {
  switch (t) {
    case DType::I8: lo = -128, hi = 127; return;
    case DType::U8: lo = 0, hi = 255; return;
    case DType::I32: lo = -2147483648.0, hi = 2147483647.0; return;
    default: lo = -9223372036854775808.0, hi = 9223372036854774784.0; return;  // largest double < 2^63
  }
}

void castKernel(OpCall& call) {
  call.expectOperands(1);
  const TensorView& x = call.in(0);
  const auto to = dtypeFromName(call.op.attrs.getString("to"));
  if (!to || *to == DType::Ternary) call.error("unknown cast target \"" + call.op.attrs.getString("to") + "\"");
  if (call.resultDType() != *to) call.error("the result dtype must be the `to` dtype");
  HostTensor r = HostTensor::zeros(*to, x.shape);
  const int64_t n = x.numElements();
  if (!isFloatView(x) && !isIntView(x)) call.error("operand " + x.describe() + " cannot be cast");
  if (isFloat(*to)) {
    // int -> float: exact where representable, else round to nearest (via double for i64).
    for (int64_t i = 0; i < n; ++i)
      storeFloat(r, i, isFloatView(x) ? x.floatAt(i) : float(x.intAt(i)));
  } else {
    double lo, hi;
    intRange(*to, lo, hi);
    for (int64_t i = 0; i < n; ++i) {
      if (isFloatView(x)) {
        // Round half to even, saturate; NaN becomes 0.
        const float f = x.floatAt(i);
        double v = std::isnan(f) ? 0.0 : std::nearbyint(double(f));
        storeInt(r, i, int64_t(std::min(std::max(v, lo), hi)));
      } else {
        // int -> int saturates as well (consistent with float -> int).
        const int64_t v = x.intAt(i);
        storeInt(r, i, std::min(std::max(v, int64_t(lo)), int64_t(hi)));
      }
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
