// The pass registry and manager, and the dce/cse passes through the C++ API.
#include <gtest/gtest.h>

#include <sstream>

#include "compiler/ir/Parser.h"
#include "compiler/ir/Printer.h"
#include "compiler/pass/PassManager.h"
#include "compiler/pass/PassRegistry.h"
#include "compiler/pass/Pipeline.h"
#include "compiler/support/Error.h"
#include "passes/Passes.h"

namespace bitnetc {
namespace {

const char* kModule = R"(bir 1
dim ?seq <= 4
weight @w : tensor<4 x f32> = dense<[1, 2, 3, 4]>
weight @unused : tensor<1 x f32> = dense<[0]>

func @f(%x: tensor<?seq x 4 x f32>, %pos: tensor<i64>) -> (tensor<?seq x 4 x f32>)
    state(%kc: tensor<4 x 1 x 4 x f32>, %vc: tensor<4 x 1 x 4 x f32>) {
  %a = rms_norm(%x, @w) {eps = 1e-05} : tensor<?seq x 4 x f32>
  %q1, %s1 = act_quant(%a) : tensor<?seq x 4 x i8>, tensor<?seq x f32>
  %q2, %s2 = act_quant(%a) : tensor<?seq x 4 x i8>, tensor<?seq x f32>
  %dead = add(%q1, %q2) : tensor<?seq x 4 x i8>
  %o1 = attention(%a, %a, %a, %kc, %vc, %pos) {heads = 1, kv_heads = 1, head_dim = 4, scale = 0.5} : tensor<?seq x 4 x f32>
  %o2 = attention(%a, %a, %a, %kc, %vc, %pos) {heads = 1, kv_heads = 1, head_dim = 4, scale = 0.5} : tensor<?seq x 4 x f32>
  %qf = cast(%q2) {to = "f32"} : tensor<?seq x 4 x f32>
  %y = mul(%a, %qf) : tensor<?seq x 4 x f32>
  return %y
}
)";

// Breaks the IR on purpose: the manager must catch it.
class BreakTypes : public Pass {
 public:
  std::string_view name() const override { return "break-types"; }
  std::string_view description() const override { return "test only"; }
  void run(Module& m) override { m.function("f")->ops()[0]->results[0]->type = TensorType::of(DType::F32, {3}); }
};

TEST(PassRegistry, KnowsTheRegisteredPasses) {
  registerAllPasses();
  EXPECT_TRUE(isRegisteredPass("dce"));
  EXPECT_TRUE(isRegisteredPass("cse"));
  EXPECT_EQ(createPass("cse")->name(), "cse");
  try {
    createPass("nope");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown pass 'nope' (known: "), std::string::npos) << e.what();
  }
  for (const std::string& name : splitPipeline(defaultPipeline())) EXPECT_TRUE(isRegisteredPass(name)) << name;
}

TEST(PassManager, ParsesItsFlags) {
  PassManagerOptions o;
  EXPECT_TRUE(o.parseFlag("--passes=cse,dce"));
  EXPECT_TRUE(o.parseFlag("--passes=dce"));
  EXPECT_TRUE(o.parseFlag("--print-ir-after=cse"));
  EXPECT_TRUE(o.parseFlag("--print-ir-after-all"));
  EXPECT_TRUE(o.parseFlag("--time-passes"));
  EXPECT_FALSE(o.parseFlag("--other"));
  EXPECT_FALSE(o.parseFlag("input.bir"));
  EXPECT_EQ(o.pipeline, (std::vector<std::string>{"cse", "dce", "dce"}));
  EXPECT_EQ(o.printAfter, std::vector<std::string>{"cse"});
  EXPECT_TRUE(o.printAfterAll && o.timePasses);
  EXPECT_THROW(o.parseFlag("--passes="), Error);
  EXPECT_THROW(o.parseFlag("--passes=a,"), Error);
}

TEST(PassManager, CseThenDceSharesActQuantAndKeepsStateWriters) {
  registerAllPasses();
  auto m = parseModule(kModule, "in.bir");
  PassManagerOptions o;
  o.pipeline = {"cse", "dce"};
  o.printAfter = {"cse"};
  std::ostringstream log;
  PassManager(o, log).run(*m);
  const Function& f = *m->function("f");
  std::vector<std::string> ops;
  for (const auto& op : f.ops()) ops.push_back(op->describe());
  // One act_quant left, both attentions kept (each writes the cache), %dead and @unused gone.
  EXPECT_EQ(ops, (std::vector<std::string>{"%a = rms_norm", "%q1, %s1 = act_quant", "%o1 = attention",
                                           "%o2 = attention", "%qf = cast", "%y = mul"}));
  EXPECT_EQ(f.ops()[4]->operands[0]->name, "q1");
  EXPECT_EQ(m->weightValue("unused"), nullptr);
  EXPECT_NE(m->weightValue("w"), nullptr);
  EXPECT_EQ(log.str().rfind("// -----// IR after cse //----- //\nbir 1\n", 0), 0u) << log.str();
  EXPECT_EQ(log.str().find("IR after dce"), std::string::npos);
  // The result prints and parses again.
  EXPECT_EQ(printModule(*parseModule(printModule(*m), "out.bir")), printModule(*m));
}

TEST(PassManager, VerifiesAfterEachPass) {
  auto m = parseModule(kModule, "in.bir");
  PassManager pm({}, std::cerr);
  pm.addPass(std::make_unique<BreakTypes>());
  try {
    pm.run(*m);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "after pass 'break-types': verifier: @f: %a = rms_norm: result 0 %a is declared "
              "tensor<3 x f32> but the op yields tensor<?seq x 4 x f32>");
  }
}

TEST(PassManager, TimesPasses) {
  registerAllPasses();
  auto m = parseModule(kModule, "in.bir");
  PassManagerOptions o;
  o.pipeline = {"cse", "dce", "cse"};
  o.timePasses = true;
  std::ostringstream log;
  PassManager(o, log).run(*m);
  const std::string s = log.str();
  EXPECT_NE(s.find("Total Execution Time:"), std::string::npos);
  EXPECT_NE(s.find("%)  cse\n"), std::string::npos);
  EXPECT_NE(s.find("%)  dce\n"), std::string::npos);
  EXPECT_NE(s.find("%)  (verifier)\n"), std::string::npos);
  EXPECT_NE(s.find("(100.0%)  Total\n"), std::string::npos);
  EXPECT_EQ(s.find("  cse\n"), s.rfind("  cse\n"));  // one row per pass name
}

TEST(Dce, RemovesDeadChainsButNotStateWriters) {
  auto m = parseModule(R"(bir 1
func @f(%x: tensor<1 x 4 x f32>, %pos: tensor<i64>) -> (tensor<1 x 4 x f32>)
    state(%kc: tensor<4 x 1 x 4 x f32>, %vc: tensor<4 x 1 x 4 x f32>) {
  %o = attention(%x, %x, %x, %kc, %vc, %pos) {heads = 1, kv_heads = 1, head_dim = 4, scale = 0.5} : tensor<1 x 4 x f32>
  %a = relu(%o) : tensor<1 x 4 x f32>
  %b = neg(%a) : tensor<1 x 4 x f32>
  return %x
}
)",
                       "in.bir");
  createDeadCodeEliminationPass()->run(*m);
  const Function& f = *m->function("f");
  ASSERT_EQ(f.ops().size(), 1u);
  EXPECT_EQ(f.ops()[0]->opcode, "attention");
  EXPECT_EQ(f.lookup("a"), nullptr);  // the names of removed results are free again
}

}  // namespace
}  // namespace bitnetc
