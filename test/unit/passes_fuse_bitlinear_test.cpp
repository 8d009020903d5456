// fuse-bitlinear (after canonicalize and constant-fold, as in the ONNX pipeline) against the
// float graph it replaces, through the interpreter on random inputs:
//  - the fused act_quant's q equals the float chain's clip(round(x * s)) exactly, and the fused
//    weight's codes equal the float weight's ternary values (and the online weight chain's);
//  - every output is within the bound stated in passes/FuseBitLinear.cpp,
//      |fused - float| <= 2^-20 * (ws / s) * sum_k |q_k T[k, n]|,
//    and that bound is sharp enough to catch a wrong scale rule or packing (interpreter faults);
//  - functions that must not fuse (the lit test's near-misses) and canonicalize's rewrites keep
//    every output bit for bit.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "compiler/interp/Interpreter.h"
#include "compiler/ir/Parser.h"
#include "compiler/ir/Printer.h"
#include "compiler/pass/PassManager.h"
#include "passes/Passes.h"

namespace bitnetc {
namespace {

constexpr const char* kPipeline = "canonicalize,constant-fold,fuse-bitlinear,cse,dce";

std::string fmt(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", double(v));
  return buf;
}

std::string dense(const std::vector<float>& v) {
  std::string s = "dense<[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + fmt(v[i]);
  return s + "]>";
}

std::unique_ptr<Module> runPipeline(const std::string& text, std::string_view pipeline = kPipeline) {
  auto m = parseModule(text, "test.bir");
  PassManagerOptions o;
  o.pipeline = splitPipeline(pipeline);
  std::ostringstream log;
  PassManager(o, log).run(*m);
  return m;
}

int count(const Function& f, std::string_view opcode) {
  int n = 0;
  for (const auto& op : f.ops()) n += op->opcode == opcode;
  return n;
}

// Random activation rows, with the rows act_quant treats specially: all zero, absmax below 1e-5,
// huge, one that makes x * s land on .5 (ties round to even).
std::vector<float> activations(int64_t rows, int64_t k, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(size_t(rows * k));
  for (int64_t r = 0; r < rows; ++r) {
    const float scale = r == 1 ? 0.0f : r == 2 ? 3e-6f : r == 3 ? 1e4f : 1.0f;
    for (int64_t i = 0; i < k; ++i) x[size_t(r * k + i)] = normal(rng) * scale;
  }
  if (rows > 4) {  // absmax 127: x * s = x, so 0.5, 1.5, -2.5 are exact ties
    for (int64_t i = 0; i < k; ++i) x[size_t(4 * k + i)] = float(int(i % 7) - 3) + 0.5f;
    x[size_t(4 * k)] = 127.0f;
  }
  return x;
}

struct Case {
  int64_t k, n, rows;
  float a;       // magnitude of the weight's non-zero elements
  float ws;      // trailing mul (0: none)
  bool reciprocal = false;  // 127 * (1 / c) and q * (1 / s) spellings
  bool perColumn = false;   // column n holds T * a * {1, 0.5, 2}[n % 3]
};

float columnFactor(const Case& c, int64_t n) { return c.perColumn ? std::array<float, 3>{1.0f, 0.5f, 2.0f}[size_t(n % 3)] : 1.0f; }

// The weight's effective scale of output n: a (* ws when there is a trailing mul), per column.
std::vector<double> outputScales(const Case& c) {
  std::vector<double> s(size_t(c.n));
  for (int64_t n = 0; n < c.n; ++n) s[size_t(n)] = double(c.a) * columnFactor(c, n) * (c.ws != 0 ? c.ws : 1.0f);
  return s;
}

std::string fakeQuantModule(const Case& c, const std::vector<int8_t>& t /* [K, N] */) {
  std::vector<float> w(t.size());
  for (size_t i = 0; i < t.size(); ++i) w[i] = float(t[i]) * c.a * columnFactor(c, int64_t(i) % c.n);
  const std::string K = std::to_string(c.k), N = std::to_string(c.n);
  const std::string X = "tensor<?seq x " + K + " x f32>", S = "tensor<?seq x 1 x f32>", Y = "tensor<?seq x " + N + " x f32>";
  std::string m = "bir 1\ndim ?seq <= 64\n";
  m += "weight @w : tensor<" + K + " x " + N + " x f32> = " + dense(w) + "\n";
  m += "weight @c127 : tensor<f32> = dense<[127]>\nweight @eps : tensor<f32> = dense<[1e-05]>\n";
  m += "weight @ws : tensor<1 x f32> = dense<[" + fmt(c.ws) + "]>\n";
  m += "func @main(%x: " + X + ") -> (" + Y + ") {\n";
  m += "  %ax = abs(%x) : " + X + "\n";
  m += "  %mx = reduce_max(%ax) {axes = [-1], keepdims = true} : " + S + "\n";
  m += "  %c = max(%mx, @eps) : " + S + "\n";
  if (c.reciprocal) {
    m += "  %rc = reciprocal(%c) : " + S + "\n";
    m += "  %s = mul(@c127, %rc) : " + S + "\n";
  } else {
    m += "  %s = div(@c127, %c) : " + S + "\n";
  }
  m += "  %xs = mul(%x, %s) : " + X + "\n";
  m += "  %r = round(%xs) : " + X + "\n";
  m += "  %q = clip(%r) {min = -128.0, max = 127.0} : " + X + "\n";
  if (c.reciprocal) {
    m += "  %rs = reciprocal(%s) : " + S + "\n";
    m += "  %xq = mul(%q, %rs) : " + X + "\n";
  } else {
    m += "  %xq = div(%q, %s) : " + X + "\n";
  }
  m += "  %y = matmul(%xq, @w) : " + Y + "\n";
  if (c.ws != 0) {
    m += "  %z = mul(%y, @ws) : " + Y + "\n  return %z\n}\n";
  } else {
    m += "  return %y\n}\n";
  }
  return m;
}

// Runs @main on x [rows, K]; returns the output and the values named in `grab` (by observer).
std::vector<float> run(const Module& m, const std::vector<float>& x, int64_t rows, int64_t k,
                       std::map<std::string, HostTensor>* grab = nullptr, Fault fault = Fault::None) {
  InterpreterOptions o;
  o.fault = fault;
  if (grab)
    o.observer = [&](const Op& op, const std::vector<const HostTensor*>& results, const HostTensor*) {
      for (size_t i = 0; i < results.size(); ++i)
        if (grab->count(op.results[i]->name)) (*grab)[op.results[i]->name] = *results[i];
    };
  Interpreter interp(m, *m.function("main"), o);
  auto out = interp.run({HostTensor::fromF32({rows, k}, x)});
  return std::vector<float>(out[0].as<float>(), out[0].as<float>() + out[0].numElements());
}

// The act_quant reference (docs/IR.md) for the bound: q and s per row.
void actQuant(const std::vector<float>& x, int64_t rows, int64_t k, std::vector<int>& q, std::vector<float>& s) {
  q.assign(x.size(), 0);
  s.assign(size_t(rows), 0);
  for (int64_t r = 0; r < rows; ++r) {
    float amax = 0;
    for (int64_t i = 0; i < k; ++i) amax = std::max(amax, std::fabs(x[size_t(r * k + i)]));
    s[size_t(r)] = 127.0f / std::max(amax, 1e-5f);
    for (int64_t i = 0; i < k; ++i)
      q[size_t(r * k + i)] = int(std::min(std::max(std::nearbyint(x[size_t(r * k + i)] * s[size_t(r)]), -128.0f), 127.0f));
  }
}

// Largest |fused - float| / bound over all outputs.
double worstRatio(const std::vector<float>& fused, const std::vector<float>& ref, const std::vector<float>& x,
                  const std::vector<int8_t>& t, const Case& c, const std::vector<double>& scale) {
  std::vector<int> q;
  std::vector<float> s;
  actQuant(x, c.rows, c.k, q, s);
  double worst = 0;
  for (int64_t r = 0; r < c.rows; ++r)
    for (int64_t n = 0; n < c.n; ++n) {
      double mass = 0;
      for (int64_t i = 0; i < c.k; ++i) mass += std::abs(q[size_t(r * c.k + i)] * t[size_t(i * c.n + n)]);
      const double bound = std::ldexp(1.0, -20) * std::fabs(scale[size_t(n)]) / s[size_t(r)] * mass;
      const double diff = std::fabs(double(fused[size_t(r * c.n + n)]) - double(ref[size_t(r * c.n + n)]));
      if (diff == 0) continue;
      worst = std::max(worst, bound > 0 ? diff / bound : INFINITY);
    }
  return worst;
}

std::vector<int8_t> randomTernary(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(-1, 1);
  std::vector<int8_t> v(n);
  for (int8_t& t : v) t = int8_t(d(rng));
  return v;
}

class FuseBitLinearNumerics : public ::testing::TestWithParam<Case> {};

TEST_P(FuseBitLinearNumerics, FusedMatchesTheFloatChainWithinTheBound) {
  registerAllPasses();
  const Case c = GetParam();
  const std::vector<int8_t> t = randomTernary(size_t(c.k * c.n), uint32_t(c.k * 31 + c.n));
  const std::string text = fakeQuantModule(c, t);
  auto unfused = parseModule(text, "unfused.bir");
  auto fused = runPipeline(text);
  const Function& f = *fused->function("main");
  ASSERT_EQ(count(f, "matmul"), 0) << printModule(*fused);
  ASSERT_EQ(count(f, "bitlinear"), 1) << printModule(*fused);
  ASSERT_EQ(count(f, "act_quant"), 1);
  // The new weight: T transposed to [N, K], scale a * ws (exact for these cases), packed 2-bit;
  // per-column magnitudes: no scale on the weight, a mul by the column scales after it.
  const Value* wv = nullptr;
  for (const auto& op : f.ops())
    if (op->opcode == "bitlinear") wv = op->operand(2);
  const Weight& w = *wv->weight;
  EXPECT_EQ(w.layout, kLayoutHFBlocked);
  const std::vector<double> scale = outputScales(c);
  if (c.perColumn) {
    EXPECT_EQ(w.scaleRule, ScaleRule::None);
    const Value* colScales = nullptr;  // the mul reading the bitlinear's result
    for (const auto& op : f.ops())
      if (op->opcode == "mul" && op->operand(0)->producer && op->operand(0)->producer->opcode == "bitlinear")
        colScales = op->operand(1);
    ASSERT_TRUE(colScales && colScales->isWeight()) << printModule(*fused);
    const std::vector<float> v = colScales->weight->toFloats();
    for (int64_t n = 0; n < c.n; ++n) EXPECT_EQ(v[size_t(n)], c.a * columnFactor(c, n));
  } else {
    EXPECT_EQ(w.scaleRule, ScaleRule::Mul);
    EXPECT_EQ(double(w.scale), scale[0]);
  }
  const std::vector<int8_t> codes = w.unpackTernary();
  for (int64_t n = 0; n < c.n; ++n)
    for (int64_t k = 0; k < c.k; ++k)
      ASSERT_EQ(codes[size_t(n * c.k + k)], t[size_t(k * c.n + n)]) << "n " << n << " k " << k;

  for (uint32_t seed : {1u, 2u, 3u}) {
    const std::vector<float> x = activations(c.rows, c.k, seed);
    std::map<std::string, HostTensor> grabbed{{"q", {}}, {"x.q8", {}}};
    const std::vector<float> ref = run(*unfused, x, c.rows, c.k, &grabbed);
    const std::vector<float> out = run(*fused, x, c.rows, c.k, &grabbed);
    // Same quantized activations (the division form computes act_quant's scale exactly).
    const HostTensor &qf = grabbed["q"], &q8 = grabbed["x.q8"];
    ASSERT_EQ(qf.numElements(), q8.numElements());
    int64_t qDiffer = 0;
    for (int64_t i = 0; i < qf.numElements(); ++i) qDiffer += qf.as<float>()[i] != float(q8.as<int8_t>()[i]);
    if (!c.reciprocal) EXPECT_EQ(qDiffer, 0) << "seed " << seed;
    else EXPECT_LE(qDiffer, qf.numElements() / 100) << "seed " << seed;  // rare boundary flips only
    if (qDiffer == 0) {
      // Rows whose absmax is below 1e-5 or zero included: the bound holds everywhere.
      EXPECT_LE(worstRatio(out, ref, x, t, c, scale), 1.0) << "seed " << seed;
      // A wrong scale rule (T * ws applied as T / ws) or a wrongly decoded packing is far outside it.
      for (Fault fault : {Fault::DivideScale, Fault::InterleavedPacking}) {
        if (fault == Fault::DivideScale && c.perColumn) continue;  // no scale on the weight
        const std::vector<float> bad = run(*fused, x, c.rows, c.k, nullptr, fault);
        EXPECT_GT(worstRatio(bad, ref, x, t, c, scale), 1e3) << "seed " << seed;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, FuseBitLinearNumerics,
                         ::testing::Values(Case{64, 16, 8, 1.0f, 2.5f}, Case{67, 5, 9, 0.75f, 0},
                                           Case{256, 24, 6, 1.0f / 3.0f, 0}, Case{129, 33, 7, 0.5f, 1.25f},
                                           Case{96, 12, 8, 1.0f, 2.5f, true}, Case{80, 9, 6, 0.75f, 0, false, true},
                                           Case{80, 9, 6, 0.75f, 1.5f, false, true}));

// The online weight chain of 1bitLLM-style exports on a float latent weight: constant-fold
// evaluates it, fuse-bitlinear finds ternary times one scale in the result.
TEST(FuseBitLinear, OnlineWeightChainFoldsIntoTheSameTernaryValues) {
  registerAllPasses();
  const int64_t K = 96, N = 20, rows = 6;
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<float> latent(size_t(N * K));  // [N, K] like torch's Linear.weight
  for (float& v : latent) v = normal(rng);
  const std::string W = "tensor<" + std::to_string(N) + " x " + std::to_string(K) + " x f32>";
  const std::string WT = "tensor<" + std::to_string(K) + " x " + std::to_string(N) + " x f32>";
  const std::string X = "tensor<?seq x " + std::to_string(K) + " x f32>", S = "tensor<?seq x 1 x f32>";
  const std::string Y = "tensor<?seq x " + std::to_string(N) + " x f32>", One = "tensor<1 x 1 x f32>";
  std::string m = "bir 1\ndim ?seq <= 16\nweight @latent : " + W + " = " + dense(latent) + "\n";
  m += "weight @one : tensor<f32> = dense<[1]>\nweight @c127 : tensor<f32> = dense<[127]>\n";
  m += "func @main(%x: " + X + ") -> (" + Y + ") {\n";
  m += "  %wa = abs(@latent) : " + W + "\n  %wm = reduce_mean(%wa) : " + One + "\n";
  m += "  %wc = clip(%wm) {min = 1e-05, max = inf} : " + One + "\n  %wsc = div(@one, %wc) : " + One + "\n";
  m += "  %wx = mul(@latent, %wsc) : " + W + "\n  %wr = round(%wx) : " + W + "\n";
  m += "  %wcl = clip(%wr) {min = -1.0, max = 1.0} : " + W + "\n  %wdq = div(%wcl, %wsc) : " + W + "\n";
  m += "  %wt = transpose(%wdq) {perm = [1, 0]} : " + WT + "\n";
  m += "  %ax = abs(%x) : " + X + "\n  %mx = reduce_max(%ax) {axes = [-1]} : " + S + "\n";
  m += "  %c = clip(%mx) {min = 1e-05, max = inf} : " + S + "\n  %s = div(@c127, %c) : " + S + "\n";
  m += "  %xs = mul(%x, %s) : " + X + "\n  %r = round(%xs) : " + X + "\n";
  m += "  %q = clip(%r) {min = -128.0, max = 127.0} : " + X + "\n  %xq = div(%q, %s) : " + X + "\n";
  m += "  %y = matmul(%xq, %wt) : " + Y + "\n  return %y\n}\n";
  auto unfused = parseModule(m, "online.bir");
  auto fused = runPipeline(m);
  const Function& f = *fused->function("main");
  ASSERT_EQ(count(f, "bitlinear"), 1) << printModule(*fused);
  ASSERT_EQ(f.ops().size(), 2u) << printModule(*fused);  // act_quant + bitlinear: nothing else left
  ASSERT_EQ(fused->weights().size(), 1u);               // the latent weight is gone
  const Weight& w = *fused->weights()[0];
  // The reference ternarization: s = 1 / mean|W| (mean in f64 like reduce_mean, rounded to f32).
  double sum = 0;
  for (float v : latent) sum += std::fabs(double(v));
  const float s = 1.0f / std::max(float(sum / double(latent.size())), 1e-5f);
  std::vector<int8_t> t(latent.size());
  for (size_t i = 0; i < latent.size(); ++i) t[i] = int8_t(std::min(std::max(std::nearbyint(latent[i] * s), -1.0f), 1.0f));
  EXPECT_EQ(w.unpackTernary(), t);  // [N, K] both
  EXPECT_EQ(w.scaleRule, ScaleRule::Mul);
  EXPECT_EQ(w.scale, 1.0f / s);

  std::vector<int8_t> tkn(t.size());  // [K, N] for the bound
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k) tkn[size_t(k * N + n)] = t[size_t(n * K + k)];
  const Case c{K, N, rows, 1.0f / s, 0};
  for (uint32_t seed : {4u, 5u}) {
    const std::vector<float> x = activations(rows, K, seed);
    EXPECT_LE(worstRatio(run(*fused, x, rows, K), run(*unfused, x, rows, K), x, tkn, c, outputScales(c)), 1.0);
  }
}

// Random inputs for every input of f (dynamic dims bound to 3).
std::vector<HostTensor> randomInputs(const Function& f, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  std::vector<HostTensor> inputs;
  for (const Value* v : f.inputs()) {
    std::vector<int64_t> shape;
    for (const Dim& d : v->type.dims) shape.push_back(d.isDynamic() ? 3 : d.size);
    HostTensor t = HostTensor::zeros(v->type.dtype, shape);
    for (int64_t i = 0; i < t.numElements(); ++i) {
      if (v->type.dtype == DType::F32) t.as<float>()[i] = normal(rng);
      else if (v->type.dtype == DType::I32) t.as<int32_t>()[i] = int32_t(rng() % 100);
    }
    inputs.push_back(std::move(t));
  }
  return inputs;
}

bool bitIdentical(const HostTensor& a, const HostTensor& b) { return a.shape == b.shape && a.bytes == b.bytes; }

std::string readSource(const std::string& relative) {
  std::ifstream in(std::string(BITNETC_SOURCE_DIR) + "/" + relative);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every function of the lit tests that does not fuse computes the same bits after the whole
// pipeline (canonicalize's and constant-fold's rewrites included); fused ones stay within a
// coarse relative bound (the exact one is checked above), and the integer forms whose rescale is
// bitlinear's own arrangement ((acc * ws) / s, acc / (ws * s)) give the same bits.
TEST(FuseBitLinear, LitFunctionsKeepTheirValues) {
  registerAllPasses();
  for (const char* file : {"test/lit/passes/fuse-bitlinear.bir", "test/lit/passes/canonicalize.bir",
                           "test/lit/passes/constant-fold.bir"}) {
    const std::string text = readSource(file);
    ASSERT_FALSE(text.empty()) << file;
    auto before = parseModule(text, file);
    auto after = runPipeline(text);
    for (const auto& fb : before->functions()) {
      const Function& fa = *after->function(fb->name());
      const bool fusedHere = count(fa, "bitlinear") > 0;
      const bool exact = fb->name() == "integer" || fb->name() == "integer_div_rule" || fb->name() == "float_q_div";
      for (uint32_t seed : {11u, 12u}) {
        const auto inputs = randomInputs(*fb, seed);
        auto ob = Interpreter(*before, *fb).run(inputs);
        auto oa = Interpreter(*after, fa).run(inputs);
        ASSERT_EQ(ob.size(), oa.size());
        for (size_t i = 0; i < ob.size(); ++i) {
          if (!fusedHere || exact) {
            EXPECT_TRUE(bitIdentical(ob[i], oa[i])) << file << " @" << fb->name() << " output " << i;
            continue;
          }
          ASSERT_EQ(ob[i].numElements(), oa[i].numElements());
          for (int64_t e = 0; e < ob[i].numElements(); ++e) {
            const float u = ob[i].as<float>()[e], v = oa[i].as<float>()[e];
            EXPECT_NEAR(u, v, 1e-5 * (1 + std::fabs(u))) << file << " @" << fb->name() << " output " << i;
          }
        }
      }
    }
  }
}

// constant-fold leaves an op whose result would add more than 64 MiB of weights.
TEST(ConstantFold, LeavesResultsThatWouldGrowTheWeightsPastTheCap) {
  registerAllPasses();
  const int64_t n = 4100;  // [n, n] f32 = 64.1 MiB from two vectors of 16 KiB
  Module m;
  auto vec = [&](const std::string& name, std::vector<int64_t> shape) {
    std::vector<Dim> dims;
    for (int64_t d : shape) dims.push_back(Dim::fixed(d));
    return m.addWeight(makeOwnedWeight(name, TensorType(DType::F32, dims), std::vector<uint8_t>(size_t(n) * 4, 0)));
  };
  Value* row = vec("row", {n});
  Value* col = vec("col", {n, 1});
  Function* f = m.addFunction("main");
  Value* big = f->add("add", {row, col}, "big", TensorType::of(DType::F32, {n, n}));
  Value* small = f->add("reduce_max", {col}, "small", TensorType::of(DType::F32, {1, 1}));
  f->setOutputs({big, small});
  PassManagerOptions o;
  o.pipeline = {"constant-fold"};
  o.remarks = true;
  std::ostringstream log;
  PassManager(o, log).run(m);
  ASSERT_EQ(f->ops().size(), 1u);
  EXPECT_EQ(f->ops()[0]->opcode, "add");
  EXPECT_TRUE(f->outputs()[1]->isWeight());
  EXPECT_NE(log.str().find("not folded %big = add: its result of 67240000 bytes would add more than 64 MiB of weights"), std::string::npos) << log.str();
}

}  // namespace
}  // namespace bitnetc
