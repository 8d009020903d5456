// Data movement: transpose, reshape, concat, gather (numpy take). Elements are copied as bytes;
// a float operand may be declared with another float result dtype (e.g. a bf16 weight gathered
// into f32), then each element is converted exactly.
#include <cstring>

#include "compiler/interp/Kernels.h"

namespace bitnetc::interp {
namespace {

// Checks the result dtype against the operand and returns the result tensor.
HostTensor makeResult(const OpCall& call, const TensorView& x, std::vector<int64_t> shape) {
  const DType rt = call.resultDType();
  if (rt != x.dtype && !(isFloat(rt) && isFloat(x.dtype)))
    call.error("result dtype " + std::string(dtypeName(rt)) + " differs from operand " + x.describe());
  if (x.dtype == DType::Ternary) call.error("ternary weights can only be used by bitlinear");
  return HostTensor::zeros(rt, std::move(shape));
}

void copyElement(HostTensor& r, int64_t ri, const TensorView& x, int64_t xi) {
  if (r.dtype == x.dtype) {
    const size_t sz = dtypeSize(r.dtype);
    std::memcpy(r.bytes.data() + size_t(ri) * sz, x.data + size_t(xi) * sz, sz);
  } else {
    storeFloat(r, ri, x.floatAt(xi));
  }
}

void transposeKernel(OpCall& call) {
  call.expectOperands(1);
  const TensorView& x = call.in(0);
  const auto& perm = call.op.attrs.getInts("perm");
  const size_t rank = x.shape.size();
  if (perm.size() != rank) call.error("perm has " + std::to_string(perm.size()) + " entries for rank " + std::to_string(rank));
  std::vector<bool> seen(rank, false);
  std::vector<int64_t> outShape(rank), srcStride(rank);
  std::vector<int64_t> inStrides(rank, 1);
  for (size_t d = rank; d-- > 1;) inStrides[d - 1] = inStrides[d] * x.shape[d];
  for (size_t d = 0; d < rank; ++d) {
    const int64_t p = normalizeAxis(call, perm[d], int64_t(rank));
    if (seen[size_t(p)]) call.error("perm is not a permutation");
    seen[size_t(p)] = true;
    outShape[d] = x.shape[size_t(p)];
    srcStride[d] = inStrides[size_t(p)];
  }
  HostTensor r = makeResult(call, x, outShape);
  const int64_t n = r.numElements();
  std::vector<int64_t> idx(rank, 0);
  int64_t src = 0;
  for (int64_t i = 0; i < n; ++i) {
    copyElement(r, i, x, src);
    for (size_t d = rank; d-- > 0;) {
      ++idx[d];
      src += srcStride[d];
      if (idx[d] < outShape[d]) break;
      src -= srcStride[d] * outShape[d];
      idx[d] = 0;
    }
  }
  call.results.push_back(std::move(r));
}

void reshapeKernel(OpCall& call) {
  call.expectOperands(1);
  const TensorView& x = call.in(0);
  std::vector<int64_t> shape = call.op.attrs.getInts("shape");
  int64_t inferred = -1, known = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 0) {
      if (d >= x.shape.size()) call.error("shape entry 0 at " + std::to_string(d) + " has no input dim to copy");
      shape[d] = x.shape[d];
    }
    if (shape[d] == -1) {
      if (inferred >= 0) call.error("shape has more than one -1");
      inferred = int64_t(d);
    } else if (shape[d] < 0) {
      call.error("shape entry " + std::to_string(shape[d]) + " is invalid");
    } else {
      known *= shape[d];
    }
  }
  const int64_t n = x.numElements();
  if (inferred >= 0) {
    if (known == 0 || n % known != 0) call.error("cannot infer -1 for " + std::to_string(n) + " elements");
    shape[size_t(inferred)] = n / known;
  } else if (known != n) {
    call.error("cannot reshape " + shapeString(x.shape) + " into " + shapeString(shape));
  }
  HostTensor r = makeResult(call, x, shape);
  if (r.dtype == x.dtype) std::memcpy(r.bytes.data(), x.data, r.bytes.size());
  else for (int64_t i = 0; i < n; ++i) copyElement(r, i, x, i);
  call.results.push_back(std::move(r));
}

void concatKernel(OpCall& call) {
  call.expectOperandsAtLeast(1);
  const TensorView& first = call.in(0);
  const int64_t rank = int64_t(first.shape.size());
  const int64_t axis = normalizeAxis(call, call.op.attrs.getInt("axis"), rank);
  std::vector<int64_t> outShape = first.shape;
  outShape[size_t(axis)] = 0;
  for (size_t i = 0; i < call.numOperands(); ++i) {
    const TensorView& x = call.in(i);
    if (x.dtype != first.dtype) call.error("operand " + x.describe() + " has another dtype than " + first.describe());
    if (int64_t(x.shape.size()) != rank) call.error("operand " + x.describe() + " has another rank");
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis && x.shape[size_t(d)] != first.shape[size_t(d)])
        call.error("operand " + x.describe() + " differs from " + first.describe() + " outside the axis");
    outShape[size_t(axis)] += x.shape[size_t(axis)];
  }
  HostTensor r = makeResult(call, first, outShape);
  const int64_t outer = product(outShape, 0, size_t(axis)), inner = product(outShape, size_t(axis) + 1);
  int64_t offset = 0;
  for (size_t i = 0; i < call.numOperands(); ++i) {
    const TensorView& x = call.in(i);
    const int64_t len = x.shape[size_t(axis)];
    for (int64_t a = 0; a < outer; ++a)
      for (int64_t k = 0; k < len * inner; ++k)
        copyElement(r, (a * outShape[size_t(axis)] + offset) * inner + k, x, a * len * inner + k);
    offset += len;
  }
  call.results.push_back(std::move(r));
}

void gatherKernel(OpCall& call) {
  call.expectOperands(2);
  const TensorView &data = call.in(0), &indices = call.in(1);
  call.expectDType(1, {DType::I32, DType::I64});
  const int64_t rank = int64_t(data.shape.size());
  const int64_t axis = normalizeAxis(call, call.op.attrs.getInt("axis", 0), rank);
  std::vector<int64_t> outShape(data.shape.begin(), data.shape.begin() + axis);
  outShape.insert(outShape.end(), indices.shape.begin(), indices.shape.end());
  outShape.insert(outShape.end(), data.shape.begin() + axis + 1, data.shape.end());
  HostTensor r = makeResult(call, data, outShape);
  const int64_t outer = product(data.shape, 0, size_t(axis)), len = data.shape[size_t(axis)],
                inner = product(data.shape, size_t(axis) + 1), count = indices.numElements();
  for (int64_t j = 0; j < count; ++j) {
    int64_t id = indices.intAt(j);
    if (id < -len || id >= len)
      call.error("index " + std::to_string(id) + " is out of range for dim " + std::to_string(len));
    if (id < 0) id += len;
    for (int64_t a = 0; a < outer; ++a)
      for (int64_t k = 0; k < inner; ++k)
        copyElement(r, (a * count + j) * inner + k, data, (a * len + id) * inner + k);
  }
  call.results.push_back(std::move(r));
}

}  // namespace

void registerShapeOps(KernelTable& table) {
  table["transpose"] = transposeKernel;
  table["reshape"] = reshapeKernel;
  table["concat"] = concatKernel;
  table["gather"] = gatherKernel;
}

}  // namespace bitnetc::interp
