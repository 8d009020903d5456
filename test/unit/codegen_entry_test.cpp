// Generated entry functions, run in-process with mock kernels (codegen_test_util.h): what each
// kernel receives (data pointers into inputs, states, the weight blob, scratch and outputs;
// actual dims; attributes), values flowing through reused scratch, copied outputs, and the early
// return of a failing kernel's status.
#include <gtest/gtest.h>

#include <set>

#include "codegen_test_util.h"
#include "compiler/ir/Parser.h"
#include "frontends/safetensors/Import.h"
#include "runtime/include/bitnet.h"
#include "targets/codegen/MemoryPlan.h"

namespace bitnetc::target {
namespace {

using testing::JitGenerated;
using testing::MockKernels;

struct MockScope {
  MockKernels mock;
  MockScope() { testing::gMock = &mock; }
  ~MockScope() { testing::gMock = nullptr; }
};

TEST(CodegenEntry, ValuesFlowThroughScratchAndOutputs) {
  // out0 = |x| - x + relu(x) through values that share scratch once dead; out1 = x copied;
  // out2 = out0 again (copied from out0's buffer); out3 = a weight, copied from the blob.
  auto m = parseModule(R"(bir 1
dim ?n <= 8
weight @w : tensor<2 x f32> = dense<[1.5, -2]>
func @f(%x: tensor<?n x 2 x f32>) -> (tensor<?n x 2 x f32>, tensor<?n x 2 x f32>, tensor<?n x 2 x f32>, tensor<2 x f32>) {
  %a = relu(%x) : tensor<?n x 2 x f32>
  %b = neg(%x) : tensor<?n x 2 x f32>
  %c = add(%a, %b) : tensor<?n x 2 x f32>
  %d = add(%c, %a) : tensor<?n x 2 x f32>
  %e = add(%d, %b) : tensor<?n x 2 x f32>
  %g = add(%e, %a) : tensor<?n x 2 x f32>
  return %g, %x, %g, @w
}
)",
                       "in.bir");
  const Function& f = *m->function("f");
  const MemoryPlan plan = planMemory(f, {{"n", 8}});
  EXPECT_EQ(plan.find(f.lookup("c"))->offset, plan.find(f.lookup("e"))->offset);  // reuse
  MockScope scope;
  JitGenerated jit(*m, {});
  std::vector<float> x = {1, -2, 3, -4, 0.5f, 6};
  std::vector<float> out0(6, 99), out1(6, 99), out2(6, 99), out3(2, 99);
  ASSERT_EQ(jit.run("f", {3}, {x.data()}, {out0.data(), out1.data(), out2.data(), out3.data()}), 0)
      << jit.error();
  EXPECT_EQ(out0, (std::vector<float>{1, 4, 3, 8, 0.5f, 6}));
  EXPECT_EQ(out1, x);
  EXPECT_EQ(out2, out0);
  EXPECT_EQ(out3, (std::vector<float>{1.5f, -2}));
  ASSERT_EQ(scope.mock.calls.size(), 6u);
  // %g is written straight into output 0.
  EXPECT_EQ(scope.mock.calls[5].results[0].data, out0.data());
  for (const auto& c : scope.mock.calls) {
    EXPECT_EQ(c.results[0].rank, 2);
    EXPECT_EQ(c.results[0].dims[0], 3);  // ?n from call->dims
    EXPECT_EQ(c.results[0].dims[1], 2);
    EXPECT_EQ(c.results[0].dtype, BITNET_F32);
  }
  EXPECT_EQ(scope.mock.calls[0].operands[0].data, x.data());
  EXPECT_EQ(scope.mock.calls[4].op, "%e = add(%d, %b)");
}

TEST(CodegenEntry, ScratchPointersFollowThePlan) {
  auto m = parseModule(R"(bir 1
func @f(%x: tensor<4 x 4 x f32>) -> (tensor<4 x 4 x f32>) {
  %a = relu(%x) : tensor<4 x 4 x f32>
  %b = relu(%a) : tensor<4 x 4 x f32>
  %c = relu(%b) : tensor<4 x 4 x f32>
  return %c
}
)",
                       "in.bir");
  const Function& f = *m->function("f");
  const MemoryPlan plan = planMemory(f, {});
  MockScope scope;
  JitGenerated jit(*m, {});
  EXPECT_EQ(uint64_t(jit.function("f").scratch_bytes), plan.scratchBytes);
  std::vector<float> x(16, 1), out(16);
  ASSERT_EQ(jit.run("f", {}, {x.data()}, {out.data()}), 0);
  ASSERT_EQ(scope.mock.calls.size(), 3u);
  EXPECT_EQ(scope.mock.calls[0].results[0].data, jit.lastScratch() + plan.find(f.lookup("a"))->offset);
  EXPECT_EQ(scope.mock.calls[1].results[0].data, jit.lastScratch() + plan.find(f.lookup("b"))->offset);
  EXPECT_EQ(scope.mock.calls[1].operands[0].data, scope.mock.calls[0].results[0].data);
  EXPECT_EQ(scope.mock.calls[2].results[0].data, out.data());
}

