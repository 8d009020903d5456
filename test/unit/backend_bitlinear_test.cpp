// Kernel-level bit-exactness through the whole compiled pipeline (select-kernels, pack-weights,
// codegen, the runtime and kernel bitcode, O3 for the CPU, ORC JIT) at every x86-64 level this
// host runs: one module per level holds one-op functions over many shapes, called through the
// model descriptor with our own bitnet_call (pool NULL: inline), and compared with exact
// references computed here:
//   - bitlinear with scale rule none and s = 1: y = f32(acc), where acc = sum_k q_k * T[n, k] is
//     an exact integer (|acc| <= 128 * 6912 < 2^24, so f32(acc) is exact too); every kernel of
//     the table that the level runs (hf2 on the packed checkpoint layout, i8, and the MAD family
//     on mad_2bit: portable, AVX2, AVX-VNNI, AVX-512 VNNI zmm/ymm; GEMV for 1 row, the GEMM
//     from 2 rows on), sizes N, K in {1, 3, 4, 5, 63, .., 2560, 6912} with 1, 2, 7, 33, 256 and
//     257 rows (past one 256-token pass), extreme rows (all -128, all 127, all zero,
//     alternating) and extreme weight rows (all +1, all zero, all -1);
//   - bitlinear with the mul and div rules: the f32 formulas of docs/IR.md on the exact acc;
//   - act_quant: s = 127 / max(absmax, 1e-5) and q = clamp(roundeven(x * s)) in f32, with exact
//     ties (x * s = k + 0.5), zero rows, huge, tiny, infinite and NaN inputs.
// Every comparison is bit for bit, over ~1.3 M values per level. SeesWrongKernels proves the
// comparison sharp: libraries built with test-only kernel faults (bitnetc --inject-fault) fail it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "compiler/ir/IR.h"
#include "runtime/abi/bitnet_abi.h"
#include "targets/Jit.h"
#include "targets/TargetInfo.h"
#include "targets/kernels/bitnet_kernels.h"
#include "targets/passes/KernelTable.h"

