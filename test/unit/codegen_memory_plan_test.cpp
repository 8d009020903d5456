// The static memory plan (targets/codegen/MemoryPlan.h): offsets 64-aligned, sizes at the planning
// bounds, no two values live at the same time share a byte, space is reused, outputs go straight
// into output buffers, and an LM's ?seq plans at the max batch (LanguageModel.h).
#include <gtest/gtest.h>

#include <map>

#include "compiler/ir/Parser.h"
#include "compiler/support/Error.h"
#include "frontends/safetensors/Import.h"
#include "targets/codegen/LanguageModel.h"
#include "targets/codegen/MemoryPlan.h"

namespace bitnetc::target {
namespace {

// Every invariant a plan must keep; returns the sum of the slot sizes.
uint64_t checkPlan(const Function& f, const MemoryPlan& plan,
                   const std::map<std::string, int64_t>& bounds) {
  uint64_t sum = 0;
  const auto& ops = f.ops();
  for (const auto& s : plan.slots) {
    EXPECT_EQ(s.offset % kScratchAlignment, 0u) << s.value->name;
    EXPECT_EQ(s.bytes, plannedBytes(s.value->type, bounds)) << s.value->name;
    EXPECT_LE(s.offset + s.bytes, plan.scratchBytes) << s.value->name;
    EXPECT_EQ(plan.find(s.value), &s);
    if (s.firstOp >= ops.size()) {
      ADD_FAILURE() << s.value->name << " defined by op " << s.firstOp;
      continue;
    }
    EXPECT_EQ(s.value->producer, ops[s.firstOp].get()) << s.value->name;
    // lastOp is the last reader.
    size_t last = s.firstOp;
    for (size_t i = 0; i < ops.size(); ++i)
      for (const Value* v : ops[i]->operands)
        if (v == s.value) last = i;
    EXPECT_EQ(s.lastOp, last) << s.value->name;
    sum += s.bytes;
  }
  for (size_t a = 0; a < plan.slots.size(); ++a)
    for (size_t b = a + 1; b < plan.slots.size(); ++b) {
      const auto& x = plan.slots[a];
      const auto& y = plan.slots[b];
      const bool liveTogether = x.firstOp <= y.lastOp && y.firstOp <= x.lastOp;
      const bool shareBytes = x.offset < y.offset + std::max<uint64_t>(y.bytes, 1) &&
                              y.offset < x.offset + std::max<uint64_t>(x.bytes, 1);
      EXPECT_FALSE(liveTogether && shareBytes) << x.value->name << " and " << y.value->name;
    }
  // Every result is either in scratch or an output.
  for (const auto& op : ops)
    for (const Value* r : op->results)
      EXPECT_NE(plan.find(r) != nullptr, plan.directOutputs.count(r) == 1) << r->name;
  EXPECT_EQ(plan.scratchBytes % kScratchAlignment, 0u);
  return sum;
}

TEST(CodegenMemoryPlan, ChainReusesDeadValues) {
  auto m = parseModule(R"(bir 1
dim ?n <= 10
func @f(%x: tensor<?n x 16 x f32>) -> (tensor<?n x 16 x f32>) {
  %a = relu(%x) : tensor<?n x 16 x f32>
  %b = relu(%a) : tensor<?n x 16 x f32>
  %c = relu(%b) : tensor<?n x 16 x f32>
  %d = relu(%c) : tensor<?n x 16 x f32>
  %e = relu(%d) : tensor<?n x 16 x f32>
  return %e
}
)",
                       "in.bir");
  const Function& f = *m->function("f");
  const auto bounds = planningBounds(*m, f, 4);  // not an LM: ?n at its bound 10
  EXPECT_EQ(bounds.at("n"), 10);
  const MemoryPlan plan = planMemory(f, bounds);
  ASSERT_EQ(plan.slots.size(), 4u);  // %e is the output
  checkPlan(f, plan, bounds);
  for (const auto& s : plan.slots) EXPECT_EQ(s.bytes, 10u * 16 * 4);
  // Two live at a time: 2 * 640 bytes.
  EXPECT_EQ(plan.scratchBytes, 2u * 640);
  EXPECT_EQ(plan.find(m->function("f")->lookup("a"))->offset,
            plan.find(m->function("f")->lookup("c"))->offset);
  EXPECT_EQ(plan.directOutputs.at(f.lookup("e")), 0u);
}

TEST(CodegenMemoryPlan, LongLivedValuesAndSizes) {
  auto m = parseModule(R"(bir 1
func @f(%x: tensor<3 x 5 x f32>) -> (tensor<3 x 5 x f32>, tensor<3 x 5 x f32>, tensor<3 x 5 x f32>) {
  %q, %s = act_quant(%x) : tensor<3 x 5 x i8>, tensor<3 x f32>
  %a = relu(%x) : tensor<3 x 5 x f32>
  %b = relu(%a) : tensor<3 x 5 x f32>
  %c = relu(%b) : tensor<3 x 5 x f32>
  %d = add(%a, %c) : tensor<3 x 5 x f32>
  %i = cast(%q) {to = "i64"} : tensor<3 x 5 x i64>
  return %d, %x, %d
}
)",
                       "in.bir");
  const Function& f = *m->function("f");
  const auto bounds = planningBounds(*m, f, 512);
  const MemoryPlan plan = planMemory(f, bounds);
  checkPlan(f, plan, bounds);
  EXPECT_EQ(plan.find(f.lookup("q"))->bytes, 15u);
  EXPECT_EQ(plan.find(f.lookup("s"))->bytes, 12u);
  EXPECT_EQ(plan.find(f.lookup("i"))->bytes, 120u);
  // %a lives until %d reads it: it overlaps %b and %c in time.
  EXPECT_EQ(plan.find(f.lookup("a"))->lastOp, 4u);
  // %s is read by no op: live at its definition only.
  EXPECT_EQ(plan.find(f.lookup("s"))->lastOp, 0u);
  // %d: the first output naming it gets it; %x (an input) is no result.
  EXPECT_EQ(plan.directOutputs.size(), 1u);
  EXPECT_EQ(plan.directOutputs.at(f.lookup("d")), 0u);
  EXPECT_EQ(plan.find(f.lookup("d")), nullptr);
}