TEST(CodegenEntry, FailingKernelReturnsItsStatusAtOnce) {
  auto m = parseModule(R"(bir 1
func @f(%x: tensor<4 x f32>) -> (tensor<4 x f32>, tensor<4 x f32>) {
  %a = relu(%x) : tensor<4 x f32>
  %b = exp(%a) : tensor<4 x f32>
  %c = relu(%b) : tensor<4 x f32>
  return %c, %x
}
)",
                       "in.bir");
  MockScope scope;
  scope.mock.failOn = "%b = exp";
  JitGenerated jit(*m, {});
  std::vector<float> x = {1, 2, 3, 4}, out0(4, 99), out1(4, 99);
  EXPECT_EQ(jit.run("f", {}, {x.data()}, {out0.data(), out1.data()}), 7);
  EXPECT_EQ(jit.error(), "mock failure in %b = exp(%a)");
  ASSERT_EQ(scope.mock.calls.size(), 2u);  // relu after the failure never ran
  EXPECT_EQ(out1, std::vector<float>(4, 99));  // nor the output copies
}

TEST(CodegenEntry, StatesWeightsAndAttributes) {
  std::string tern;
  for (int i = 0; i < 8 * 4; ++i) tern += (i ? ", " : "") + std::to_string(i % 3 - 1);
  auto m = parseModule(R"(bir 1
dim ?s <= 6
weight @t : ternary<8 x 4> layout "hf_blocked_2bit" scale div 0.25 = dense<[)" + tern + R"(]>
weight @n : tensor<4 x f32> = dense<[1, 2, 3, 4]>
func @f(%x: tensor<?s x 4 x f32>, %pos: tensor<i64>) -> (tensor<?s x 8 x f32>)
    state(%kc: tensor<32 x 2 x 4 x f32>, %vc: tensor<32 x 2 x 4 x f32>) {
  %h = rms_norm(%x, @n) {eps = 1e-05} : tensor<?s x 4 x f32>
  %q8, %qs = act_quant(%h) : tensor<?s x 4 x i8>, tensor<?s x f32>
  %y = bitlinear(%q8, %qs, @t) {kernel = "hf2"} : tensor<?s x 8 x f32>
  %a = attention(%y, %y, %y, %kc, %vc, %pos) {heads = 2, kv_heads = 2, head_dim = 4, scale = 0.5} : tensor<?s x 8 x f32>
  %z = add(%a, %y) : tensor<?s x 8 x f32>
  return %z
}
)",
                       "in.bir");
  MockScope scope;
  scope.mock.compute = false;
  JitGenerated jit(*m, {});
  EXPECT_EQ(std::set<std::string>(jit.kernels().begin(), jit.kernels().end()),
            (std::set<std::string>{"bitnetk_rms_norm", "bitnetk_act_quant", "bitnetk_bitlinear_hf2",
                                   "bitnetk_attention", "bitnetk_add"}));
  std::vector<float> x(5 * 4, 1.0f), out(5 * 8);
  int64_t pos = 3;
  std::vector<float> kc(20 * 8), vc(20 * 8);
  ASSERT_EQ(jit.run("f", {5}, {x.data(), &pos}, {out.data()}, {kc.data(), vc.data()}, 20), 0);
  const auto& calls = scope.mock.calls;
  ASSERT_EQ(calls.size(), 5u);

  // rms_norm: the float weight in the blob, eps as a float.
  const Weight* n = m->weightValue("n")->weight;
  const Weight* t = m->weightValue("t")->weight;
  EXPECT_EQ(calls[0].operands[1].data, jit.blob() + jit.weights().offsets.at(n));
  EXPECT_EQ(std::memcmp(calls[0].operands[1].data, n->data, 16), 0);
  EXPECT_EQ(calls[0].operands[1].layout, BITNET_LAYOUT_NONE);
  EXPECT_EQ(calls[0].floats, (std::vector<double>{1e-05}));
  EXPECT_TRUE(calls[0].ints.empty());

  // act_quant: two results, i8 and f32 [5].
  ASSERT_EQ(calls[1].results.size(), 2u);
  EXPECT_EQ(calls[1].results[0].dtype, BITNET_I8);
  EXPECT_EQ(calls[1].results[1].rank, 1);
  EXPECT_EQ(calls[1].results[1].dims[0], 5);

  // bitlinear: the ternary weight with its layout, scale rule and scale; logical dims.
  const bitnet_tensor& w = calls[2].operands[2];
  EXPECT_EQ(w.data, jit.blob() + jit.weights().offsets.at(t));
  EXPECT_EQ(std::memcmp(w.data, t->data, t->byteSize), 0);
  EXPECT_EQ(w.dtype, BITNET_TERNARY);
  EXPECT_EQ(w.rank, 2);
  EXPECT_EQ(w.dims[0], 8);
  EXPECT_EQ(w.dims[1], 4);
  EXPECT_EQ(w.layout, BITNET_LAYOUT_HF_BLOCKED_2BIT);
  EXPECT_EQ(w.scale_rule, BITNET_SCALE_DIV);
  EXPECT_EQ(w.scale, 0.25);
  EXPECT_EQ(calls[2].op, "%y = bitlinear(%q8, %qs, @t)");
  EXPECT_EQ(calls[2].operands[0].data, calls[1].results[0].data);
  EXPECT_EQ(calls[2].operands[1].data, calls[1].results[1].data);

  // attention: states with dims[0] = state_rows, pos from the inputs, attrs in OpDef order.
  const auto& att = calls[3];
  EXPECT_EQ(att.operands[3].data, kc.data());
  EXPECT_EQ(att.operands[4].data, vc.data());
  EXPECT_EQ(att.operands[3].rank, 3);
  EXPECT_EQ(att.operands[3].dims[0], 20);
  EXPECT_EQ(att.operands[3].dims[1], 2);
  EXPECT_EQ(att.operands[3].dims[2], 4);
  EXPECT_EQ(att.operands[5].data, &pos);
  EXPECT_EQ(att.operands[5].rank, 0);
  EXPECT_EQ(att.operands[5].dtype, BITNET_I64);
  EXPECT_EQ(att.ints, (std::vector<int64_t>{2, 2, 4}));
  EXPECT_EQ(att.floats, (std::vector<double>{0.5}));

  // Every scratch result lies inside scratch_bytes at its actual size.
  const int64_t scratchBytes = jit.function("f").scratch_bytes;
  for (const auto& c : calls)
    for (const auto& r : c.results) {
      if (r.data == out.data()) continue;
      const auto* p = static_cast<const uint8_t*>(r.data);
      const int64_t bytes = testing::elements(r) * (r.dtype == BITNET_I8 ? 1 : 4);
      EXPECT_GE(p, jit.lastScratch()) << c.op;
      EXPECT_LE(p + bytes, jit.lastScratch() + scratchBytes) << c.op;
    }
  EXPECT_EQ(calls[4].results[0].data, out.data());
}