#if defined(__x86_64__)
namespace bitnetc::target {
namespace {

constexpr int64_t kSizes[] = {1, 3, 4, 5, 63, 64, 65, 127, 128, 129, 255, 257, 1000, 2560};
constexpr int64_t kRows[] = {1, 2, 7, 33, 256, 257};
constexpr int64_t kMaxRows = 257;

struct BitlinearCase {
  int64_t N, K;
  std::string kernel;  // a variant of the kernel table
  ScaleRule rule;
  float ws;
  std::string name;
  size_t shape;  // index into the fixture's shapes (weights and exact accumulators)
};

struct Shape {
  int64_t N, K;
  std::vector<int8_t> T;  // [N, K]
};

// Every N against K = 129 and every K against N = 5 (hf2: ceil(N/4) packed rows with padding;
// mad_2bit: partial row groups and 256-column blocks), the diagonal, the two large rectangles and
// the 2B-4T down projection's K.
std::vector<Shape> bitlinearShapes() {
  std::vector<std::pair<int64_t, int64_t>> dims;
  for (int64_t s : kSizes) {
    dims.push_back({s, 129});
    dims.push_back({5, s});
    dims.push_back({s, s});
  }
  dims.push_back({1000, 2560});
  dims.push_back({2560, 1000});
  dims.push_back({5, 6912});
  dims.push_back({33, 6912});
  std::vector<Shape> shapes;
  std::map<std::pair<int64_t, int64_t>, bool> seen;
  std::mt19937 rng(7);
  for (auto [N, K] : dims) {
    if (seen[{N, K}]) continue;
    seen[{N, K}] = true;
    std::uniform_int_distribution<int> dist(-1, 1);
    std::vector<int8_t> T(size_t(N * K));
    for (auto& t : T) t = int8_t(dist(rng));
    for (int64_t k = 0; k < K; ++k) {  // extreme rows: all +1 (row 0), all 0 (row 1), all -1 (row N-1)
      T[size_t(k)] = 1;
      if (N > 2) T[size_t(K + k)] = 0;
      if (N > 1) T[size_t((N - 1) * K + k)] = -1;
    }
    shapes.push_back({N, K, std::move(T)});
  }
  return shapes;
}

// One case per shape and kernel, plus the scale rules.
std::vector<BitlinearCase> bitlinearCases(const std::vector<Shape>& shapes, const std::vector<std::string>& kernels) {
  std::vector<BitlinearCase> cases;
  for (size_t i = 0; i < shapes.size(); ++i)
    for (const std::string& kernel : kernels) {
      const std::string name = "bl_" + kernel + "_" + std::to_string(shapes[i].N) + "x" + std::to_string(shapes[i].K);
      cases.push_back({shapes[i].N, shapes[i].K, kernel, ScaleRule::None, 1.0f, name, i});
    }
  auto find = [&](int64_t N, int64_t K) {
    for (size_t i = 0; i < shapes.size(); ++i)
      if (shapes[i].N == N && shapes[i].K == K) return i;
    return size_t(0);
  };
  for (const std::string& kernel : kernels) {
    cases.push_back({65, 257, kernel, ScaleRule::Mul, 1.37f, "bl_mul_" + kernel, find(257, 257)});
    cases.push_back({65, 257, kernel, ScaleRule::Div, 0.73f, "bl_div_" + kernel, find(257, 257)});
  }
  for (auto& c : cases) c.N = shapes[c.shape].N, c.K = shapes[c.shape].K;
  return cases;
}

// The activations: [kMaxRows, K] with extreme rows first.
std::vector<int8_t> activations(int64_t K, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(-128, 127);
  std::vector<int8_t> q(size_t(kMaxRows * K));
  for (int64_t r = 0; r < kMaxRows; ++r)
    for (int64_t k = 0; k < K; ++k) {
      int8_t v = int8_t(dist(rng));
      if (r == 0) v = -128;
      if (r == 1) v = 127;
      if (r == 2) v = 0;
      if (r == 3) v = k % 2 ? 127 : -128;
      q[size_t(r * K + k)] = v;
    }
  return q;
}

// Scales for the mul/div cases (s = 1 for rule none).
std::vector<float> scales(ScaleRule rule, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(0.01f, 300.0f);
  std::vector<float> s(kMaxRows, 1.0f);
  if (rule != ScaleRule::None)
    for (float& v : s) v = dist(rng);
  return s;
}

// act_quant inputs [kMaxRows, K]: ties, zeros, extremes, non-finite values.
std::vector<float> actQuantInputs(int64_t K, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-3.0f, 3.0f);
  std::uniform_int_distribution<int> ints(-127, 126);
  std::vector<float> x(size_t(kMaxRows * K));
  for (int64_t r = 0; r < kMaxRows; ++r)
    for (int64_t k = 0; k < K; ++k) {
      float v = dist(rng);
      switch (r) {
        case 0: v = 0.0f; break;                                                  // absmax 0: s = 127 / 1e-5
        case 1: v = k == 0 ? 127.0f : float(ints(rng)) + 0.5f; break;             // s = 1: exact ties
        case 2: v = k == 0 ? -127.0f : float(ints(rng)) + (k % 2 ? 0.5f : -0.5f); break;
        case 3: v = k % 3 == 0 ? 1e30f : (k % 3 == 1 ? -1e-30f : 3e-39f); break;  // huge, tiny, subnormal
        case 4: v = k == 0 ? std::numeric_limits<float>::quiet_NaN() : v; break;  // NaN: q = 0, not the max
        case 5: v = k == 0 ? -std::numeric_limits<float>::infinity() : v; break;  // inf: s = 0
        case 6: v = 1e-7f * v; break;                                             // absmax < 1e-5
        default: break;
      }
      x[size_t(r * K + k)] = v;
    }
  return x;
}

Dim rowsDim() { return Dim::dynamic("n", kMaxRows); }

// The module: one function per case; ops carry their kernel (select-kernels keeps it).
// Weights are given in the checkpoint layout (hf2) or i8; pack-weights converts them to the
// layout of their kernel, as in bitnetc.
std::unique_ptr<Module> buildModule(const std::vector<BitlinearCase>& cases, const std::vector<Shape>& shapes) {
  auto m = std::make_unique<Module>();
  m->declareDim("n", kMaxRows);
  for (const auto& c : cases) {
    const std::string_view layout = c.kernel == "i8" ? kLayoutI8 : kLayoutHFBlocked;
    Value* w = m->addWeight(makeTernaryWeight("w_" + c.name, c.N, c.K, shapes[c.shape].T, layout, c.rule, c.ws));
    Function* f = m->addFunction(c.name);
    Value* q = f->addInput("q", TensorType(DType::I8, {rowsDim(), Dim::fixed(c.K)}));
    Value* s = f->addInput("s", TensorType(DType::F32, {rowsDim()}));
    AttributeList attrs;
    attrs.set("kernel", c.kernel);
    Op* op = f->addOp("bitlinear", {q, s, w}, {{"y", TensorType(DType::F32, {rowsDim(), Dim::fixed(c.N)})}}, attrs);
    f->setOutputs({op->result()});
  }
  for (int64_t K : kSizes) {
    Function* f = m->addFunction("aq_" + std::to_string(K));
    Value* x = f->addInput("x", TensorType(DType::F32, {rowsDim(), Dim::fixed(K)}));
    Op* op = f->addOp("act_quant", {x},
                      {{"q", TensorType(DType::I8, {rowsDim(), Dim::fixed(K)})}, {"s", TensorType(DType::F32, {rowsDim()})}});
    f->setOutputs({op->result(0), op->result(1)});
  }
  return m;
}

// Calls entry point `name` of the JIT-compiled module with M rows.
class Caller {
 public:
  explicit Caller(const JitModel& jit) : jit_(jit) {
    const bitnet_model_desc* d = jit.descriptor();
    for (int64_t i = 0; i < d->num_functions; ++i) functions_[d->functions[i].name] = &d->functions[i];
  }
  int64_t call(const std::string& name, int64_t M, std::vector<void*> inputs, std::vector<void*> outputs) {
    const bitnet_function_desc* f = functions_.at(name);
    const size_t bytes = (size_t(f->scratch_bytes) + 63) / 64 * 64 + 64;
    std::unique_ptr<uint8_t, decltype(&std::free)> scratch(static_cast<uint8_t*>(std::aligned_alloc(64, bytes)), &std::free);
    bitnet_call c;
    std::memset(&c, 0, sizeof c);
    c.dims = &M;
    c.inputs = inputs.data();
    c.outputs = outputs.data();
    c.scratch = scratch.get();
    c.weights = jit_.weights();
    c.pool = nullptr;
    c.error = error_;
    c.error_size = sizeof error_;
    error_[0] = '\0';
    return f->entry(&c);
  }
  bool has(const std::string& name) const { return functions_.count(name) != 0; }
  const char* error() const { return error_; }

