// bitlinear kernels (bitnetk_bitlinear_hf2, _i8, the MAD family on mad_2bit, the LUT family on
// lut3_5bit: portable and the ISA variants this CPU has, and the layout dispatch) against the
// interpreter: the int32 accumulators exactly (scale none, s = 1: y = f32(acc)), y bit-exact
// for every scale rule, over edge sizes of N (incl. N % 4 != 0 for the blocked layout) and K
// (around the int16 lane blocks), several rows, extreme activations, a thread pool, and the
// residual operand (fuse-residual) added in each variant's epilogue.
#include "kernels_test_util.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

using namespace bitnetc;
using namespace bitnetc::kerneltest;

namespace {

const int64_t kSizes[] = {1, 3, 4, 5, 63, 64, 65, 127, 255, 257, 2560};

std::vector<int8_t> randomTernary(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int8_t> v(static_cast<size_t>(n));
  for (int8_t& x : v) x = int8_t(int(rng() % 3) - 1);
  return v;
}

struct Bitlinear {
  std::unique_ptr<Module> module = std::make_unique<Module>();
  Function* f = module->addFunction("forward");
};

// q i8 [rows..., K], s f32 [rows...], w ternary [N, K] -> y f32 [rows..., N].
// With residual: a third input r f32 [rows..., N], y = bitlinear + r.
Bitlinear makeBitlinear(std::vector<int64_t> rows, int64_t N, int64_t K, const std::vector<int8_t>& t,
                        std::string_view layout, ScaleRule rule, float ws, const std::string& kernel,
                        bool residual = false) {
  Bitlinear b;
  std::vector<int64_t> qShape = rows, yShape = rows;
  qShape.push_back(K);
  yShape.push_back(N);
  auto type = [](DType d, const std::vector<int64_t>& s) {
    std::vector<Dim> dims;
    for (int64_t x : s) dims.push_back(Dim::fixed(x));
    return TensorType(d, dims);
  };
  Value* q = b.f->addInput("q", type(DType::I8, qShape));
  Value* s = b.f->addInput("s", type(DType::F32, rows));
  Value* w = b.module->addWeight(makeTernaryWeight("w", N, K, t, layout, rule, ws));
  AttributeList attrs;
  if (!kernel.empty()) attrs.set("kernel", kernel);
  std::vector<Value*> operands = {q, s, w};
  if (residual) operands.push_back(b.f->addInput("r", type(DType::F32, yShape)));
  b.f->setOutputs({b.f->add("bitlinear", operands, "y", type(DType::F32, yShape), attrs)});
  return b;
}

struct Variant {
  std::string_view layout;
  std::string kernel;  // "" = the dispatching bitnetk_bitlinear
};
// The portable variants, the layout dispatch, and the ISA variants this CPU runs (the native
// kernel library holds the x86-64 ones; compiled by the host compiler, not to bitcode).
std::vector<Variant> variants() {
  std::vector<Variant> v = {{kLayoutHFBlocked, "hf2"}, {kLayoutI8, "i8"}, {kLayoutMad2, "mad"},
                            {kLayoutLut3, "lut"},      {kLayoutHFBlocked, ""}, {kLayoutI8, ""},
                            {kLayoutMad2, ""},         {kLayoutLut3, ""}};
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx2")) v.push_back({kLayoutMad2, "mad_avx2"});
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__builtin_cpu_supports("avx2") && __get_cpuid_count(7, 1, &a, &b, &c, &d) && (a & (1u << 4)))
    v.push_back({kLayoutMad2, "mad_avxvnni"});
  if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl")) {
    v.push_back({kLayoutMad2, "mad_avx512vnni"});
    v.push_back({kLayoutMad2, "mad_avx512vnni_ymm"});
  }
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw"))
    v.push_back({kLayoutLut3, "lut_avx512bw"});
#endif
  return v;
}
const std::vector<Variant> kVariants = variants();

std::string name(const Variant& v) { return v.kernel.empty() ? "dispatch/" + std::string(v.layout) : v.kernel; }

// Runs both and checks y bit-exact; returns the interpreter's accumulators and the kernel's y.
struct Outcome {
  std::vector<int32_t> acc;
  HostTensor y;
};
Outcome check(const Bitlinear& b, const std::vector<HostTensor>& inputs, bitnet_pool* pool,
              const std::string& what) {
  Outcome o;
  InterpreterOptions opts;
  opts.observer = [&](const Op&, const std::vector<const HostTensor*>&, const HostTensor* acc) {
    if (acc) o.acc.assign(acc->as<int32_t>(), acc->as<int32_t>() + acc->numElements());
  };
  Interpreter interp(*b.module, *b.f, opts);
  const std::vector<HostTensor> expected = interp.run(inputs);
  KernelRunner runner(*b.module, *b.f, pool);
  const std::vector<HostTensor> actual = runner.run(inputs);
  EXPECT_EQ(runner.status, 0) << what << ": " << runner.error;
  if (actual.empty()) return o;
  EXPECT_TRUE(bitExact(actual[0], expected[0])) << what;
  o.y = actual[0];
  return o;
}

