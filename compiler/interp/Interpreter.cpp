// The interpreter's driver: binds inputs and dynamic dims, runs the ops in order through the
// kernel table, checks every result against its declared type, keeps the state values (the KV
// cache) across calls, and frees intermediate values after their last use.
#include "compiler/interp/Interpreter.h"

#include <unistd.h>

#include <cstdint>
#include <unordered_map>

#include "compiler/interp/Kernels.h"

namespace bitnetc {

using interp::Kernel;
using interp::KernelTable;
using interp::OpCall;
using interp::TensorView;

Fault faultFromName(const std::string& name) {
  static const std::pair<const char*, Fault> kNames[] = {
      {"none", Fault::None},
      {"skip-act-quant", Fault::SkipActQuant},
      {"per-tensor-act-quant", Fault::PerTensorActQuant},
      {"interleaved-packing", Fault::InterleavedPacking},
      {"divide-scale", Fault::DivideScale},
      {"gqa-modulo", Fault::GqaModulo},
      {"interleaved-rope", Fault::InterleavedRope},
      {"cache-at-zero", Fault::CacheAtZero},
  };
  std::string known;
  for (const auto& [n, f] : kNames) {
    if (name == n) return f;
    known += known.empty() ? n : std::string(", ") + n;
  }
  fail("unknown fault '", name, "' (known: ", known, ")");
}

namespace {

const KernelTable& kernels() {
  static const KernelTable table = [] {
    KernelTable t;
    interp::registerElementwiseOps(t);
    interp::registerReductionOps(t);
    interp::registerShapeOps(t);
    interp::registerLinearOps(t);
    interp::registerBitNetOps(t);
    interp::registerAttentionOps(t);
    interp::registerCompareOps(t);
    interp::registerIndexOps(t);
    interp::registerLayerNormOps(t);
    interp::registerQuantizedLinearOps(t);
    return t;
  }();
  return table;
}

// Checks a concrete (dtype, shape) against a declared type, binding its dynamic dims.
void checkType(const TensorType& type, DType dtype, const std::vector<int64_t>& shape,
               std::unordered_map<std::string, int64_t>& dims, const std::string& what) {
  if (dtype != type.dtype)
    fail(what, " has dtype ", dtypeName(dtype), ", expected ", type.str());
  if (shape.size() != type.dims.size())
    fail(what, " has shape ", shapeString(shape), ", expected ", type.str());
  for (size_t i = 0; i < shape.size(); ++i) {
    const Dim& d = type.dims[i];
    if (!d.isDynamic()) {
      if (shape[i] != d.size) fail(what, " has shape ", shapeString(shape), ", expected ", type.str());
      continue;
    }
    if (shape[i] > d.max)
      fail(what, ": dynamic dim ?", d.name, " = ", shape[i], " exceeds its bound ", d.max);
    auto [it, inserted] = dims.emplace(d.name, shape[i]);
    if (!inserted && it->second != shape[i])
      fail(what, ": dynamic dim ?", d.name, " = ", shape[i], " but it is ", it->second, " elsewhere in this call");
  }
}

TensorView viewOf(const HostTensor& t, const Value* v) {
  TensorView view;
  view.dtype = t.dtype;
  view.shape = t.shape;
  view.data = t.bytes.data();
  view.value = v;
  return view;
}

TensorView viewOfWeight(const Value* v) {
  const Weight& w = *v->weight;
  TensorView view;
  view.dtype = w.type.dtype;
  view.shape = w.type.staticShape();
  view.data = w.data;
  view.weight = &w;
  view.value = v;
  if (!w.isTernary() && w.expectedBytes() > 0 && (!w.data || w.byteSize < w.expectedBytes()))
    fail("weight @", w.name, " has ", w.byteSize, " bytes, its type ", w.type.str(), " needs ", w.expectedBytes());
  return view;
}

}  // namespace

struct Interpreter::Impl {
  const Module& module;
  const Function& function;
  InterpreterOptions options;
  std::vector<const Kernel*> opKernels;                  // per op
  std::unordered_map<const Value*, HostTensor> states;   // persistent
  std::unordered_map<const Value*, size_t> lastUse;      // op index of the last read
  interp::WeightCache weightCache;

