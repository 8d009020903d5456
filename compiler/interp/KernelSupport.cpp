// Shared helpers of the op kernels: operand checks with messages naming the op, element stores.

#include "compiler/interp/Kernels.h"

namespace bitnetc::interp {

int64_t product(const std::vector<int64_t>& shape, size_t from, size_t to) {
  int64_t n = 1;
  for (size_t i = from; i < shape.size() && i < to; ++i) n *= shape[i];
  return n;
}

void storeFloat(HostTensor& t, int64_t i, float v) {
  switch (t.dtype) {
    case DType::F32: t.as<float>()[i] = v; return;
    case DType::BF16: t.as<uint16_t>()[i] = floatToBf16(v); return;
    case DType::F16: t.as<uint16_t>()[i] = floatToF16(v); return;
    default: fail("internal: storeFloat into a ", dtypeName(t.dtype), " tensor");
  }
}

void storeInt(HostTensor& t, int64_t i, int64_t v) {
  switch (t.dtype) {
    case DType::I8: t.as<int8_t>()[i] = int8_t(v); return;
    case DType::U8: t.as<uint8_t>()[i] = uint8_t(v); return;
    case DType::Bool: t.as<uint8_t>()[i] = v != 0; return;
    case DType::I16: t.as<int16_t>()[i] = int16_t(v); return;
    case DType::U16: t.as<uint16_t>()[i] = uint16_t(v); return;
    case DType::I32: t.as<int32_t>()[i] = int32_t(v); return;
    case DType::U32: t.as<uint32_t>()[i] = uint32_t(v); return;
    case DType::I64: t.as<int64_t>()[i] = v; return;
    case DType::U64: t.as<uint64_t>()[i] = uint64_t(v); return;
    default: fail("internal: storeInt into a ", dtypeName(t.dtype), " tensor");
  }
}

void storeDouble(HostTensor& t, int64_t i, double v) {
  if (t.dtype == DType::F64) t.as<double>()[i] = v;
  else storeFloat(t, i, float(v));
}

int64_t normalizeAxis(const OpCall& call, int64_t axis, int64_t rank) {
  int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank)
    call.error("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  return a;
}

const TensorView& OpCall::in(size_t i) const {
  if (i >= operands.size()) error("missing operand " + std::to_string(i));
  return operands[i];
}

void OpCall::error(const std::string& message) const { fail("op ", op.describe(), ": ", message); }

void OpCall::expectOperands(size_t n) const {
  if (operands.size() != n)
    error("expects " + std::to_string(n) + " operands, has " + std::to_string(operands.size()));
}

void OpCall::expectOperandsAtLeast(size_t n) const {
  if (operands.size() < n)
    error("expects at least " + std::to_string(n) + " operands, has " +
          std::to_string(operands.size()));
}

void OpCall::expectDType(size_t i, std::initializer_list<DType> allowed) const {
  const TensorView& v = in(i);
  for (DType t : allowed)
    if (v.dtype == t) return;
  std::string names;
  for (DType t : allowed) names += (names.empty() ? "" : "/") + std::string(dtypeName(t));
  error("operand " + std::to_string(i) + " " + v.describe() + " must be " + names);
}

void OpCall::expectRank(size_t i, size_t rank) const {
  const TensorView& v = in(i);
  if (v.shape.size() != rank)
    error("operand " + std::to_string(i) + " " + v.describe() + " must have rank " +
          std::to_string(rank));
}

std::vector<int64_t> OpCall::declaredShape(size_t i) const {
  if (i >= op.results.size()) error("expects at least " + std::to_string(i + 1) + " results");
  std::vector<int64_t> shape;
  for (const Dim& d : op.results[i]->type.dims) {
    if (!d.isDynamic()) {
      shape.push_back(d.size);
      continue;
    }
    auto it = dims ? dims->find(d.name) : decltype(dims->end()){};
    if (!dims || it == dims->end())
      error("the dynamic dim ?" + d.name + " of the result is not bound by this call's inputs");
    shape.push_back(it->second);
  }
  return shape;
}

DType OpCall::resultDType(size_t i) const {
  if (i >= op.results.size()) error("expects at least " + std::to_string(i + 1) + " results");
  return op.results[i]->type.dtype;
}

}  // namespace bitnetc::interp
