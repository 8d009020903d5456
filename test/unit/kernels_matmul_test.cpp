// matmul kernel against the interpreter, bit for bit: both sum in the matmul order of docs/IR.md
// (16 f64 partial sums over k mod 16, halving folds). Covers f32/bf16/f16/i8 b, b as a weight or a
// value, transpose_b, batched b, rank-1 a, edge sizes around the 16 lanes, and the LM-head shape
// (K = 2560, bf16) over a pool. The interpreter itself is checked against an independent
// implementation of the documented order on inputs where the order shows (cancelling 2^40 terms),
// and those inputs are shown to tell this order from the previous one. The same for f32_sum (the
// LM head's f32 order: 32 f32 partials, products rounded then added, no fused multiply-add). And
// a ternary weight as b in every layout.
#include "kernels_test_util.h"

#include <bit>

using namespace bitnetc;
using namespace bitnetc::kerneltest;

namespace {

Weight weightOf(const HostTensor& h) {
  std::vector<Dim> dims;
  for (int64_t d : h.shape) dims.push_back(Dim::fixed(d));
  return makeOwnedWeight("b", TensorType(h.dtype, dims), h.bytes);
}

void checkMatmul(const HostTensor& a, const HostTensor& b, bool transposeB, bool bAsWeight, bitnet_pool* pool,
                 const std::string& what, bool f32Sum = false) {
  AttributeList at;
  if (transposeB) at.set("transpose_b", true);
  if (f32Sum) at.set("f32_sum", true);
  OneOp o = bAsWeight ? oneOp("matmul", {a}, at, {weightOf(b)}) : oneOp("matmul", {a, b}, at);
  const std::vector<HostTensor> inputs = bAsWeight ? std::vector<HostTensor>{a} : std::vector<HostTensor>{a, b};
  const BothOutputs both = runBoth(*o.module, inputs, pool);
  ASSERT_EQ(both.actual.size(), 1u) << what;
  EXPECT_TRUE(bitExact(both.actual[0], both.expected[0])) << what;
}

// Element i of a float tensor as f32 (bf16 and f16 widen exactly).
float widened(const HostTensor& t, int64_t i) { return float(elementAsDouble(t, i)); }

// The documented order, written out independently of the interpreter.
float documentedOrder(const std::vector<float>& x, const std::vector<float>& w) {
  double s[16] = {};
  for (size_t k = 0; k < x.size(); ++k) s[k % 16] = s[k % 16] + double(x[k]) * double(w[k]);
  for (int width = 8; width >= 1; width /= 2)
    for (int j = 0; j < width; ++j) s[j] = s[j] + s[j + width];
  return float(s[0]);
}

// The f32 order (f32_sum), written out independently of the interpreter.
float documentedF32Order(const std::vector<float>& x, const std::vector<float>& w) {
  float s[32] = {};
  for (size_t k = 0; k < x.size(); ++k) {
    volatile float p = x[k] * w[k];  // rounded to f32 before the sum, whatever the compiler flags
    s[k % 32] = s[k % 32] + p;
  }
  for (int width = 16; width >= 1; width /= 2)
    for (int j = 0; j < width; ++j) s[j] = s[j] + s[j + width];
  return s[0];
}

// The order before issue 5: four partials over k mod 4 (of the first K - K % 4), the tail into s_0.
float previousOrder(const std::vector<float>& x, const std::vector<float>& w) {
  double s[4] = {};
  const size_t k4 = x.size() & ~size_t(3);
  for (size_t k = 0; k < k4; ++k) s[k % 4] = s[k % 4] + double(x[k]) * double(w[k]);
  for (size_t k = k4; k < x.size(); ++k) s[0] = s[0] + double(x[k]) * double(w[k]);
  return float((s[0] + s[1]) + (s[2] + s[3]));
}

// Values spread over 2^-12 .. 2^12 with both signs: sums where the order shows in f32.
HostTensor wideTensor(DType t, std::vector<int64_t> shape, uint32_t seed) {
  HostTensor h = randomTensor(t, shape, seed, -1.0, 1.0);
  std::mt19937 rng(seed * 7 + 1);
  std::uniform_int_distribution<int> e(-12, 12);
  for (int64_t i = 0; i < h.numElements(); ++i) {
    const float v = std::ldexp(widened(h, i), e(rng));
    if (t == DType::F32) h.as<float>()[i] = v;
    else if (t == DType::BF16) h.as<uint16_t>()[i] = floatToBf16(v);
    else h.as<uint16_t>()[i] = floatToF16(v);
  }
  return h;
}

}  // namespace