TEST(CodegenEntry, SizesBeyondThePlanAreRefusedBeforeAnyKernel) {
  auto m = parseModule(R"(bir 1
module {architecture = "Toy"}
dim ?seq <= 100
weight @e : tensor<8 x 2 x f32> = dense<[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]>
func @forward(%tokens: tensor<?seq x i32>, %pos: tensor<i64>) -> (tensor<?seq x 8 x f32>)
    state(%c: tensor<50 x 2 x f32>, %d: tensor<40 x 2 x f32>) {
  %h = embedding(%tokens, @e) : tensor<?seq x 2 x f32>
  %l = matmul(%h, @e) {transpose_b = true} : tensor<?seq x 8 x f32>
  return %l
}
)",
                       "in.bir");
  MockScope scope;
  scope.mock.compute = false;
  CodegenOptions options;
  options.maxBatch = 10;  // scratch holds 10 tokens, not the 100 the IR allows
  JitGenerated jit(*m, options);
  std::vector<int32_t> tokens(11, 0);
  int64_t pos = 0;
  std::vector<float> out(11 * 8), c(100), d(80);
  auto run = [&](int64_t seq, int64_t rows) {
    return jit.run("forward", {seq}, {tokens.data(), &pos}, {out.data()}, {c.data(), d.data()}, rows);
  };
  EXPECT_EQ(run(11, 40), BITNET_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(jit.error(),
            "@forward: ?seq = 11 is outside [0, 10], the sizes its code was compiled for");
  EXPECT_EQ(run(-1, 40), BITNET_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(run(10, 41), BITNET_ERR_INVALID_ARGUMENT);  // the smaller state has 40 rows
  EXPECT_EQ(jit.error(),
            "@forward: state_rows = 41 is outside [0, 40], the sizes its code was compiled for");
  EXPECT_TRUE(scope.mock.calls.empty());
  EXPECT_EQ(run(10, 40), 0);
  EXPECT_EQ(run(0, 0), 0);
  EXPECT_EQ(scope.mock.calls.size(), 4u);
}

TEST(CodegenEntry, StateAsAnOutputCopiesTheSessionRows) {
  auto m = parseModule(R"(bir 1
func @f(%x: tensor<2 x f32>) -> (tensor<8 x 2 x f32>)
    state(%s: tensor<8 x 2 x f32>) {
  return %s
}
)",
                       "in.bir");
  MockScope scope;
  JitGenerated jit(*m, {});
  std::vector<float> x = {0, 0}, s = {1, 2, 3, 4, 5, 6}, out(16, 99);
  ASSERT_EQ(jit.run("f", {}, {x.data()}, {out.data()}, {s.data()}, 3), 0);
  EXPECT_EQ(std::vector<float>(out.begin(), out.begin() + 6), s);
  EXPECT_EQ(out[6], 99);
  EXPECT_TRUE(scope.mock.calls.empty());
  EXPECT_EQ(jit.function("f").scratch_bytes, 0);
}