TEST(CodegenMemoryPlan, ResultsNeverOverlapOperands) {
  // %b's only reader is the op defining %c: they are live together at that op.
  auto m = parseModule(R"(bir 1
func @f(%x: tensor<64 x f32>) -> (tensor<64 x f32>) {
  %b = relu(%x) : tensor<64 x f32>
  %c = relu(%b) : tensor<64 x f32>
  %d = relu(%c) : tensor<64 x f32>
  return %d
}
)",
                       "in.bir");
  const Function& f = *m->function("f");
  const MemoryPlan plan = planMemory(f, planningBounds(*m, f, 512));
  EXPECT_NE(plan.find(f.lookup("b"))->offset, plan.find(f.lookup("c"))->offset);
}

TEST(CodegenMemoryPlan, MissingBoundIsAnError) {
  auto m = parseModule(R"(bir 1
dim ?n <= 4
func @f(%x: tensor<?n x f32>) -> (tensor<?n x f32>) {
  %a = relu(%x) : tensor<?n x f32>
  %b = relu(%a) : tensor<?n x f32>
  return %b
}
)",
                       "in.bir");
  try {
    planMemory(*m->function("f"), {});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("?n"), std::string::npos) << e.what();
  }
}

TEST(CodegenMemoryPlan, BundledModelPlansSeqAtTheMaxBatch) {
  auto m = importCheckpoint(BITNETC_SOURCE_DIR "/test/models/bitnet-tiny-trained", {.maxContext = 64});
  const Function& f = *m->function("forward");
  auto lm = findLanguageModel(*m, 16);
  ASSERT_TRUE(lm);
  EXPECT_EQ(lm->forward, &f);
  EXPECT_EQ(lm->seqDim, "seq");
  EXPECT_EQ(lm->seqMax, 64);
  EXPECT_EQ(lm->maxBatch, 16);
  EXPECT_EQ(findLanguageModel(*m, 512)->maxBatch, 64);  // capped by the context

  for (int64_t batch : {1, 16, 512}) {
    const auto bounds = planningBounds(*m, f, batch);
    EXPECT_EQ(bounds.at("seq"), std::min<int64_t>(batch, 64));
    const MemoryPlan plan = planMemory(f, bounds);
    const uint64_t sum = checkPlan(f, plan, bounds);
    EXPECT_EQ(plan.find(f.lookup("h0"))->bytes, uint64_t(std::min<int64_t>(batch, 64)) * 256 * 4);
    // The logits are the output: never in scratch.
    EXPECT_EQ(plan.directOutputs.size(), 1u);
    // Four layers of intermediates fit in a small fraction of their sum.
    EXPECT_LT(plan.scratchBytes * 8, sum) << "batch " << batch;
  }
}

TEST(CodegenMemoryPlan, NotALanguageModelWithoutArchitecture) {
  auto m = parseModule(R"(bir 1
dim ?seq <= 32
weight @e : tensor<8 x 4 x f32> = dense<[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31]>
func @forward(%tokens: tensor<?seq x i32>, %pos: tensor<i64>) -> (tensor<?seq x 8 x f32>) {
  %h = embedding(%tokens, @e) : tensor<?seq x 4 x f32>
  %l = matmul(%h, @e) {transpose_b = true} : tensor<?seq x 8 x f32>
  return %l
}
)",
                       "in.bir");
  EXPECT_FALSE(findLanguageModel(*m, 4));
  EXPECT_EQ(planningBounds(*m, *m->function("forward"), 4).at("seq"), 32);
  m->attrs.set("architecture", std::string("Toy"));
  ASSERT_TRUE(findLanguageModel(*m, 4));
  EXPECT_EQ(planningBounds(*m, *m->function("forward"), 4).at("seq"), 4);
}

}  // namespace
}  // namespace bitnetc::target