TEST(KernelsMatmul, EdgeSizesEveryBType) {
  uint32_t seed = 1;
  for (DType bt : {DType::F32, DType::BF16, DType::F16, DType::I8})
    for (int64_t K : {1, 3, 4, 5, 15, 16, 17, 63, 64, 65, 127, 255, 257, 2560})
      for (int64_t N : {1, 3, 4, 5, 17, 257})
        for (int64_t M : {1, 2, 5})
          for (bool trans : {false, true}) {
            const bool asWeight = (K + N + M) % 2 == 0;
            const HostTensor a = randomTensor(DType::F32, {M, K}, ++seed);
            const HostTensor b = randomTensor(bt, trans ? std::vector<int64_t>{N, K} : std::vector<int64_t>{K, N}, ++seed);
            checkMatmul(a, b, trans, asWeight, nullptr,
                        std::string(dtypeName(bt)) + " M=" + std::to_string(M) + " K=" + std::to_string(K) +
                            " N=" + std::to_string(N) + (trans ? " transposed" : ""));
          }
}

TEST(KernelsMatmul, RanksAndBatches) {
  uint32_t seed = 100;
  // a of rank 1 and 3 against a 2-D b.
  checkMatmul(randomTensor(DType::F32, {37}, 1), randomTensor(DType::F32, {37, 9}, 2), false, false, nullptr, "rank-1 a");
  checkMatmul(randomTensor(DType::F32, {37}, 3), randomTensor(DType::BF16, {9, 37}, 4), true, true, nullptr, "rank-1 a, b^T");
  checkMatmul(randomTensor(DType::F32, {2, 3, 37}, 5), randomTensor(DType::F16, {37, 11}, 6), false, true, nullptr, "rank-3 a");
  // Batched: b has a's leading dims.
  for (bool trans : {false, true}) {
    const HostTensor a = randomTensor(DType::F32, {2, 3, 5, 19}, ++seed);
    const HostTensor b = randomTensor(DType::F32, trans ? std::vector<int64_t>{2, 3, 7, 19} : std::vector<int64_t>{2, 3, 19, 7}, ++seed);
    checkMatmul(a, b, trans, false, nullptr, trans ? "batched transposed" : "batched");
  }
  const HostTensor a = randomTensor(DType::F32, {4, 6, 300}, ++seed);
  checkMatmul(a, randomTensor(DType::BF16, {4, 300, 70}, ++seed), false, false, nullptr, "batched bf16");
}

TEST(KernelsMatmul, LmHeadShapeOverAPool) {
  Pool pool(3);
  const HostTensor table = randomTensor(DType::BF16, {4099, 2560}, 7, -0.1, 0.1);
  for (int64_t M : {1, 6}) {
    const HostTensor h = randomTensor(DType::F32, {M, 2560}, 8 + uint32_t(M), -3.0, 3.0);
    checkMatmul(h, table, true, true, pool.pool, "logits M=" + std::to_string(M));
  }
  checkMatmul(randomTensor(DType::F32, {9, 600}, 20), randomTensor(DType::F32, {600, 1500}, 21), false, false,
              pool.pool, "plain 9x600x1500 with a pool");
}

TEST(KernelsMatmul, InterpreterSumsInTheDocumentedOrder) {
  int64_t differFromPrevious = 0, total = 0;
  uint32_t seed = 500;
  for (DType bt : {DType::F32, DType::BF16})
    for (int64_t K : {1, 7, 15, 16, 17, 31, 32, 33, 100, 257, 2560}) {
      const int64_t M = 2, N = 37;
      HostTensor a = randomTensor(DType::F32, {M, K}, ++seed, -1.0, 1.0);
      HostTensor b = randomTensor(bt, {N, K}, ++seed, -1.0, 1.0);
      // +-2^40 in lanes 0 and 1, cancelling only in the last fold: the small products added to
      // those partials lose their low bits, and which ones do depends on the order.
      if (K >= 2)
        for (int64_t n = 0; n < N; ++n)
          for (int64_t k = 0; k < 2; ++k) {
            const float big = k == 0 ? 0x1p40f : -0x1p40f;
            if (bt == DType::F32) b.as<float>()[n * K + k] = big;
            else b.as<uint16_t>()[n * K + k] = floatToBf16(big);
            if (n < M) a.as<float>()[n * K + k] = 1.0f;
          }
      AttributeList at;
      at.set("transpose_b", true);
      OneOp o = oneOp("matmul", {a}, at, {weightOf(b)});
      const BothOutputs both = runBoth(*o.module, {a});
      EXPECT_TRUE(bitExact(both.actual[0], both.expected[0])) << "K=" << K;
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < N; ++n) {
          std::vector<float> x(size_t(K), 0.0f), w(size_t(K), 0.0f);
          for (int64_t k = 0; k < K; ++k) {
            x[size_t(k)] = a.as<float>()[m * K + k];
            w[size_t(k)] = widened(b, n * K + k);
          }
          const float want = documentedOrder(x, w), got = both.expected[0].as<float>()[m * N + n];
          ASSERT_EQ(std::bit_cast<uint32_t>(got), std::bit_cast<uint32_t>(want))
              << dtypeName(bt) << " K=" << K << " m=" << m << " n=" << n;
          differFromPrevious += std::bit_cast<uint32_t>(previousOrder(x, w)) != std::bit_cast<uint32_t>(want);
          ++total;
        }
    }
  // The inputs are sharp: the previous order rounds many of these sums differently.
  EXPECT_GT(differFromPrevious, total / 4) << differFromPrevious << " of " << total;
}

