// The ops and element types added for ONNX graphs (test/lit/ir/onnx-ops.bir: comparisons,
// where, expand/range/slice with dynamic result dims, trilu, shape, layer_norm, matmul_integer,
// matmul_nbits, matmul on ternary weights, arithmetic/cast/data movement on the new dtypes)
// through the whole compiled pipeline (default passes, target passes, codegen, kernel bitcode,
// O3, ORC JIT), compared with the reference interpreter bit for bit (NaN == NaN) at several
// values of the dynamic dim. The comparison is shown to be sharp: a module compiled with one op
// changed (less -> greater, a slice start, matmul_nbits' bits) must be reported.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "compiler/interp/Interpreter.h"
#include "compiler/ir/Parser.h"
#include "compiler/pass/PassManager.h"
#include "compiler/pass/Pipeline.h"
#include "passes/Passes.h"
#include "runtime/abi/bitnet_abi.h"
#include "targets/Jit.h"
#include "targets/TargetInfo.h"

#if defined(__x86_64__)
namespace bitnetc::target {
namespace {

std::vector<int64_t> concreteShape(const TensorType& t, const std::vector<int64_t>& dims,
                                   const Module& m) {
  std::vector<int64_t> shape;
  for (const Dim& d : t.dims) {
    if (!d.isDynamic()) {
      shape.push_back(d.size);
      continue;
    }
    int64_t i = 0;
    for (const auto& decl : m.dims()) {
      if (decl.first == d.name) break;
      ++i;
    }
    shape.push_back(dims.at(size_t(i)));
  }
  return shape;
}

// Inputs: floats from a normal distribution, a quarter of them from {-1, 0, 0.5, 2} (so that
// equal/less/greater see ties); integers in [1, 5] (valid divisors and gather indices of the
// test module); bools 0/1.
HostTensor makeInput(const TensorType& t, const std::vector<int64_t>& shape, std::mt19937& rng) {
  HostTensor h = HostTensor::zeros(t.dtype, shape);
  const int64_t n = h.numElements();
  std::normal_distribution<double> normal(0.0, 1.5);
  std::uniform_int_distribution<int> small(1, 5), pick(0, 3), coin(0, 1);
  const double ties[] = {-1, 0, 0.5, 2};
  for (int64_t i = 0; i < n; ++i) {
    const double f = pick(rng) == 0 ? ties[pick(rng)] : normal(rng);
    const int k = small(rng);
    switch (t.dtype) {
      case DType::F32: h.as<float>()[i] = float(f); break;
      case DType::F64: h.as<double>()[i] = f; break;
      case DType::Bool: h.as<uint8_t>()[i] = uint8_t(coin(rng)); break;
      case DType::I8: case DType::U8: h.as<uint8_t>()[i] = uint8_t(k); break;
      case DType::I16: case DType::U16: h.as<uint16_t>()[i] = uint16_t(k); break;
      case DType::I32: case DType::U32: h.as<uint32_t>()[i] = uint32_t(k); break;
      case DType::I64: case DType::U64: h.as<uint64_t>()[i] = uint64_t(k); break;
      default: ADD_FAILURE() << "no input generator for " << t.str();
    }
  }
  return h;
}

bool sameValue(DType t, const uint8_t* a, const uint8_t* b) {
  if (t == DType::F32) {
    float x, y;
    std::memcpy(&x, a, 4);
    std::memcpy(&y, b, 4);
    if (std::isnan(x) && std::isnan(y)) return true;
  }
  if (t == DType::F64) {
    double x, y;
    std::memcpy(&x, a, 8);
    std::memcpy(&y, b, 8);
    if (std::isnan(x) && std::isnan(y)) return true;
  }
  return std::memcmp(a, b, dtypeSize(t)) == 0;
}

// Runs every function of `text` through both paths for each dims vector of `steps` (one call
// each, states carried over; a step's pos input is the running total of its first dim).
void compareModule(const std::string& label, const std::string& text,
                   const std::vector<std::vector<int64_t>>& steps, const std::string& compiledText = "") {
  SCOPED_TRACE(label);
  registerAllPasses();
  auto reference = parseModule(text, label);
  auto compiledIr = parseModule(compiledText.empty() ? text : compiledText, label);
  PassManagerOptions po;
  po.pipeline = splitPipeline(defaultPipeline());
  std::ostringstream log;
  PassManager(po, log).run(*compiledIr);
  BackendOptions options;
  options.target = resolveTarget("", "native", "");
  options.prefix = "generic";
  options.maxBatch = 8;
  auto jit = JitModel::compile(*compiledIr, options);
  const bitnet_model_desc* d = jit->descriptor();

  for (int64_t fi = 0; fi < d->num_functions; ++fi) {
    const bitnet_function_desc* f = &d->functions[fi];
    SCOPED_TRACE(std::string("function ") + f->name);
    const Function* rf = reference->function(f->name);
    ASSERT_NE(rf, nullptr);
    Interpreter interp(*reference, *rf);
    // The compiled states: zeroed, with their static row count.
    std::vector<std::vector<uint8_t>> states;
    std::vector<void*> statePtrs;
    int64_t stateRows = 0;
    for (int64_t s = 0; s < f->num_states; ++s) {
      const TensorType& st = rf->states().at(size_t(s))->type;
      size_t bytes = dtypeSize(st.dtype);
      for (const Dim& dim : st.dims) bytes *= size_t(dim.size);
      states.emplace_back(bytes + 64, 0);
      statePtrs.push_back(states.back().data());
      stateRows = st.dims.at(0).size;
    }
    std::mt19937 rng(uint32_t(fi * 977 + 13));
    int64_t pos = 0;
    for (const auto& dims : steps) {
      SCOPED_TRACE("dims[0] = " + std::to_string(dims.at(0)) + ", pos = " + std::to_string(pos));
      std::vector<HostTensor> inputs;
      for (const Value* in : rf->inputs())
        inputs.push_back(makeInput(in->type, concreteShape(in->type, dims, *reference), rng));
      std::vector<HostTensor> want;
      std::string interpError;
      try {
        want = interp.run(inputs);
      } catch (const std::exception& e) {
        interpError = e.what();
      }
      std::vector<std::vector<uint8_t>> outputs;
      std::vector<void*> outPtrs, inPtrs;
      for (auto& in : inputs) inPtrs.push_back(in.bytes.data());
      for (const Value* out : rf->outputs()) {
        auto shape = concreteShape(out->type, dims, *reference);
        size_t bytes = dtypeSize(out->type.dtype);
        for (int64_t s : shape) bytes *= size_t(s);
        outputs.emplace_back(bytes + 64, 0xA5);
        outPtrs.push_back(outputs.back().data());
      }
      const size_t scratchBytes = (size_t(f->scratch_bytes) + 63) / 64 * 64 + 64;
      std::unique_ptr<uint8_t, decltype(&std::free)> scratch(
          static_cast<uint8_t*>(std::aligned_alloc(64, scratchBytes)), &std::free);
      char error[512] = "";
      bitnet_call c;
      std::memset(&c, 0, sizeof c);
      c.dims = dims.data();
      c.inputs = inPtrs.data();
      c.outputs = outPtrs.data();
      c.states = statePtrs.data();
      c.state_rows = stateRows;
      c.scratch = scratch.get();
      c.weights = jit->weights();
      c.error = error;
      c.error_size = sizeof error;
      const int64_t status = f->entry(&c);
      if (!interpError.empty()) {
        EXPECT_NE(status, 0) << "the interpreter failed (" << interpError << "), compiled code did not";
        continue;
      }
      ASSERT_EQ(status, 0) << error;
      ASSERT_EQ(want.size(), outputs.size());
      for (size_t o = 0; o < want.size(); ++o) {
        const size_t eb = dtypeSize(want[o].dtype);
        const int64_t n = want[o].numElements();
        int64_t wrong = 0, first = -1;
        for (int64_t i = 0; i < n; ++i)
          if (!sameValue(want[o].dtype, want[o].bytes.data() + i * eb, outputs[o].data() + i * eb)) {
            if (first < 0) first = i;
            ++wrong;
          }
        float got = 0, exp = 0;
        if (first >= 0 && want[o].dtype == DType::F32) {
          std::memcpy(&got, outputs[o].data() + first * eb, 4);
          std::memcpy(&exp, want[o].bytes.data() + first * eb, 4);
        }
        EXPECT_EQ(wrong, 0) << "output " << o << ": " << wrong << " of " << n
                            << " values differ, first at " << first << " (compiled " << got
                            << ", interpreter " << exp << ")";
        for (size_t i = size_t(n) * eb; i < outputs[o].size(); ++i)
          ASSERT_EQ(outputs[o][i], 0xA5) << "output " << o << " written past its end";
      }
      pos += dims.at(0);
    }
  }
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

const char* kOnnxOps = BITNETC_SOURCE_DIR "/test/lit/ir/onnx-ops.bir";

TEST(BackendOnnxOps, EveryNewOpMatchesTheInterpreter) {
  // ?n <= 6: 1, an odd 3 and the bound.
  compareModule("onnx-ops.bir", readFile(kOnnxOps), {{1}, {3}, {6}});
}

// The comparison is sharp: the same module compiled with one op changed is reported.
std::string changed(const std::string& from, const std::string& to) {
  std::string t = readFile(kOnnxOps);
  const size_t at = t.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return at == std::string::npos ? t : t.replace(at, from.size(), to);
}

TEST(BackendOnnxOps, AChangedCompareIsCaught) {
  EXPECT_NONFATAL_FAILURE(compareModule("onnx-ops.bir", readFile(kOnnxOps), {{3}},
                                        changed("\n  %lt = less(%x, %y)", "\n  %lt = greater(%x, %y)")),
                          "values differ");
}

TEST(BackendOnnxOps, AChangedSliceIsCaught) {
  EXPECT_NONFATAL_FAILURE(compareModule("onnx-ops.bir", readFile(kOnnxOps), {{3}},
                                        changed("{starts = [2], axes = [-1], steps = [5]}",
                                                "{starts = [1], axes = [-1], steps = [5]}")),
                          "values differ");
}

TEST(BackendOnnxOps, AChangedIntegerOpIsCaught) {
  EXPECT_NONFATAL_FAILURE(compareModule("onnx-ops.bir", readFile(kOnnxOps), {{3}},
                                        changed("%bd = div(%bs, %b)", "%bd = sub(%bs, %b)")),
                          "values differ");
}

}  // namespace
}  // namespace bitnetc::target
#endif