  Impl(const Module& m, const Function& f, InterpreterOptions o)
      : module(m), function(f), options(std::move(o)), weightCache(options.weightCacheBytes) {}
};

Interpreter::Interpreter(const Module& module, const Function& function, InterpreterOptions options)
    : impl_(std::make_shared<Impl>(module, function, std::move(options))) {
  // The state (KV cache) is zeroed up front: a total beyond the machine's memory is an error here,
  // not the OOM killer half-way through the zeroing.
  uint64_t stateBytes = 0;
  for (const Value* s : function.states()) {
    if (!s->type.isStatic()) fail("state %", s->name, " of @", function.name(), " must have a static type, has ", s->type.str());
    if (s->type.dtype == DType::Ternary) fail("state %", s->name, " cannot be ternary");
    uint64_t bytes = dtypeSize(s->type.dtype);
    for (int64_t d : s->type.staticShape())
      if (d < 0 || __builtin_mul_overflow(bytes, uint64_t(d), &bytes)) bytes = UINT64_MAX;
    if (__builtin_add_overflow(stateBytes, bytes, &stateBytes)) stateBytes = UINT64_MAX;
  }
  const uint64_t memory = uint64_t(::sysconf(_SC_PHYS_PAGES)) * uint64_t(::sysconf(_SC_PAGESIZE));
  if (stateBytes > memory)
    fail("@", function.name(), ": the state (KV cache) needs ", stateBytes, " bytes, more than the machine's memory (",
         memory, " bytes); a smaller maximum context shrinks it");
  for (const Value* s : function.states())
    impl_->states.emplace(s, HostTensor::zeros(s->type.dtype, s->type.staticShape()));
  const auto& table = kernels();
  const auto& ops = function.ops();
  for (size_t i = 0; i < ops.size(); ++i) {
    auto it = table.find(ops[i]->opcode);
    if (it == table.end()) fail("op ", ops[i]->describe(), ": the interpreter does not know the op '", ops[i]->opcode, "'");
    impl_->opKernels.push_back(&it->second);
    for (const Value* v : ops[i]->operands) impl_->lastUse[v] = i;
  }
  for (const Value* v : function.outputs()) impl_->lastUse[v] = SIZE_MAX;
}

void Interpreter::resetState() {
  for (auto& [v, t] : impl_->states) std::fill(t.bytes.begin(), t.bytes.end(), 0);
}

std::vector<HostTensor> Interpreter::run(const std::vector<HostTensor>& inputs) {
  Impl& im = *impl_;
  const Function& f = im.function;
  if (inputs.size() != f.inputs().size())
    fail("@", f.name(), " takes ", f.inputs().size(), " inputs, got ", inputs.size());
  std::unordered_map<std::string, int64_t> dims;
  std::unordered_map<const Value*, const HostTensor*> env;  // inputs and states by pointer
  std::unordered_map<const Value*, HostTensor> results;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Value* v = f.inputs()[i];
    if (int64_t(inputs[i].bytes.size()) != inputs[i].numElements() * int64_t(dtypeSize(inputs[i].dtype)))
      fail("input %", v->name, ": byte size does not match its shape");
    checkType(v->type, inputs[i].dtype, inputs[i].shape, dims, "input %" + v->name);
    env[v] = &inputs[i];
  }
  for (auto& [v, t] : im.states) env[v] = &t;

  const auto& ops = f.ops();
  for (size_t i = 0; i < ops.size(); ++i) {
    const Op& op = *ops[i];
    OpCall call{op, {}, {}, im.options.fault, &im.weightCache, {}, {}, false};
    call.dims = &dims;
    for (const Value* v : op.operands) {
      HostTensor* state = nullptr;
      if (v->kind == Value::Kind::Weight) {
        if (!v->weight) fail("op ", op.describe(), ": weight ", v->ref(), " has no data");
        call.operands.push_back(viewOfWeight(v));
      } else if (auto it = results.find(v); it != results.end()) {
        call.operands.push_back(viewOf(it->second, v));
      } else if (auto e = env.find(v); e != env.end()) {
        call.operands.push_back(viewOf(*e->second, v));
        if (v->kind == Value::Kind::State) state = &im.states.at(v);
      } else {
        fail("op ", op.describe(), ": operand ", v->ref(), " is used before it is defined");
      }
      call.states.push_back(state);
    }
    (*im.opKernels[i])(call);
    if (call.results.size() != op.results.size())
      fail("op ", op.describe(), ": produced ", call.results.size(), " results, declares ", op.results.size());
    for (size_t r = 0; r < op.results.size(); ++r)
      checkType(op.results[r]->type, call.results[r].dtype, call.results[r].shape, dims,
                "op " + op.describe() + ": result %" + op.results[r]->name);
    if (im.options.observer) {
      std::vector<const HostTensor*> rs;
      for (const auto& t : call.results) rs.push_back(&t);
      im.options.observer(op, rs, call.hasAccumulators ? &call.accumulators : nullptr);
    }
    for (size_t r = 0; r < op.results.size(); ++r) {
      const Value* v = op.results[r];
      if (im.lastUse.count(v)) results[v] = std::move(call.results[r]);  // unused results are dropped
    }
    for (const Value* v : op.operands)  // free what no later op reads
      if (v->kind == Value::Kind::Result && im.lastUse[v] == i) results.erase(v);
  }

  std::vector<HostTensor> outputs;
  for (const Value* v : f.outputs()) {
    if (v->kind == Value::Kind::Weight) {
      TensorView w = viewOfWeight(v);
      if (w.dtype == DType::Ternary) fail("output ", v->ref(), " cannot be a ternary weight");
      HostTensor t = HostTensor::zeros(w.dtype, w.shape);
      std::copy(w.data, w.data + t.bytes.size(), t.bytes.begin());
      outputs.push_back(std::move(t));
    } else if (auto it = results.find(v); it != results.end()) {
      outputs.push_back(it->second);
    } else if (auto e = env.find(v); e != env.end()) {
      outputs.push_back(*e->second);
    } else {
      fail("@", f.name(), ": output ", v->ref(), " is never defined");
    }
  }
  return outputs;
}

}  // namespace bitnetc
