// Comparisons (equal less greater -> bool) and where, with numpy broadcasting. Floats compare as
// their f32 (or f64) values (NaN compares false, -0 equals +0), signed integers as int64,
// unsigned ones as uint64, bool as 0/1. where copies the chosen element's bytes.
#include <cstring>

#include "compiler/interp/Broadcast.h"
#include "compiler/interp/Kernels.h"

namespace bitnetc::interp {
namespace {

enum class Cmp { Equal, Less, Greater };

template <typename T>
bool compare(Cmp c, T a, T b) {
  return c == Cmp::Equal ? a == b : c == Cmp::Less ? a < b : a > b;
}

void compareKernel(OpCall& call) {
  call.expectOperands(2);
  const TensorView &a = call.in(0), &b = call.in(1);
  if (a.dtype != b.dtype || a.dtype == DType::Ternary)
    call.error("operands " + a.describe() + " and " + b.describe() + " must have one dtype");
  if (call.resultDType() != DType::Bool) call.error("the result must be bool");
  const std::string& op = call.op.opcode;
  const Cmp c = op == "equal" ? Cmp::Equal : op == "less" ? Cmp::Less : Cmp::Greater;
  const std::vector<int64_t> out = broadcastShape(call, a.shape, b.shape);
  HostTensor r = HostTensor::zeros(DType::Bool, out);
  uint8_t* pr = r.as<uint8_t>();
  const auto sa = broadcastStrides(a.shape, out), sb = broadcastStrides(b.shape, out);
  forEachBroadcast(out, sa, sb, [&](int64_t i, int64_t ia, int64_t ib) {
    bool v;
    if (isFloat(a.dtype)) v = compare(c, a.floatAt(ia), b.floatAt(ib));
    else if (a.dtype == DType::F64) v = compare(c, a.doubleAt(ia), b.doubleAt(ib));
    else if (isUnsigned(a.dtype)) v = compare(c, a.uintAt(ia), b.uintAt(ib));
    else v = compare(c, a.intAt(ia), b.intAt(ib));
    pr[i] = v;
  });
  call.results.push_back(std::move(r));
}

void whereKernel(OpCall& call) {
  call.expectOperands(3);
  call.expectDType(0, {DType::Bool});
  const TensorView &cond = call.in(0), &a = call.in(1), &b = call.in(2);
  if (a.dtype != b.dtype || a.dtype == DType::Ternary || call.resultDType() != a.dtype)
    call.error("operands " + a.describe() + " and " + b.describe() + " and the result must have one dtype");
  const std::vector<int64_t> ab = broadcastShape(call, a.shape, b.shape);
  const std::vector<int64_t> out = broadcastShape(call, cond.shape, ab);
  HostTensor r = HostTensor::zeros(a.dtype, out);
  const size_t size = dtypeSize(a.dtype);
  // Two walks over the result: (cond, a), then (cond, b) for the false elements.
  const auto sc = broadcastStrides(cond.shape, out);
  forEachBroadcast(out, sc, broadcastStrides(a.shape, out), [&](int64_t i, int64_t ic, int64_t ia) {
    if (cond.data[ic]) std::memcpy(r.bytes.data() + size_t(i) * size, a.data + size_t(ia) * size, size);
  });
  forEachBroadcast(out, sc, broadcastStrides(b.shape, out), [&](int64_t i, int64_t ic, int64_t ib) {
    if (!cond.data[ic]) std::memcpy(r.bytes.data() + size_t(i) * size, b.data + size_t(ib) * size, size);
  });
  call.results.push_back(std::move(r));
}

}  // namespace

void registerCompareOps(KernelTable& table) {
  for (const char* op : {"equal", "less", "greater"}) table[op] = compareKernel;
  table["where"] = whereKernel;
}

}  // namespace bitnetc::interp