TEST(KernelsMatmul, WideRangesBitExactEveryForm) {
  uint32_t seed = 900;
  for (DType bt : {DType::F32, DType::BF16, DType::F16})
    for (int64_t K : {15, 16, 17, 47, 2560})
      for (bool trans : {false, true}) {
        const HostTensor a = wideTensor(DType::F32, {3, K}, ++seed);
        const HostTensor b = wideTensor(bt, trans ? std::vector<int64_t>{19, K} : std::vector<int64_t>{K, 19}, ++seed);
        checkMatmul(a, b, trans, (K % 2) == 1, nullptr,
                    std::string("wide ") + std::string(dtypeName(bt)) + " K=" + std::to_string(K) + (trans ? " transposed" : ""));
      }
}

TEST(KernelsMatmul, LastRowOnly) {
  // last_row: a [M, K] -> [1, N] from a's last row; the same bits as that row of the full product.
  Pool pool(2);
  for (int64_t M : {1, 3, 9})
    for (DType bt : {DType::BF16, DType::I8}) {
      const HostTensor a = randomTensor(DType::F32, {M, 37}, 40 + uint32_t(M));
      const HostTensor b = randomTensor(bt, {70, 37}, 50 + uint32_t(M));
      AttributeList at;
      at.set("transpose_b", true);
      at.set("last_row", true);
      OneOp o = oneOp("matmul", {a}, at, {weightOf(b)});
      const BothOutputs both = runBoth(*o.module, {a}, pool.pool);
      ASSERT_EQ(both.actual[0].shape, (std::vector<int64_t>{1, 70}));
      EXPECT_TRUE(bitExact(both.actual[0], both.expected[0])) << "M=" << M;
      AttributeList full;
      full.set("transpose_b", true);
      OneOp f = oneOp("matmul", {a}, full, {weightOf(b)});
      const BothOutputs all = runBoth(*f.module, {a});
      for (int64_t n = 0; n < 70; ++n)
        ASSERT_EQ(std::bit_cast<uint32_t>(both.actual[0].as<float>()[n]),
                  std::bit_cast<uint32_t>(all.expected[0].as<float>()[(M - 1) * 70 + n]))
            << "M=" << M << " n=" << n;
    }
}

TEST(KernelsMatmul, F32SumEdgeSizesEveryBType) {
  uint32_t seed = 2000;
  for (DType bt : {DType::F32, DType::BF16, DType::F16, DType::I8})
    for (int64_t K : {1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 257, 2560})
      for (int64_t N : {1, 5, 17, 70})
        for (int64_t M : {1, 3})
          for (bool trans : {false, true}) {
            const HostTensor a = wideTensor(DType::F32, {M, K}, ++seed);
            const HostTensor b = bt == DType::I8 ? randomTensor(bt, trans ? std::vector<int64_t>{N, K} : std::vector<int64_t>{K, N}, ++seed)
                                                 : wideTensor(bt, trans ? std::vector<int64_t>{N, K} : std::vector<int64_t>{K, N}, ++seed);
            checkMatmul(a, b, trans, (K + N) % 2 == 0, nullptr,
                        std::string("f32_sum ") + std::string(dtypeName(bt)) + " M=" + std::to_string(M) +
                            " K=" + std::to_string(K) + " N=" + std::to_string(N) + (trans ? " transposed" : ""),
                        /*f32Sum=*/true);
          }
}

TEST(KernelsMatmul, F32SumLmHeadShapeOverAPoolAndLastRow) {
  Pool pool(3);
  const HostTensor table = randomTensor(DType::BF16, {4099, 2560}, 70, -0.1, 0.1);
  for (int64_t M : {1, 6})
    checkMatmul(randomTensor(DType::F32, {M, 2560}, 71 + uint32_t(M), -3.0, 3.0), table, true, true, pool.pool,
                "f32_sum logits M=" + std::to_string(M), /*f32Sum=*/true);
  const HostTensor a = randomTensor(DType::F32, {5, 2560}, 80, -3.0, 3.0);
  AttributeList at;
  at.set("transpose_b", true);
  at.set("last_row", true);
  at.set("f32_sum", true);
  OneOp o = oneOp("matmul", {a}, at, {weightOf(table)});
  const BothOutputs both = runBoth(*o.module, {a}, pool.pool);
  ASSERT_EQ(both.actual[0].shape, (std::vector<int64_t>{1, 4099}));
  EXPECT_TRUE(bitExact(both.actual[0], both.expected[0]));
}