TEST(CodegenEntry, BundledModelCallsEveryOpInOrder) {
  auto m = importCheckpoint(BITNETC_SOURCE_DIR "/test/models/bitnet-tiny-trained", {.maxContext = 64});
  MockScope scope;
  scope.mock.compute = false;
  CodegenOptions options;
  options.maxBatch = 16;
  JitGenerated jit(*m, options);
  const Function& f = *m->function("forward");
  const int64_t seq = 7;
  std::vector<int32_t> tokens(seq, 1);
  int64_t pos = 0;
  std::vector<float> logits(size_t(seq) * 3072);
  std::vector<std::vector<float>> caches(8, std::vector<float>(64 * 2 * 64));
  std::vector<void*> states;
  for (auto& c : caches) states.push_back(c.data());
  ASSERT_EQ(jit.run("forward", {seq}, {tokens.data(), &pos}, {logits.data()}, states, 64), 0);
  ASSERT_EQ(scope.mock.calls.size(), f.ops().size());
  for (size_t i = 0; i < f.ops().size(); ++i) {
    const Op& op = *f.ops()[i];
    const auto& c = scope.mock.calls[i];
    EXPECT_EQ(c.op.substr(0, op.describe().size()), op.describe());
    ASSERT_EQ(c.results.size(), op.results.size());
    for (size_t r = 0; r < op.results.size(); ++r) {
      if (!op.results[r]->type.dims.empty() && op.results[r]->type.dims[0].isDynamic()) {
        EXPECT_EQ(c.results[r].dims[0], seq) << op.describe();
      }
    }
    for (size_t o = 0; o < op.operands.size(); ++o) {
      if (op.operands[o]->isWeight()) {
        EXPECT_EQ(c.operands[o].data, jit.blob() + jit.weights().offsets.at(op.operands[o]->weight));
      }
    }
  }
  EXPECT_EQ(scope.mock.calls.back().results[0].data, logits.data());
}

}  // namespace
}  // namespace bitnetc::target
