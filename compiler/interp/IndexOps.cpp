// Ops for ONNX graphs that move or generate elements: expand, slice and range (their result
// shape is the declared type, dynamic dims at this call's values), trilu and shape. Elements
// are copied as bytes, so every dtype works.
#include <algorithm>
#include <cstring>

#include "compiler/interp/Broadcast.h"
#include "compiler/interp/Kernels.h"

namespace bitnetc::interp {
namespace {

void checkSameDType(const OpCall& call, const TensorView& x) {
  if (x.dtype == DType::Ternary || call.resultDType() != x.dtype)
    call.error("the result dtype must be that of " + x.describe());
}

void expandKernel(OpCall& call) {
  call.expectOperands(1);
  const TensorView& x = call.in(0);
  checkSameDType(call, x);
  const std::vector<int64_t> out = call.declaredShape();
  if (broadcastShape(call, x.shape, out) != out)
    call.error(x.describe() + " does not broadcast to " + shapeString(out));
  HostTensor r = HostTensor::zeros(x.dtype, out);
  const size_t size = dtypeSize(x.dtype);
  const auto sx = broadcastStrides(x.shape, out);
  forEachBroadcast(out, sx, sx, [&](int64_t i, int64_t ix, int64_t) {
    std::memcpy(r.bytes.data() + size_t(i) * size, x.data + size_t(ix) * size, size);
  });
  call.results.push_back(std::move(r));
}

// y[i] = start + i * delta: integers in (wrapping) int64 then stored in the dtype; f32 as
// f32(i) * delta + start (two f32 operations), f64 likewise in f64.
void rangeKernel(OpCall& call) {
  call.expectOperands(2);
  const TensorView &start = call.in(0), &delta = call.in(1);
  if (start.numElements() != 1 || delta.numElements() != 1 || start.dtype != delta.dtype)
    call.error("start " + start.describe() + " and delta " + delta.describe() + " must be scalars of one dtype");
  checkSameDType(call, start);
  const std::vector<int64_t> out = call.declaredShape();
  HostTensor r = HostTensor::zeros(start.dtype, out);
  const int64_t n = r.numElements();
  for (int64_t i = 0; i < n; ++i) {
    if (start.dtype == DType::F32) storeFloat(r, i, float(i) * delta.floatAt(0) + start.floatAt(0));
    else if (start.dtype == DType::F64) storeDouble(r, i, double(i) * delta.doubleAt(0) + start.doubleAt(0));
    else if (isInteger(start.dtype))
      storeInt(r, i, int64_t(uint64_t(start.intAt(0)) + uint64_t(i) * uint64_t(delta.intAt(0))));
    else call.error("range of " + start.describe() + " is not supported");
  }
  call.results.push_back(std::move(r));
}

// Per listed axis: the start normalized against the actual input dim (negative + dim, clamped to
// [0, dim] for step > 0, [0, dim - 1] for step < 0), then the declared count of elements at
// start + i * step, each of which must lie in the input.
void sliceKernel(OpCall& call) {
  call.expectOperands(1);
  const TensorView& x = call.in(0);
  checkSameDType(call, x);
  const auto& starts = call.op.attrs.getInts("starts");
  const auto& axes = call.op.attrs.getInts("axes");
  const auto& steps = call.op.attrs.getInts("steps");
  const int64_t rank = int64_t(x.shape.size());
  const std::vector<int64_t> out = call.declaredShape();
  if (int64_t(out.size()) != rank || starts.size() != axes.size() || steps.size() != axes.size())
    call.error("the attributes or the result rank do not match " + x.describe());
  std::vector<int64_t> first(size_t(rank), 0), step(size_t(rank), 1);
  std::vector<bool> listed(size_t(rank), false);
  for (size_t i = 0; i < axes.size(); ++i) {
    const int64_t a = normalizeAxis(call, axes[i], rank), dim = x.shape[size_t(a)];
    if (steps[i] == 0) call.error("a step is 0");
    int64_t s = starts[i] < 0 ? starts[i] + dim : starts[i];
    s = steps[i] > 0 ? std::clamp<int64_t>(s, 0, dim) : std::clamp<int64_t>(s, 0, dim - 1);
    const int64_t n = out[size_t(a)];
    const int64_t last = s + (n - 1) * steps[i];
    if (n > 0 && (s < 0 || s >= dim || last < 0 || last >= dim))
      call.error("axis " + std::to_string(a) + " reads " + std::to_string(n) + " elements from index " +
                 std::to_string(s) + " in steps of " + std::to_string(steps[i]) + " but the input dim is " +
                 std::to_string(dim));
    first[size_t(a)] = s;
    step[size_t(a)] = steps[i];
    listed[size_t(a)] = true;
  }
  for (int64_t d = 0; d < rank; ++d)
    if (!listed[size_t(d)] && out[size_t(d)] != x.shape[size_t(d)])
      call.error("the result dim " + std::to_string(d) + " differs from the input's " + shapeString(x.shape));
  HostTensor r = HostTensor::zeros(x.dtype, out);
  const size_t size = dtypeSize(x.dtype);
  std::vector<int64_t> strides(size_t(rank), 1);
  for (int64_t d = rank - 1; d > 0; --d) strides[size_t(d - 1)] = strides[size_t(d)] * x.shape[size_t(d)];
  const int64_t n = r.numElements();
  std::vector<int64_t> idx(size_t(rank), 0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t src = 0;
    for (int64_t d = 0; d < rank; ++d)
      src += (first[size_t(d)] + idx[size_t(d)] * step[size_t(d)]) * strides[size_t(d)];
    std::memcpy(r.bytes.data() + size_t(i) * size, x.data + size_t(src) * size, size);
    for (int64_t d = rank; d-- > 0;) {
      if (++idx[size_t(d)] < out[size_t(d)]) break;
      idx[size_t(d)] = 0;
    }
  }
  call.results.push_back(std::move(r));
}

// Over the last two dims [R, C]: upper keeps x[i, j] with j - i >= k, lower with j - i <= k;
// the others become 0 (all bytes zero).
void triluKernel(OpCall& call) {
  call.expectOperands(1);
  const TensorView& x = call.in(0);
  checkSameDType(call, x);
  if (x.shape.size() < 2) call.error(x.describe() + " must have rank >= 2");
  const bool upper = call.op.attrs.getBool("upper");
  const int64_t k = call.op.attrs.has("k") ? call.op.attrs.getInt("k") : 0;
  const int64_t R = x.shape[x.shape.size() - 2], C = x.shape.back();
  const int64_t mats = product(x.shape, 0, x.shape.size() - 2);
  HostTensor r = HostTensor::zeros(x.dtype, x.shape);
  const size_t size = dtypeSize(x.dtype);
  for (int64_t m = 0; m < mats; ++m)
    for (int64_t i = 0; i < R; ++i)
      for (int64_t j = 0; j < C; ++j)
        if (upper ? j - i >= k : j - i <= k) {
          const size_t at = size_t((m * R + i) * C + j) * size;
          std::memcpy(r.bytes.data() + at, x.data + at, size);
        }
  call.results.push_back(std::move(r));
}

void shapeKernel(OpCall& call) {
  call.expectOperands(1);
  const TensorView& x = call.in(0);
  if (call.resultDType() != DType::I64) call.error("the result must be i64");
  HostTensor r = HostTensor::zeros(DType::I64, {int64_t(x.shape.size())});
  for (size_t d = 0; d < x.shape.size(); ++d) r.as<int64_t>()[d] = x.shape[d];
  call.results.push_back(std::move(r));
}

}  // namespace

void registerIndexOps(KernelTable& table) {
  table["expand"] = expandKernel;
  table["range"] = rangeKernel;
  table["slice"] = sliceKernel;
  table["trilu"] = triluKernel;
  table["shape"] = shapeKernel;
}

}  // namespace bitnetc::interp
