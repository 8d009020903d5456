// Helpers for the kernel tests: run a function's ops through the C kernels (targets/kernels)
// the way generated code does (bitnet_kernel_args with attributes encoded in OpDef order,
// results sized from the types with the dynamic dims bound by the inputs, states kept across
// calls), run the same function through the reference interpreter, and compare.
#pragma once
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "compiler/interp/Interpreter.h"
#include "compiler/ir/IR.h"
#include "compiler/ir/OpDefs.h"
#include "compiler/ir/Parser.h"
#include "compiler/ir/Verifier.h"
#include "compiler/support/Error.h"
#include "runtime/abi/bitnet_abi.h"
#include "runtime/include/bitnet.h"
#include "targets/kernels/bitnet_kernels.h"

// The runtime's thread pool (runtime/pool.c, internal to the runtime).
extern "C" bitnet_pool* bitnet_rt_pool_create(int64_t n_threads);
extern "C" void bitnet_rt_pool_free(bitnet_pool* pool);

namespace bitnetc::kerneltest {

using KernelFn = int64_t (*)(const bitnet_call*, const bitnet_kernel_args*);

// bitnetk_<opcode>, or bitnetk_bitlinear_<kernel> for a bitlinear with a `kernel` attribute.
inline KernelFn kernelFor(const Op& op) {
  if (op.opcode == "bitlinear" && op.attrs.has("kernel")) {
    const std::string& k = op.attrs.getString("kernel");
#define BK_MATCH_VARIANT(name) \
  if (k == #name) return bitnetk_bitlinear_##name;
    BITNET_BITLINEAR_KERNELS(BK_MATCH_VARIANT)
#undef BK_MATCH_VARIANT
    fail("no kernel bitnetk_bitlinear_", k);
  }
#define BK_MATCH_OPCODE(name) \
  if (op.opcode == #name) return bitnetk_##name;
  BITNET_KERNEL_OPCODES(BK_MATCH_OPCODE)
#undef BK_MATCH_OPCODE
  fail("no kernel for opcode ", op.opcode);
}

// Attributes as bitnet_abi.h specifies: definition order; int/bool -> ints; float -> floats;
// int list -> count + values in ints; float list -> count in ints, values in floats; cast.to ->
// its dtype; absent optional: keepdims 1, others 0 / empty.
struct EncodedAttrs {
  std::vector<int64_t> ints;
  std::vector<double> floats;
};

inline EncodedAttrs encodeAttrs(const Op& op) {
  EncodedAttrs e;
  for (const AttrDef& def : getOpDef(op.opcode).attrs) {
    const Attribute* a = op.attrs.find(def.name);
    switch (def.kind) {
      case AttrKind::Int: e.ints.push_back(a ? op.attrs.getInt(def.name) : 0); break;
      case AttrKind::Bool:
        e.ints.push_back(a ? op.attrs.getBool(def.name) : (def.name == "keepdims" ? 1 : 0));
        break;
      case AttrKind::Float: e.floats.push_back(a ? op.attrs.getFloat(def.name) : 0.0); break;
      case AttrKind::Ints: {
        const std::vector<int64_t> v = a ? op.attrs.getInts(def.name) : std::vector<int64_t>{};
        e.ints.push_back(int64_t(v.size()));
        e.ints.insert(e.ints.end(), v.begin(), v.end());
        break;
      }
      case AttrKind::Floats: {
        const std::vector<double> v =
            a && std::holds_alternative<std::vector<double>>(*a) ? op.attrs.getFloats(def.name)
                                                                 : std::vector<double>{};
        e.ints.push_back(int64_t(v.size()));
        e.floats.insert(e.floats.end(), v.begin(), v.end());
        break;
      }
      case AttrKind::String:
        if (op.opcode == "cast" && def.name == "to")
          e.ints.push_back(int64_t(*dtypeFromName(op.attrs.getString("to"))));
        break;
    }
  }
  return e;
}

inline int64_t abiLayout(const Weight& w) {
  if (w.layout == kLayoutHFBlocked) return BITNET_LAYOUT_HF_BLOCKED_2BIT;
  if (w.layout == kLayoutI8) return BITNET_LAYOUT_I8;
  if (w.layout == kLayoutMad2) return BITNET_LAYOUT_MAD_2BIT;
  if (w.layout == kLayoutLut3) return BITNET_LAYOUT_LUT3_5BIT;
  return BITNET_LAYOUT_NONE;
}

// A pool of n threads from the runtime (n <= 1: no pool, kernels run inline).
struct Pool {
  bitnet_pool* pool = nullptr;
  explicit Pool(int64_t threads) {
    if (threads > 1) pool = bitnet_rt_pool_create(threads);
  }
  ~Pool() {
    if (pool) bitnet_rt_pool_free(pool);
  }
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;
};

// Runs a function's ops through the kernels. States are zero at construction and persist.
class KernelRunner {
 public:
  // stateRows: the capacity passed as dims[0] of every state (<= its static size); -1 = static.
  KernelRunner(const Module& m, const Function& f, bitnet_pool* pool = nullptr, int64_t stateRows = -1)
      : f_(f), pool_(pool), stateRows_(stateRows) {
    for (const Value* s : f.states()) states_.push_back(HostTensor::zeros(s->type.dtype, s->type.staticShape()));
  }

  int64_t status = 0;    // of the last run: 0 or the failing kernel's status
  std::string error;     // its message
  std::map<const Op*, std::vector<HostTensor>> opResults;  // every op's results, last run

  // Returns the function's outputs (empty when a kernel failed: see status / error).
  std::vector<HostTensor> run(const std::vector<HostTensor>& inputs) {
    status = 0;
    error.clear();
    opResults.clear();
    std::unordered_map<const Value*, const HostTensor*> env;
    std::unordered_map<std::string, int64_t> dims;
    if (inputs.size() != f_.inputs().size()) fail("KernelRunner: wrong number of inputs");
    for (size_t i = 0; i < inputs.size(); ++i) {
      const TensorType& t = f_.inputs()[i]->type;
      for (size_t d = 0; d < t.dims.size(); ++d)
        if (t.dims[d].isDynamic()) dims[t.dims[d].name] = inputs[i].shape.at(d);
      env[f_.inputs()[i]] = &inputs[i];
    }
    for (size_t i = 0; i < f_.states().size(); ++i) env[f_.states()[i]] = &states_[i];
    for (const auto& opPtr : f_.ops()) {
      const Op& op = *opPtr;
      std::vector<bitnet_tensor> operands, results;
      for (const Value* v : op.operands) operands.push_back(tensorOf(v, env));
      std::vector<HostTensor>& outs = opResults[&op];
      for (const Value* r : op.results) {
        std::vector<int64_t> shape;
        for (const Dim& d : r->type.dims) shape.push_back(d.isDynamic() ? dims.at(d.name) : d.size);
        outs.push_back(HostTensor::zeros(r->type.dtype, shape));
        // Poison the result: a kernel that leaves elements unwritten shows up in comparisons.
        std::memset(outs.back().bytes.data(), 0xA5, outs.back().bytes.size());
      }
      for (HostTensor& t : outs) results.push_back(tensorOf(t));
      const EncodedAttrs attrs = encodeAttrs(op);
      const std::string description = op.describe();
      bitnet_kernel_args args{description.c_str(), int64_t(operands.size()), operands.data(),
                              int64_t(results.size()), results.data(), int64_t(attrs.ints.size()),
                              attrs.ints.data(), int64_t(attrs.floats.size()), attrs.floats.data()};
      char message[512] = "(untouched)";
      bitnet_call call{};
      call.state_rows = stateRows_;
      call.pool = pool_;
      call.error = message;
      call.error_size = sizeof message;
      status = kernelFor(op)(&call, &args);
      if (status != 0) {
        error = message;
        return {};
      }
      for (size_t i = 0; i < op.results.size(); ++i) env[op.results[i]] = &outs[i];
    }
    std::vector<HostTensor> outputs;
    for (const Value* v : f_.outputs()) {
      if (v->isWeight()) fail("KernelRunner: weight outputs are not supported");
      outputs.push_back(*env.at(v));
    }
    return outputs;
  }

  std::vector<HostTensor>& states() { return states_; }

 private:
  bitnet_tensor tensorOf(const HostTensor& h) {
    bitnet_tensor t{};
    t.data = const_cast<uint8_t*>(h.bytes.data());
    t.dtype = int64_t(h.dtype);
    t.rank = int64_t(h.shape.size());
    for (size_t d = 0; d < h.shape.size(); ++d) t.dims[d] = h.shape[d];
    return t;
  }

  bitnet_tensor tensorOf(const Value* v, const std::unordered_map<const Value*, const HostTensor*>& env) {
    if (v->isWeight()) {
      const Weight& w = *v->weight;
      bitnet_tensor t{};
      t.data = const_cast<uint8_t*>(w.data);
      t.dtype = int64_t(w.type.dtype);
      t.rank = int64_t(w.type.rank());
      for (size_t d = 0; d < w.type.rank(); ++d) t.dims[d] = w.type.dims[d].size;
      if (w.isTernary()) {
        t.layout = abiLayout(w);
        t.scale_rule = int64_t(w.scaleRule);  // None, Mul, Div = BITNET_SCALE_NONE, MUL, DIV
        t.scale = w.scale;
      }
      return t;
    }
    bitnet_tensor t = tensorOf(*env.at(v));
    if (v->kind == Value::Kind::State && stateRows_ >= 0) t.dims[0] = stateRows_;
    return t;
  }

  const Function& f_;
  bitnet_pool* pool_;
  int64_t stateRows_;
  std::vector<HostTensor> states_;
};

// ---- comparisons ----

inline std::string describe(const HostTensor& t) {
  return std::string(dtypeName(t.dtype)) + " " + shapeString(t.shape);
}

inline double elementAsDouble(const HostTensor& t, int64_t i) {
  switch (t.dtype) {
    case DType::F32: return t.as<float>()[i];
    case DType::BF16: return bf16ToFloat(t.as<uint16_t>()[i]);
    case DType::F16: return f16ToFloat(t.as<uint16_t>()[i]);
    case DType::I8: return t.as<int8_t>()[i];
    case DType::U8: return t.as<uint8_t>()[i];
    case DType::I32: return t.as<int32_t>()[i];
    case DType::I64: return double(t.as<int64_t>()[i]);
    default: return 0;
  }
}

// Same dtype, shape and bits (any NaN equals any NaN).
inline ::testing::AssertionResult bitExact(const HostTensor& actual, const HostTensor& expected) {
  if (actual.dtype != expected.dtype || actual.shape != expected.shape)
    return ::testing::AssertionFailure() << "got " << describe(actual) << ", expected " << describe(expected);
  const size_t es = dtypeSize(actual.dtype);
  for (int64_t i = 0; i < actual.numElements(); ++i) {
    if (std::memcmp(actual.bytes.data() + size_t(i) * es, expected.bytes.data() + size_t(i) * es, es) == 0)
      continue;
    const double a = elementAsDouble(actual, i), e = elementAsDouble(expected, i);
    if (isFloat(actual.dtype) && std::isnan(a) && std::isnan(e)) continue;
    return ::testing::AssertionFailure() << "element " << i << " of " << describe(actual) << ": got "
                                         << a << ", expected " << e;
  }
  return ::testing::AssertionSuccess();
}

// |a - e| <= atol + rtol * |e| per element (NaN and infinities must match exactly).
inline ::testing::AssertionResult close(const HostTensor& actual, const HostTensor& expected,
                                        double rtol, double atol) {
  if (actual.dtype != expected.dtype || actual.shape != expected.shape)
    return ::testing::AssertionFailure() << "got " << describe(actual) << ", expected " << describe(expected);
  for (int64_t i = 0; i < actual.numElements(); ++i) {
    const double a = elementAsDouble(actual, i), e = elementAsDouble(expected, i);
    if (std::isnan(a) || std::isnan(e) || std::isinf(a) || std::isinf(e)) {
      if ((std::isnan(a) && std::isnan(e)) || a == e) continue;
    } else if (std::fabs(a - e) <= atol + rtol * std::fabs(e)) {
      continue;
    }
    return ::testing::AssertionFailure() << "element " << i << " of " << describe(actual) << ": got "
                                         << a << ", expected " << e;
  }
  return ::testing::AssertionSuccess();
}

// ---- building test graphs and data ----

inline std::unique_ptr<Module> parse(const std::string& text) { return parseModule(text, "kernel-test.bir"); }

// Random bytes for any non-ternary dtype: floats uniform in [lo, hi], integers over their range
// (or [lo, hi] when given for integers).
inline HostTensor randomTensor(DType t, std::vector<int64_t> shape, uint32_t seed, double lo = -2.0,
                               double hi = 2.0) {
  HostTensor h = HostTensor::zeros(t, std::move(shape));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> real(lo, hi);
  const int64_t n = h.numElements();
  for (int64_t i = 0; i < n; ++i) {
    switch (t) {
      case DType::F32: h.as<float>()[i] = float(real(rng)); break;
      case DType::BF16: h.as<uint16_t>()[i] = floatToBf16(float(real(rng))); break;
      case DType::F16: h.as<uint16_t>()[i] = floatToF16(float(real(rng))); break;
      case DType::I8: h.as<int8_t>()[i] = int8_t(rng()); break;
      case DType::U8: h.as<uint8_t>()[i] = uint8_t(rng()); break;
      case DType::I32: h.as<int32_t>()[i] = int32_t(rng()); break;
      case DType::I64: h.as<int64_t>()[i] = int64_t(rng()); break;
      default: fail("randomTensor: ", dtypeName(t));
    }
  }
  return h;
}

// "tensor<2 x 3 x f32>" for a static shape.
inline std::string typeText(DType t, const std::vector<int64_t>& shape) {
  std::string s = "tensor<";
  for (int64_t d : shape) s += std::to_string(d) + " x ";
  return s + std::string(dtypeName(t)) + ">";
}

// A module whose @forward has one input per given tensor (static types %x0, %x1, ...) and one op
// on them (plus `weights`, module weights appended as operands), its result types inferred by
// the op's type rule, all results returned. Verified.
struct OneOp {
  std::unique_ptr<Module> module = std::make_unique<Module>();
  Function* f = nullptr;
  Op* op = nullptr;
};
inline OneOp oneOp(const std::string& opcode, const std::vector<HostTensor>& inputs,
                   AttributeList attrs = {}, std::vector<Weight> weights = {}) {
  OneOp o;
  o.f = o.module->addFunction("forward");
  std::vector<Value*> operands;
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::vector<Dim> dims;
    for (int64_t d : inputs[i].shape) dims.push_back(Dim::fixed(d));
    operands.push_back(o.f->addInput("x" + std::to_string(i), TensorType(inputs[i].dtype, dims)));
  }
  for (Weight& w : weights) operands.push_back(o.module->addWeight(std::move(w)));
  const OpDef& def = getOpDef(opcode);
  std::vector<std::pair<std::string, TensorType>> results;
  for (int i = 0; i < def.numResults; ++i) results.push_back({"y" + std::to_string(i), TensorType()});
  o.op = o.f->addOp(opcode, operands, results, std::move(attrs));
  const std::vector<TensorType> types = def.inferResults(*o.op);
  for (size_t i = 0; i < types.size(); ++i) o.op->results[i]->type = types[i];
  o.f->setOutputs(o.op->results);
  verify(*o.module);
  return o;
}

inline AttributeList attrs(std::initializer_list<std::pair<std::string, Attribute>> list) {
  AttributeList a;
  for (const auto& [name, value] : list) a.set(name, value);
  return a;
}

// Runs the module's first function through the interpreter and the kernels on the same inputs;
// checks the kernel status is 0 and returns both outputs.
struct BothOutputs {
  std::vector<HostTensor> expected, actual;
};
inline BothOutputs runBoth(const Module& m, const std::vector<HostTensor>& inputs, bitnet_pool* pool = nullptr) {
  const Function& f = *m.functions().at(0);
  Interpreter interp(m, f);
  BothOutputs out;
  out.expected = interp.run(inputs);
  KernelRunner runner(m, f, pool);
  out.actual = runner.run(inputs);
  EXPECT_EQ(runner.status, 0) << runner.error;
  return out;
}

// Every output of the kernels bit-exact with the interpreter's.
inline void expectBitExact(const Module& m, const std::vector<HostTensor>& inputs, const std::string& what,
                           bitnet_pool* pool = nullptr) {
  const BothOutputs both = runBoth(m, inputs, pool);
  ASSERT_EQ(both.actual.size(), both.expected.size()) << what;
  for (size_t i = 0; i < both.actual.size(); ++i)
    EXPECT_TRUE(bitExact(both.actual[i], both.expected[i])) << what << ", output " << i;
}

}  // namespace bitnetc::kerneltest
