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
      call.error("shapes " + shapeStr(a) + " and " + shapeStr(b) + " do not broadcast");
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

float floatBinary(const std::string& op, float a, float b) {
  if (op == "add") return a + b;
  if (op == "sub") return a - b;
  if (op == "mul") return a * b;
  if (op == "div") return a / b;
  if (op == "max") return std::isnan(a) || std::isnan(b) ? std::numeric_limits<float>::quiet_NaN() : std::max(a, b);
  if (op == "min") return std::isnan(a) || std::isnan(b) ? std::numeric_limits<float>::quiet_NaN() : std::min(a, b);
  return std::pow(a, b);  // pow(float, float): the f32 overload
}

int64_t intBinary(const std::string& op, int64_t a, int64_t b) {
  if (op == "add") return a + b;
  if (op == "sub") return a - b;
  if (op == "mul") return a * b;
  if (op == "max") return std::max(a, b);
  return std::min(a, b);
}

void binaryKernel(OpCall& call) {
  call.expectOperands(2);
  const TensorView &a = call.in(0), &b = call.in(1);
  const std::string& op = call.op.opcode;
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
    if (op == "add") for (int64_t i = 0; i < n; ++i) pr[i] = pa[i] + pb[i];
    else if (op == "mul") for (int64_t i = 0; i < n; ++i) pr[i] = pa[i] * pb[i];
    else for (int64_t i = 0; i < n; ++i) pr[i] = floatBinary(op, pa[i], pb[i]);
  } else {
    auto sa = broadcastStrides(a.shape, out), sb = broadcastStrides(b.shape, out);
    if (floats)
      forEachBroadcast(out, sa, sb, [&](int64_t i, int64_t ia, int64_t ib) {
        storeFloat(r, i, floatBinary(op, a.floatAt(ia), b.floatAt(ib)));
      });
    else
      forEachBroadcast(out, sa, sb, [&](int64_t i, int64_t ia, int64_t ib) {
        storeInt(r, i, intBinary(op, a.intAt(ia), b.intAt(ib)));
      });
  }
  call.results.push_back(std::move(r));
}

float floatUnary(const std::string& op, float x) {
  if (op == "neg") return -x;
  if (op == "abs") return std::fabs(x);
  if (op == "sqrt") return std::sqrt(x);
  if (op == "exp") return std::exp(x);
  if (op == "relu") return x > 0.0f ? x : 0.0f;
  if (op == "sigmoid") return 1.0f / (1.0f + std::exp(-x));
  if (op == "reciprocal") return 1.0f / x;
  if (op == "round") return std::nearbyint(x);  // half to even in the default rounding mode
  if (op == "relu2") {
    const float r = x > 0.0f ? x : 0.0f;
    return r * r;
  }
  return x / (1.0f + std::exp(-x));  // silu
}

void unaryKernel(OpCall& call) {
  call.expectOperands(1);
  const TensorView& x = call.in(0);
  const std::string& op = call.op.opcode;
  const DType rt = call.resultDType();
  HostTensor r = HostTensor::zeros(rt, x.shape);
  const int64_t n = x.numElements();
  if (isFloatView(x)) {
    if (!isFloat(rt)) call.error("the result of a float op must be float");
    if (x.dtype == DType::F32 && rt == DType::F32) {
      const float* px = x.as<float>();
      float* pr = r.as<float>();
      for (int64_t i = 0; i < n; ++i) pr[i] = floatUnary(op, px[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) storeFloat(r, i, floatUnary(op, x.floatAt(i)));
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
