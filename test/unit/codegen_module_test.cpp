// generateModule's LLVM module as the backend receives it: valid, the triple set and no data
// layout, the entry functions and descriptor exported, the weight symbol declared in embed mode
// only, one kernel call per op (through one out-of-line function per op) with the kernel the
// `kernel` attribute names.
#include <gtest/gtest.h>

#include <llvm/IR/Instructions.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>

#include "compiler/ir/Parser.h"
#include "compiler/support/Error.h"
#include "frontends/safetensors/Import.h"
#include "targets/WeightBlob.h"
#include "targets/codegen/Codegen.h"

namespace bitnetc::target {
namespace {

std::unique_ptr<Module> tinyModel() {
  return importCheckpoint(BITNETC_SOURCE_DIR "/test/models/bitnet-tiny-trained", {.maxContext = 32});
}

std::vector<const llvm::Function*> callees(const llvm::Function& f) {
  std::vector<const llvm::Function*> out;
  for (const auto& block : f)
    for (const auto& inst : block)
      if (const auto* call = llvm::dyn_cast<llvm::CallInst>(&inst))
        if (const llvm::Function* callee = call->getCalledFunction()) out.push_back(callee);
  return out;
}

// The kernel each op calls, in op order: the entry calls one internal function per op, which
// calls the kernel.
std::vector<std::string> kernelCalls(const llvm::Module& m, const std::string& entry) {
  std::vector<std::string> kernels;
  for (const llvm::Function* op : callees(*m.getFunction(entry))) {
    if (op->getName() == "snprintf") continue;  // the message of a size check
    EXPECT_TRUE(op->hasInternalLinkage()) << op->getName().str();
    EXPECT_TRUE(op->hasFnAttribute(llvm::Attribute::NoInline)) << op->getName().str();
    const auto inner = callees(*op);
    EXPECT_EQ(inner.size(), 1u) << op->getName().str();
    for (const llvm::Function* k : inner) kernels.push_back(k->getName().str());
  }
  return kernels;
}

TEST(CodegenModule, BundledModelEmbedMode) {
  auto m = tinyModel();
  llvm::LLVMContext context;
  CodegenOptions options;
  options.prefix = "tiny";
  options.triple = "x86_64-unknown-linux-gnu";
  const WeightBlobPlan plan = planWeightBlob(*m);
  auto out = generateModule(*m, plan, options, context);
  EXPECT_FALSE(llvm::verifyModule(*out, &llvm::errs()));
  EXPECT_EQ(out->getTargetTriple(), "x86_64-unknown-linux-gnu");
  EXPECT_TRUE(out->getDataLayoutStr().empty());  // the backend sets it

  const llvm::Function* entry = out->getFunction("bitnet__fn_forward");
  ASSERT_NE(entry, nullptr);
  EXPECT_FALSE(entry->isDeclaration());
  EXPECT_EQ(entry->getLinkage(), llvm::GlobalValue::ExternalLinkage);
  EXPECT_TRUE(entry->getReturnType()->isIntegerTy(64));
  ASSERT_EQ(entry->arg_size(), 1u);

  const llvm::GlobalVariable* desc = out->getGlobalVariable("bitnet__model");
  ASSERT_NE(desc, nullptr);
  EXPECT_TRUE(desc->hasInitializer());
  EXPECT_TRUE(desc->isConstant());
  EXPECT_EQ(desc->getLinkage(), llvm::GlobalValue::ExternalLinkage);

  const llvm::GlobalVariable* weights = out->getGlobalVariable("tiny__weights");
  ASSERT_NE(weights, nullptr);
  EXPECT_TRUE(weights->isDeclaration());
  EXPECT_TRUE(weights->isConstant());
  EXPECT_EQ(weights->getVisibility(), llvm::GlobalValue::HiddenVisibility);
  EXPECT_EQ(weights->getAlign().valueOrOne().value(), 64u);
  EXPECT_EQ(weights->getValueType()->getArrayNumElements(), 0u);

  // One kernel call per op, in order.
  const Function& f = *m->function("forward");
  const auto calls = kernelCalls(*out, "bitnet__fn_forward");
  ASSERT_EQ(calls.size(), f.ops().size());
  for (size_t i = 0; i < calls.size(); ++i) EXPECT_EQ(calls[i], "bitnetk_" + f.ops()[i]->opcode);
  EXPECT_NE(out->getFunction("bitnet__op_forward.l0.q"), nullptr);  // named after the result
  // Weights are never LLVM constants: no global holds megabytes.
  for (const llvm::GlobalVariable& g : out->globals()) {
    if (g.hasInitializer()) {
      EXPECT_LT(out->getDataLayout().getTypeAllocSize(g.getValueType()), 64u * 1024)
          << g.getName().str();
    }
  }
}

TEST(CodegenModule, ExternalModeHasNoWeightSymbol) {
  auto m = tinyModel();
  llvm::LLVMContext context;
  CodegenOptions options;
  options.prefix = "tiny";
  options.weightsExternal = true;
  options.weightsFileName = "tiny.weights";
  auto out = generateModule(*m, planWeightBlob(*m), options, context);
  EXPECT_EQ(out->getNamedValue("tiny__weights"), nullptr);
  for (const llvm::GlobalVariable& g : out->globals()) EXPECT_TRUE(g.hasInitializer()) << g.getName().str();
}

TEST(CodegenModule, KernelAttributeSelectsTheBitlinearKernel) {
  auto m = tinyModel();
  Function* f = m->function("forward");
  int tagged = 0;
  for (const auto& op : f->ops())
    if (op->opcode == "bitlinear" && tagged++ % 2 == 0) op->attrs.set("kernel", std::string("hf2"));
  llvm::LLVMContext context;
  auto out = generateModule(*m, planWeightBlob(*m), {}, context);
  const auto calls = kernelCalls(*out, "bitnet__fn_forward");
  ASSERT_EQ(calls.size(), f->ops().size());
  int hf2 = 0, generic = 0;
  for (size_t i = 0; i < calls.size(); ++i) {
    const Op& op = *f->ops()[i];
    if (op.opcode != "bitlinear") continue;
    EXPECT_EQ(calls[i], op.attrs.has("kernel") ? "bitnetk_bitlinear_hf2" : "bitnetk_bitlinear");
    (op.attrs.has("kernel") ? hf2 : generic)++;
  }
  EXPECT_EQ(hf2, 14);
  EXPECT_EQ(generic, 14);
}

TEST(CodegenModule, WeightMissingFromTheBlobIsAnError) {
  auto m = parseModule(R"(bir 1
weight @w : tensor<2 x f32> = dense<[1, 2]>
func @f(%x: tensor<2 x f32>) -> (tensor<2 x f32>) {
  %y = add(%x, @w) : tensor<2 x f32>
  return %y
}
)",
                       "in.bir");
  llvm::LLVMContext context;
  try {
    generateModule(*m, WeightBlobPlan{}, {}, context);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("@w is not in the weight blob"), std::string::npos)
        << e.what();
  }
}

TEST(CodegenModule, RankOverEightIsAnError) {
  auto m = parseModule(R"(bir 1
func @f(%x: tensor<1 x 1 x 1 x 1 x 1 x 1 x 1 x 1 x 2 x f32>) -> (tensor<1 x 1 x 1 x 1 x 1 x 1 x 1 x 1 x 2 x f32>) {
  %y = relu(%x) : tensor<1 x 1 x 1 x 1 x 1 x 1 x 1 x 1 x 2 x f32>
  return %y
}
)",
                       "in.bir");
  llvm::LLVMContext context;
  try {
    generateModule(*m, WeightBlobPlan{}, {}, context);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("rank 9"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace bitnetc::target