TEST(KernelsMatmul, F32SumInterpreterSumsInTheDocumentedOrder) {
  // Wide-range values: the f32 order differs from the f64 order and from a fused multiply-add
  // of the same lanes on many sums, and the interpreter (and the kernel) match the f32 order.
  int64_t differFromF64 = 0, differFromFused = 0, total = 0;
  uint32_t seed = 3000;
  for (DType bt : {DType::F32, DType::BF16})
    for (int64_t K : {1, 31, 32, 33, 100, 2560}) {
      const int64_t M = 2, N = 41;
      const HostTensor a = wideTensor(DType::F32, {M, K}, ++seed);
      const HostTensor b = wideTensor(bt, {N, K}, ++seed);
      AttributeList at;
      at.set("transpose_b", true);
      at.set("f32_sum", true);
      OneOp o = oneOp("matmul", {a}, at, {weightOf(b)});
      const BothOutputs both = runBoth(*o.module, {a});
      EXPECT_TRUE(bitExact(both.actual[0], both.expected[0])) << "K=" << K;
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < N; ++n) {
          std::vector<float> x(static_cast<size_t>(K)), w(static_cast<size_t>(K));
          for (int64_t k = 0; k < K; ++k) {
            x[size_t(k)] = a.as<float>()[m * K + k];
            w[size_t(k)] = widened(b, n * K + k);
          }
          const float want = documentedF32Order(x, w), got = both.expected[0].as<float>()[m * N + n];
          ASSERT_EQ(std::bit_cast<uint32_t>(got), std::bit_cast<uint32_t>(want))
              << dtypeName(bt) << " K=" << K << " m=" << m << " n=" << n;
          float fused[32] = {};
          for (int64_t k = 0; k < K; ++k) fused[k % 32] = std::fma(x[size_t(k)], w[size_t(k)], fused[k % 32]);
          for (int width = 16; width >= 1; width /= 2)
            for (int j = 0; j < width; ++j) fused[j] = fused[j] + fused[j + width];
          differFromFused += std::bit_cast<uint32_t>(fused[0]) != std::bit_cast<uint32_t>(want);
          differFromF64 += std::bit_cast<uint32_t>(documentedOrder(x, w)) != std::bit_cast<uint32_t>(want);
          ++total;
        }
    }
  EXPECT_GT(differFromF64, total / 4) << differFromF64 << " of " << total;
  EXPECT_GT(differFromFused, total / 10) << differFromFused << " of " << total;  // measured 138 of 984
}

// A ternary weight as b (what a weight shared by a bitlinear and a matmul reads) in every layout
// pack-weights can give it, transposed or not, every scale rule: the kernel decodes each layout
// (targets/kernels/matmul_ternary.c) as the interpreter does.
TEST(KernelsMatmul, TernaryWeightInEveryLayout) {
  std::mt19937 rng(5);
  const std::pair<ScaleRule, float> rules[] = {{ScaleRule::None, 1.0f}, {ScaleRule::Mul, 0.75f}, {ScaleRule::Div, 3.0f}};
  for (const auto& [R, C] : std::vector<std::pair<int64_t, int64_t>>{{5, 7}, {130, 300}, {257, 19}})
    for (std::string_view layout : {kLayoutHFBlocked, kLayoutI8, kLayoutMad2, kLayoutLut3})
      for (bool transposeB : {false, true})
        for (const auto& [rule, ws] : rules) {
          std::vector<int8_t> t(size_t(R * C));
          for (int8_t& x : t) x = int8_t(int(rng() % 3) - 1);
          const int64_t K = transposeB ? C : R;
          AttributeList at;
          if (transposeB) at.set("transpose_b", true);
          const HostTensor a = randomTensor(DType::F32, {3, K}, uint32_t(R + C));
          OneOp o = oneOp("matmul", {a}, at, {makeTernaryWeight("b", R, C, t, layout, rule, ws)});
          const BothOutputs both = runBoth(*o.module, {a});
          const std::string what = std::string(layout) + " " + std::to_string(R) + "x" + std::to_string(C) +
                                   (transposeB ? " transposed" : "") + " rule " + std::string(scaleRuleName(rule));
          ASSERT_EQ(both.actual.size(), 1u) << what;
          EXPECT_TRUE(bitExact(both.actual[0], both.expected[0])) << what;
        }
}