 private:
  const JitModel& jit_;
  std::map<std::string, const bitnet_function_desc*> functions_;
  char error_[512];
};

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

// The shapes with their inputs and exact accumulators, computed once for every level.
struct Fixture {
  std::vector<Shape> shapes = bitlinearShapes();
  std::vector<std::vector<int8_t>> q;       // [kMaxRows, K] per shape
  std::vector<std::vector<int64_t>> acc;    // [kMaxRows, N] per shape
  std::map<uint32_t, std::vector<float>> s; // scales per seed K (rule none: ones)
  std::map<int64_t, std::vector<float>> x;  // act_quant inputs per K
  Fixture() {
    for (const auto& sh : shapes) {
      q.push_back(activations(sh.K, uint32_t(sh.N * 31 + sh.K)));
      std::vector<int64_t> a(size_t(kMaxRows * sh.N));
      for (int64_t r = 0; r < kMaxRows; ++r)
        for (int64_t n = 0; n < sh.N; ++n) {
          const int8_t* qr = q.back().data() + r * sh.K;
          const int8_t* t = sh.T.data() + n * sh.K;
          int64_t sum = 0;
          for (int64_t k = 0; k < sh.K; ++k) sum += int64_t(qr[k]) * t[k];
          a[size_t(r * sh.N + n)] = sum;
        }
      acc.push_back(std::move(a));
    }
    for (int64_t K : kSizes) x[K] = actQuantInputs(K, uint32_t(K));
  }
  static const Fixture& get() {
    static const Fixture f;
    return f;
  }
};

// The kernel table's variants that code for the target may call.
std::vector<std::string> kernelsFor(const TargetInfo& target) {
  std::vector<std::string> names;
  for (const auto& k : bitlinearKernels())
    if (kernelRunsOn(k, target)) names.push_back(std::string(k.name));
  return names;
}

// Values compared and how many differed from the exact references.
struct Tally {
  int64_t checked = 0, wrong = 0;
  std::string first;  // the first difference
  void check(bool same, const std::string& where) {
    ++checked;
    if (same) return;
    if (wrong++ == 0) first = where;
  }
};

// Compiles every case for the target (with a test-only kernel fault, or none) and compares every
// output with the exact references.
Tally runLevel(const std::string& cpu, const std::string& attrs, int64_t fault,
               std::vector<std::string> kernels = {}) {
  const Fixture& fx = Fixture::get();
  BackendOptions options;
  options.target = resolveTarget("x86_64-linux-gnu", cpu, attrs);
  if (kernels.empty()) kernels = kernelsFor(options.target);
  const std::vector<BitlinearCase> cases = bitlinearCases(fx.shapes, kernels);
  auto module = buildModule(cases, fx.shapes);
  options.prefix = "exact";
  options.fault = fault;
  auto jit = JitModel::compile(*module, options);
  Caller caller(*jit);
  Tally tally;
  auto where = [&](const std::string& name, int64_t M, const std::string& what, float got, float want) {
    return cpu + attrs + " " + name + " with " + std::to_string(M) + " rows: " + what + " = " + std::to_string(got) +
           ", want " + std::to_string(want);
  };
  for (const BitlinearCase& c : cases) {
    const std::vector<int8_t>& q = fx.q[c.shape];
    const std::vector<float> s = scales(c.rule, uint32_t(c.K));
    const std::vector<int64_t>& acc = fx.acc[c.shape];
    EXPECT_TRUE(caller.has(c.name)) << c.name;
    for (int64_t M : kRows) {
      std::vector<float> y(size_t(M * c.N), std::numeric_limits<float>::quiet_NaN());
      EXPECT_EQ(caller.call(c.name, M, {const_cast<int8_t*>(q.data()), const_cast<float*>(s.data())}, {y.data()}), 0)
          << c.name << ": " << caller.error();
      for (int64_t r = 0; r < M; ++r)
        for (int64_t n = 0; n < c.N; ++n) {
          const float a = float(acc[size_t(r * c.N + n)]);  // exact: |acc| < 2^24
          float want = a / s[size_t(r)];
          if (c.rule == ScaleRule::Mul) want = (a * c.ws) / s[size_t(r)];
          if (c.rule == ScaleRule::Div) want = a / (c.ws * s[size_t(r)]);
          const float got = y[size_t(r * c.N + n)];
          tally.check(bits(got) == bits(want),
                      where(c.name, M, "y[" + std::to_string(r) + ", " + std::to_string(n) + "]", got, want));
        }
    }
  }
  for (int64_t K : kSizes) {
    const std::string name = "aq_" + std::to_string(K);
    const std::vector<float>& x = fx.x.at(K);
    for (int64_t M : kRows) {
      std::vector<int8_t> q(size_t(M * K), 99);
      std::vector<float> s(size_t(M), std::numeric_limits<float>::quiet_NaN());
      EXPECT_EQ(caller.call(name, M, {const_cast<float*>(x.data())}, {q.data(), s.data()}), 0)
          << name << ": " << caller.error();
      for (int64_t r = 0; r < M; ++r) {
        float absmax = 0.0f;
        for (int64_t k = 0; k < K; ++k) absmax = std::max(absmax, std::fabs(x[size_t(r * K + k)]));
        const float scale = 127.0f / std::max(absmax, 1e-5f);
        tally.check(bits(s[size_t(r)]) == bits(scale), where(name, M, "s[" + std::to_string(r) + "]", s[size_t(r)], scale));
        for (int64_t k = 0; k < K; ++k) {
          const float v = std::nearbyint(x[size_t(r * K + k)] * scale);
          const int want = std::isnan(v) ? 0 : int(std::min(std::max(v, -128.0f), 127.0f));
          tally.check(int(q[size_t(r * K + k)]) == want,
                      where(name, M, "q[" + std::to_string(r) + ", " + std::to_string(k) + "]", float(q[size_t(r * K + k)]),
                            float(want)));
        }
      }
    }
  }
  return tally;
}

// The number of values runLevel compares: every output of every case at every row count.
int64_t expectedValues(const std::vector<std::string>& kernels) {
  const Fixture& fx = Fixture::get();
  int64_t rows = 0, n = 0;
  for (int64_t M : kRows) rows += M;
  for (const auto& c : bitlinearCases(fx.shapes, kernels)) n += rows * c.N;
  for (int64_t K : kSizes) n += rows * (K + 1);
  return n;
}

// Runs every kernel the level runs; `expect` must be among them (the level tests what it claims).
void checkLevel(const std::string& cpu, const std::string& attrs, std::vector<std::string> expect) {
  const TargetInfo target = resolveTarget("x86_64-linux-gnu", cpu, attrs);
  if (!target.hostCanRun()) GTEST_SKIP() << "this CPU cannot run " << cpu << " " << attrs;
  const std::vector<std::string> kernels = kernelsFor(target);
  for (const std::string& k : expect)
    EXPECT_NE(std::find(kernels.begin(), kernels.end(), k), kernels.end()) << cpu << " " << attrs << " runs no " << k;
  const Tally t = runLevel(cpu, attrs, BITNET_FAULT_NONE);
  EXPECT_EQ(t.checked, expectedValues(kernels));
  EXPECT_EQ(t.wrong, 0) << t.wrong << " of " << t.checked << " values differ; the first: " << t.first;
  ::testing::Test::RecordProperty("values_checked", std::to_string(t.checked));
}

TEST(BackendExact, X86_64) { checkLevel("x86-64", "", {"hf2", "i8", "mad"}); }
TEST(BackendExact, X86_64_V2) { checkLevel("x86-64-v2", "", {"hf2", "i8", "mad"}); }
TEST(BackendExact, X86_64_V3) { checkLevel("x86-64-v3", "", {"mad_avx2"}); }
// AVX-512 without VNNI: the AVX2 variant at AVX-512 width for the rest of the code.
TEST(BackendExact, X86_64_V4) { checkLevel("x86-64-v4", "", {"mad_avx2"}); }
// AVX2 without any VNNI, and AVX-512 VNNI (zmm and the EVEX form of the AVX-VNNI code).
TEST(BackendExact, Haswell) { checkLevel("haswell", "", {"mad_avx2"}); }
// (x86-64-v4 + avx512vnni rather than a named CPU: a VM's CPU may lack some of its features.)
TEST(BackendExact, X86_64_V4_Avx512Vnni) {
  checkLevel("x86-64-v4", "+avx512vnni", {"mad_avx512vnni", "mad_avx512vnni_ymm"});
}
// The host CPU itself, whatever the cost model gives it.
TEST(BackendExact, Native) { checkLevel("native", "", {}); }
// AVX-VNNI (VEX): only on a CPU that has it (not Zen 4; the same code runs EVEX-encoded above).
TEST(BackendExact, X86_64_V3_AvxVnni) { checkLevel("x86-64-v3", "+avxvnni", {"mad_avxvnni"}); }

// The levels above must not all be skipped: this machine runs at least the baseline.
TEST(BackendExact, HostRunsTheBaseline) {
  EXPECT_TRUE(resolveTarget("x86_64-linux-gnu", "x86-64", "").hostCanRun());
}

// The comparison is sharp: kernels with a deliberate bug (bitnetc --inject-fault) are caught.
TEST(BackendExact, SeesWrongKernels) {
  const std::vector<std::string> portable = {"hf2", "i8"};
  const Tally packing = runLevel("x86-64", "", BITNET_FAULT_INTERLEAVED_PACKING, portable);  // hf2 rows misplaced
  EXPECT_GT(packing.wrong, 0);
  const Tally quant = runLevel("x86-64", "", BITNET_FAULT_SKIP_ACT_QUANT, portable);  // act_quant without its scale
  EXPECT_GT(quant.wrong, 0);
  const Tally scale = runLevel("x86-64", "", BITNET_FAULT_DIVIDE_SCALE, portable);  // only the mul-rule cases change
  EXPECT_GT(scale.wrong, 0);
  EXPECT_LT(scale.wrong, packing.wrong);
}

}  // namespace
}  // namespace bitnetc::target
#endif  // __x86_64__
