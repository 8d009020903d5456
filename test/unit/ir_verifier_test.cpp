// The verifier: SSA, declared dims, weights, outputs, and op checks, with messages that name the
// function, the op and the value.
#include <gtest/gtest.h>

#include "compiler/ir/Verifier.h"
#include "compiler/support/Error.h"

namespace bitnetc {
namespace {

std::string verifyError(const Module& m) {
  try {
    verify(m);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Verifier, NamesFunctionOpAndValue) {
  Module m;
  Function* f = m.addFunction("forward");
  Value* a = f->addInput("a", TensorType::of(DType::F32, {2, 32}));
  Op* aq = f->addOp("act_quant", {a},
                    {{"q8", TensorType::of(DType::I8, {2, 32})}, {"qs", TensorType::of(DType::F32, {2})}});
  Value* w = m.addWeight(makeTernaryWeight("l0.q", 32, 16, std::vector<int8_t>(32 * 16, 0),
                                           kLayoutHFBlocked, ScaleRule::Mul, 1.5f));
  Value* q = f->add("bitlinear", {aq->result(0), aq->result(1), w}, "q", TensorType::of(DType::F32, {2, 32}));
  f->setOutputs({q});
  EXPECT_EQ(verifyError(m),
            "verifier: @forward: %q = bitlinear: operand 2 @l0.q is ternary<32 x 16> but the "
            "activation %q8 has 32 columns, expected ternary<N x 32>");
}

TEST(Verifier, AcceptsAWellFormedModule) {
  Module m;
  m.declareDim("seq", 4);
  Function* f = m.addFunction("f");
  Value* x = f->addInput("x", TensorType(DType::F32, {m.dim("seq"), Dim::fixed(4)}));
  Value* y = f->add("relu", {x}, "", x->type);  // a fresh numeric name
  EXPECT_EQ(y->name, "0");
  f->setOutputs({y});
  EXPECT_EQ(verifyError(m), "");
}

TEST(Verifier, OperandsMustBeDefinedBeforeUse) {
  Module m;
  Function* f = m.addFunction("f");
  Value* x = f->addInput("x", TensorType::of(DType::F32, {4}));
  Value* a = f->add("relu", {x}, "a", x->type);
  Value* b = f->add("relu", {a}, "b", x->type);
  a->producer->operands[0] = b;  // a use before the definition
  f->setOutputs({b});
  EXPECT_EQ(verifyError(m), "verifier: @f: %a = relu: operand 0 %b is not defined before this op");
}

TEST(Verifier, ValuesOfAnotherFunctionAreNotDefined) {
  Module m;
  Function* g = m.addFunction("g");
  Value* foreign = g->addInput("x", TensorType::of(DType::F32, {4}));
  g->setOutputs({foreign});
  Function* f = m.addFunction("f");
  f->addInput("x", TensorType::of(DType::F32, {4}));
  Value* y = f->add("relu", {foreign}, "y", foreign->type);
  f->setOutputs({y});
  EXPECT_EQ(verifyError(m), "verifier: @f: %y = relu: operand 0 %x is not defined before this op");
  f->setOutputs({foreign});
  y->producer->operands[0] = f->inputs()[0];
  EXPECT_EQ(verifyError(m), "verifier: @f: output 0 %x is not defined in the function");
}

TEST(Verifier, WeightsOfAnotherModuleAreNotDefined) {
  Module other;
  Value* w = other.addWeight(makeOwnedWeight("w", TensorType::of(DType::F32, {4}), std::vector<uint8_t>(16)));
  Module m;
  m.addWeight(makeOwnedWeight("w", TensorType::of(DType::F32, {4}), std::vector<uint8_t>(16)));
  Function* f = m.addFunction("f");
  Value* x = f->addInput("x", TensorType::of(DType::F32, {4}));
  f->setOutputs({f->add("add", {x, w}, "y", x->type)});
  EXPECT_EQ(verifyError(m), "verifier: @f: %y = add: operand 1 @w is not defined before this op");
}

TEST(Verifier, DynamicDimsMustBeDeclaredWithTheirBound) {
  Module m;
  Function* f = m.addFunction("f");
  f->addInput("x", TensorType(DType::F32, {Dim::dynamic("seq", 8)}));
  EXPECT_EQ(verifyError(m), "verifier: @f: input %x uses the undeclared dynamic dim ?seq");
  m.declareDim("seq", 4);
  EXPECT_EQ(verifyError(m),
            "verifier: @f: input %x uses ?seq with the bound 8 but the module declares ?seq <= 4");
  m.declareDim("seq", 8);
  EXPECT_EQ(verifyError(m), "");
  f->addState("cache", TensorType(DType::F32, {m.dim("seq")}));
  EXPECT_EQ(verifyError(m), "verifier: @f: state %cache is tensor<?seq x f32>, expected a static tensor type");
}

TEST(Verifier, WeightByteSizesAndLayouts) {
  {
    Module m;
    m.addWeight(makeOwnedWeight("w", TensorType::of(DType::F32, {4}), std::vector<uint8_t>(12)));
    EXPECT_EQ(verifyError(m), "verifier: weight @w of type tensor<4 x f32> holds 12 bytes, expected 16");
  }
  {
    Module m;
    Weight w = makeTernaryWeight("t", 5, 3, std::vector<int8_t>(15, 1), kLayoutHFBlocked, ScaleRule::Div, 2.0f);
    w.byteSize = 3;  // [ceil(5/4), 3] = 6 bytes
    m.addWeight(std::move(w));
    EXPECT_EQ(verifyError(m),
              "verifier: weight @t of type ternary<5 x 3> in layout \"hf_blocked_2bit\" holds 3 bytes, "
              "expected 6");
  }
  {
    Module m;
    Weight w = makeTernaryWeight("t", 2, 2, std::vector<int8_t>(4, 1), kLayoutI8, ScaleRule::None, 1.0f);
    w.layout = "nibbles";
    m.addWeight(std::move(w));
    EXPECT_EQ(verifyError(m), "verifier: weight @t has the unknown ternary layout \"nibbles\"");
  }
  {
    Module m;
    Weight w = makeOwnedWeight("f", TensorType::of(DType::F32, {1}), std::vector<uint8_t>(4));
    w.layout = "i8";
    m.addWeight(std::move(w));
    EXPECT_EQ(verifyError(m), "verifier: weight @f of type tensor<1 x f32> has a ternary layout or scale");
  }
}

TEST(Verifier, NamesMustPrintAsOneToken) {
  Module m;
  Function* f = m.addFunction("f");
  Value* x = f->addInput("bad name", TensorType::of(DType::F32, {4}));
  f->setOutputs({x});
  EXPECT_EQ(verifyError(m),
            "verifier: @f: an input has the name \"bad name\" (allowed: letters, digits, _ . $)");
}

TEST(Verifier, OpLocatorPrefixesOpErrors) {
  Module m;
  Function* f = m.addFunction("f");
  Value* x = f->addInput("x", TensorType::of(DType::F32, {4}));
  f->setOutputs({f->add("relu", {x}, "y", TensorType::of(DType::F32, {5}))});
  try {
    verify(m, [](const Op&) { return std::string("in.bir:3:3: "); });
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "in.bir:3:3: verifier: @f: %y = relu: result 0 %y is declared tensor<5 x f32> but "
                 "the op yields tensor<4 x f32>");
  }
}

}  // namespace
}  // namespace bitnetc
