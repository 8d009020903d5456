// Reductions (reduce_max, reduce_mean, reduce_sum over `axes`, with `keepdims`) and softmax.
// Float sums accumulate in fp64 and round once to f32.
#include <algorithm>
#include <cmath>
#include <limits>

#include "compiler/interp/Kernels.h"

namespace bitnetc::interp {
namespace {

void reduceKernel(OpCall& call) {
  call.expectOperands(1);
  const TensorView& x = call.in(0);
  const std::string& op = call.op.opcode;
  const int64_t rank = int64_t(x.shape.size());
  std::vector<bool> reduced(size_t(rank), false);
  const auto* axesAttr = call.op.attrs.find("axes");
  std::vector<int64_t> axes = axesAttr ? call.op.attrs.getInts("axes") : std::vector<int64_t>{};
  if (axes.empty())  // no axes: reduce everything (ONNX default)
    for (int64_t a = 0; a < rank; ++a) axes.push_back(a);
  for (int64_t a : axes) {
    const int64_t n = normalizeAxis(call, a, rank);
    if (reduced[size_t(n)]) call.error("axis " + std::to_string(a) + " is listed twice");
    reduced[size_t(n)] = true;
  }
  const bool keep = call.op.attrs.getBool("keepdims", true);
  std::vector<int64_t> outShape, keptShape;  // keptShape: rank-preserving (1 on reduced dims)
  for (int64_t d = 0; d < rank; ++d) {
    keptShape.push_back(reduced[size_t(d)] ? 1 : x.shape[size_t(d)]);
    if (!reduced[size_t(d)] || keep) outShape.push_back(keptShape.back());
  }
  const bool floats = isFloat(x.dtype);
  if (!floats && !isInteger(x.dtype)) call.error("operand " + x.describe() + " cannot be reduced");
  if (op == "reduce_mean" && !floats) call.error("reduce_mean is defined for floats only");
  const DType rt = call.resultDType();
  if (isFloat(rt) != floats) call.error("the result dtype does not match the operand");
  const int64_t outN = product(keptShape);
  std::vector<double> acc(size_t(outN), op == "reduce_max" ? -std::numeric_limits<double>::infinity() : 0.0);
  const int64_t intLowest = isUnsigned(x.dtype) ? 0 : std::numeric_limits<int64_t>::min();
  std::vector<int64_t> iacc(size_t(outN), op == "reduce_max" ? intLowest : 0);
  std::vector<bool> sawNaN(size_t(outN), false);
  // Walk the input; map each element to its output slot.
  std::vector<int64_t> outStrides(size_t(rank), 0);
  for (int64_t d = rank, s = 1; d-- > 0;) {
    outStrides[size_t(d)] = reduced[size_t(d)] ? 0 : s;
    s *= keptShape[size_t(d)];
  }
  const int64_t n = x.numElements();
  std::vector<int64_t> idx(size_t(rank), 0);
  int64_t o = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (floats) {
      const double v = x.floatAt(i);
      if (std::isnan(v)) sawNaN[size_t(o)] = true;
      if (op == "reduce_max") acc[size_t(o)] = std::max(acc[size_t(o)], v);
      else acc[size_t(o)] += v;
    } else {
      const int64_t v = x.intAt(i);
      int64_t& a = iacc[size_t(o)];
      if (op != "reduce_max") a = int64_t(uint64_t(a) + uint64_t(v));  // wraps like the dtype
      else if (isUnsigned(x.dtype)) a = int64_t(std::max(uint64_t(a), uint64_t(v)));
      else a = std::max(a, v);
    }
    for (int64_t d = rank; d-- > 0;) {
      ++idx[size_t(d)];
      o += outStrides[size_t(d)];
      if (idx[size_t(d)] < x.shape[size_t(d)]) break;
      o -= outStrides[size_t(d)] * x.shape[size_t(d)];
      idx[size_t(d)] = 0;
    }
  }
  const int64_t count = outN ? n / outN : 0;
  HostTensor r = HostTensor::zeros(rt, outShape);
  for (int64_t j = 0; j < outN; ++j) {
    if (floats) {
      double v = acc[size_t(j)];
      if (op == "reduce_mean") v /= double(count);
      if (sawNaN[size_t(j)]) v = std::numeric_limits<double>::quiet_NaN();
      storeFloat(r, j, float(v));
    } else {
      storeInt(r, j, iacc[size_t(j)]);
    }
  }
  call.results.push_back(std::move(r));
}

void softmaxKernel(OpCall& call) {
  call.expectOperands(1);
  const TensorView& x = call.in(0);
  if (!isFloat(x.dtype)) call.error("operand " + x.describe() + " must be float");
  const int64_t rank = int64_t(x.shape.size());
  const int64_t axis = normalizeAxis(call, call.op.attrs.getInt("axis", -1), rank);
  const int64_t outer = product(x.shape, 0, size_t(axis)), len = x.shape[size_t(axis)],
                inner = product(x.shape, size_t(axis) + 1);
  HostTensor r = HostTensor::zeros(call.resultDType(), x.shape);
  if (!isFloat(r.dtype)) call.error("the result must be float");
  std::vector<float> e(static_cast<size_t>(len));
  for (int64_t a = 0; a < outer; ++a)
    for (int64_t b = 0; b < inner; ++b) {
      auto at = [&](int64_t k) { return (a * len + k) * inner + b; };
      float m = -std::numeric_limits<float>::infinity();
      for (int64_t k = 0; k < len; ++k) m = std::max(m, x.floatAt(at(k)));
      double sum = 0;
      for (int64_t k = 0; k < len; ++k) sum += e[size_t(k)] = std::exp(x.floatAt(at(k)) - m);
      for (int64_t k = 0; k < len; ++k) storeFloat(r, at(k), float(double(e[size_t(k)]) / sum));
    }
  call.results.push_back(std::move(r));
}

}  // namespace

void registerReductionOps(KernelTable& table) {
  for (const char* op : {"reduce_max", "reduce_mean", "reduce_sum"}) table[op] = reduceKernel;
  table["softmax"] = softmaxKernel;
}

}  // namespace bitnetc::interp