HostTensor onesF32(std::vector<int64_t> shape) {
  HostTensor h = HostTensor::zeros(DType::F32, std::move(shape));
  for (int64_t i = 0; i < h.numElements(); ++i) h.as<float>()[i] = 1.0f;
  return h;
}

// y = f32(acc) must equal the interpreter's exact accumulators.
void expectAccumulators(const Outcome& o, const std::string& what) {
  ASSERT_EQ(int64_t(o.acc.size()), o.y.numElements()) << what;
  for (size_t i = 0; i < o.acc.size(); ++i)
    ASSERT_EQ(o.y.as<float>()[i], float(o.acc[i])) << what << " element " << i;
}

}  // namespace

TEST(KernelsBitlinear, AccumulatorsExactOverEdgeSizes) {
  for (int64_t N : kSizes)
    for (int64_t K : kSizes) {
      if (N * K > 2560 * 257) continue;  // the big pairs run in RowsAndScaleRules
      const auto t = randomTernary(N * K, uint32_t(N * 7919 + K));
      const HostTensor q = randomTensor(DType::I8, {1, K}, uint32_t(N + 31 * K));
      for (const Variant& v : kVariants) {
        const std::string what = name(v) + " N=" + std::to_string(N) + " K=" + std::to_string(K);
        Bitlinear b = makeBitlinear({1}, N, K, t, v.layout, ScaleRule::None, 1.0f, v.kernel);
        expectAccumulators(check(b, {q, onesF32({1})}, nullptr, what), what);
      }
    }
}

TEST(KernelsBitlinear, RowsAndScaleRules) {
  struct Shape { int64_t M, N, K; };
  const Shape shapes[] = {{2, 5, 63},    {3, 65, 64},   {5, 127, 65},  {8, 257, 255},
                          {17, 64, 257}, {4, 2560, 5},  {2, 3, 2560},  {3, 2560, 2560},
                          {1, 6912, 2560}, {2, 2560, 6912}, {33, 130, 1000}};
  const std::pair<ScaleRule, float> rules[] = {{ScaleRule::Mul, 1.55f}, {ScaleRule::Div, 0.37f},
                                               {ScaleRule::None, 1.0f}};
  uint32_t seed = 1;
  for (const Shape& sh : shapes) {
    const auto t = randomTernary(sh.N * sh.K, ++seed);
    const HostTensor q = randomTensor(DType::I8, {sh.M, sh.K}, ++seed);
    const HostTensor s = randomTensor(DType::F32, {sh.M}, ++seed, 0.5, 300.0);
    for (const auto& [rule, ws] : rules)
      for (const Variant& v : kVariants) {
        const std::string what = name(v) + " M=" + std::to_string(sh.M) + " N=" + std::to_string(sh.N) +
                                 " K=" + std::to_string(sh.K) + " rule=" + std::string(scaleRuleName(rule));
        check(makeBitlinear({sh.M}, sh.N, sh.K, t, v.layout, rule, ws, v.kernel), {q, s}, nullptr, what);
      }
  }
}

// The largest magnitudes: q = -128 or 127 everywhere with all-(+1) / all-(-1) weights give
// |acc| = 128 K; any int16 lane overflow inside the kernels would show.
TEST(KernelsBitlinear, ExtremeActivationsDoNotOverflow) {
  for (int64_t K : {64, 2048, 2049, 6912})
    for (int8_t qv : {int8_t(-128), int8_t(127)})
      for (int8_t tv : {int8_t(-1), int8_t(1)}) {
        const int64_t N = 6;
        std::vector<int8_t> t(size_t(N * K), tv);
        HostTensor q = HostTensor::zeros(DType::I8, {1, K});
        std::memset(q.bytes.data(), uint8_t(qv), q.bytes.size());
        for (const Variant& v : kVariants) {
          const std::string what = name(v) + " K=" + std::to_string(K) + " q=" + std::to_string(qv) +
                                   " t=" + std::to_string(tv);
          const Outcome o = check(makeBitlinear({1}, N, K, t, v.layout, ScaleRule::None, 1.0f, v.kernel),
                                  {q, onesF32({1})}, nullptr, what);
          expectAccumulators(o, what);
          ASSERT_FALSE(o.acc.empty());
          EXPECT_EQ(o.acc[0], int32_t(qv) * tv * K) << what;
        }
      }
}

TEST(KernelsBitlinear, LeadingDimsAndThreadPool) {
  Pool pool(3);
  ASSERT_NE(pool.pool, nullptr);
  const int64_t N = 259, K = 300;
  const auto t = randomTernary(N * K, 77);
  const HostTensor q = randomTensor(DType::I8, {2, 3, K}, 78);
  const HostTensor s = randomTensor(DType::F32, {2, 3}, 79, 1.0, 100.0);
  for (const Variant& v : kVariants)
    check(makeBitlinear({2, 3}, N, K, t, v.layout, ScaleRule::Mul, 2.5f, v.kernel), {q, s}, pool.pool,
          name(v) + " rank 3 with a pool");
  // Big enough for the kernels to split rows over the pool.
  const int64_t N2 = 2051, K2 = 2560;
  const auto t2 = randomTernary(N2 * K2, 80);
  const HostTensor q2 = randomTensor(DType::I8, {7, K2}, 81);
  const HostTensor s2 = randomTensor(DType::F32, {7}, 82, 1.0, 100.0);
  for (const Variant& v : kVariants)
    check(makeBitlinear({7}, N2, K2, t2, v.layout, ScaleRule::Mul, 1.25f, v.kernel), {q2, s2}, pool.pool,
          name(v) + " 2051x2560 with a pool");
}

// The residual operand: y = scale rule + r, the same f32 add as the interpreter's, for every
// variant (each has its own epilogue), one and several tokens (the MAD GEMM path from 4), a pool.
TEST(KernelsBitlinear, ResidualAddedInTheEpilogue) {
  struct Shape { int64_t M, N, K; };
  Pool pool(2);
  uint32_t seed = 500;
  for (const Shape& sh : {Shape{1, 257, 300}, Shape{5, 130, 1000}, Shape{16, 2051, 2560}}) {
    const auto t = randomTernary(sh.N * sh.K, ++seed);
    const HostTensor q = randomTensor(DType::I8, {sh.M, sh.K}, ++seed);
    const HostTensor s = randomTensor(DType::F32, {sh.M}, ++seed, 0.5, 300.0);
    const HostTensor r = randomTensor(DType::F32, {sh.M, sh.N}, ++seed, -50.0, 50.0);
    for (const Variant& v : kVariants) {
      const std::string what = name(v) + " residual M=" + std::to_string(sh.M) + " N=" + std::to_string(sh.N);
      const Outcome o = check(makeBitlinear({sh.M}, sh.N, sh.K, t, v.layout, ScaleRule::Mul, 1.55f, v.kernel, true),
                              {q, s, r}, sh.M > 8 ? pool.pool : nullptr, what);
      // Not the bitlinear alone: the residual is in every output.
      const Outcome plain = check(makeBitlinear({sh.M}, sh.N, sh.K, t, v.layout, ScaleRule::Mul, 1.55f, v.kernel),
                                  {q, s}, nullptr, what + " (no residual)");
      ASSERT_EQ(o.y.numElements(), plain.y.numElements()) << what;
      int64_t differ = 0;
      for (int64_t i = 0; i < o.y.numElements(); ++i) differ += o.y.as<float>()[i] != plain.y.as<float>()[i];
      EXPECT_GT(differ, o.y.numElements() * 9 / 10) << what;
    }
  }
}

TEST(KernelsBitlinear, DynamicRowsIncludingZero) {
  auto m = parse(R"(bir 1
dim ?seq <= 8
weight @w : ternary<6 x 5> layout "hf_blocked_2bit" scale mul 1.5 = dense<[1, 0, -1, 1, 1, 0, 0, 0, -1, -1, 1, 1, 1, 1, 1, -1, 0, 1, 0, -1, 1, -1, 1, -1, 1, 0, 0, 1, 0, 0]>
func @forward(%q: tensor<?seq x 5 x i8>, %s: tensor<?seq x f32>) -> (tensor<?seq x 6 x f32>) {
  %y = bitlinear(%q, %s, @w) {kernel = "hf2"} : tensor<?seq x 6 x f32>
  return %y
}
)");
  for (int64_t rows : {0, 1, 8}) {
    const auto both = runBoth(*m, {randomTensor(DType::I8, {rows, 5}, 5), randomTensor(DType::F32, {rows}, 6, 1, 9)});
    ASSERT_EQ(both.actual.size(), 1u);
    EXPECT_TRUE(bitExact(both.actual[0], both.expected[0])) << rows << " rows";
  }
}

TEST(KernelsBitlinear, KernelForAnotherLayoutIsAnError) {
  // select-kernels never pairs hf2 with an i8 weight; the kernel still refuses, naming the op.
  Bitlinear b = makeBitlinear({1}, 4, 4, randomTernary(16, 1), kLayoutI8, ScaleRule::None, 1.0f, "hf2");
  KernelRunner runner(*b.module, *b.f);
  EXPECT_TRUE(runner.run({randomTensor(DType::I8, {1, 4}, 2), onesF32({1})}).empty());
  EXPECT_EQ(runner.status, BITNET_ERR_INTERNAL);
  EXPECT_NE(runner.error.find("op %y = bitlinear"), std::string::npos) << runner.error;
  EXPECT_NE(runner.error.find("layout"), std::string::npos) << runner.error;
}
