// OpDefs: the registry covers docs/IR.md, and the type rules infer and reject what they should.
#include <gtest/gtest.h>

#include "compiler/ir/OpDefs.h"
#include "compiler/support/Error.h"

namespace bitnetc {
namespace {

std::string checkError(const Op& op) {
  try {
    checkOp(op);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

struct Fixture {
  Module m;
  Function* f;
  Dim seq;
  Fixture() {
    m.declareDim("seq", 8);
    seq = m.dim("seq");
    f = m.addFunction("f");
  }
  TensorType t(DType d, std::vector<Dim> dims) { return TensorType(d, std::move(dims)); }
};

TEST(OpDefs, EveryOpOfTheContractIsRegistered) {
  for (const char* op :
       {"embedding", "rms_norm", "act_quant", "bitlinear", "rope", "attention", "relu2", "silu",
        "add", "sub", "mul", "div", "max", "min", "pow", "neg", "abs", "sqrt", "exp", "relu",
        "sigmoid", "reciprocal", "round", "clip", "cast", "reduce_max", "reduce_mean",
        "reduce_sum", "softmax", "matmul", "transpose", "reshape", "concat", "gather",
        // added for ONNX graphs
        "equal", "less", "greater", "where", "expand", "range", "slice", "trilu", "layer_norm",
        "shape", "matmul_integer", "matmul_nbits",
        // the fusion of rms_norm and act_quant (fuse-norm-quant)
        "rms_norm_quant"})
    EXPECT_NE(findOpDef(op), nullptr) << op;
  EXPECT_EQ(allOpDefs().size(), 47u);
  EXPECT_EQ(findOpDef("frobnicate"), nullptr);
  EXPECT_THROW(getOpDef("frobnicate"), Error);
  try {
    getOpDef("frobnicate");
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "unknown opcode 'frobnicate'");
  }
  EXPECT_EQ(getOpDef("act_quant").numResults, 2);
  EXPECT_EQ(getOpDef("concat").numOperands, -1);
  EXPECT_EQ(getOpDef("attention").stateOperands, (std::vector<unsigned>{3, 4}));
}

TEST(OpDefs, BitLinearInfersFromDynamicRows) {
  Fixture x;
  Value* a = x.f->addInput("a", x.t(DType::F32, {x.seq, Dim::fixed(16)}));
  Op* aq = x.f->addOp("act_quant", {a},
                      {{"q8", x.t(DType::I8, {x.seq, Dim::fixed(16)})}, {"qs", x.t(DType::F32, {x.seq})}});
  EXPECT_EQ(checkError(*aq), "");
  Value* w = x.m.addWeight(makeTernaryWeight("w", 4, 16, std::vector<int8_t>(64, 1), kLayoutI8,
                                             ScaleRule::None, 1.0f));
  Value* y = x.f->add("bitlinear", {aq->result(0), aq->result(1), w}, "y",
                      x.t(DType::F32, {x.seq, Dim::fixed(4)}));
  EXPECT_EQ(checkError(*y->producer), "");
  // The scale must have the activation's rows.
  Value* bad = x.f->add("bitlinear", {aq->result(0), a, w}, "bad", x.t(DType::F32, {x.seq, Dim::fixed(4)}));
  EXPECT_EQ(checkError(*bad->producer),
            "operand 1 %a is tensor<?seq x 16 x f32> but the activation %q8 is tensor<?seq x 16 x i8>, "
            "expected tensor<?seq x f32>");
}

TEST(OpDefs, BroadcastingFollowsNumpyAndComparesDynamicDimsByName) {
  Fixture x;
  x.m.declareDim("ctx", 8);
  Value* a = x.f->addInput("a", x.t(DType::F32, {x.seq, Dim::fixed(4)}));
  Value* row = x.f->addInput("row", TensorType::of(DType::F32, {4}));
  Value* col = x.f->addInput("col", x.t(DType::F32, {x.seq, Dim::fixed(1)}));
  Value* one = x.f->addInput("one", TensorType::of(DType::F32, {1, 1}));
  Value* other = x.f->addInput("other", x.t(DType::F32, {x.m.dim("ctx"), Dim::fixed(4)}));
  Value* ints = x.f->addInput("ints", TensorType::of(DType::I32, {4}));
  const TensorType expected = x.t(DType::F32, {x.seq, Dim::fixed(4)});
  EXPECT_EQ(checkError(*x.f->add("add", {a, row}, "", expected)->producer), "");
  EXPECT_EQ(checkError(*x.f->add("mul", {row, col}, "", expected)->producer), "");
  EXPECT_EQ(checkError(*x.f->add("sub", {one, a}, "", expected)->producer), "");
  EXPECT_EQ(checkError(*x.f->add("add", {a, other}, "d", expected)->producer),
            "operand 0 %a (tensor<?seq x 4 x f32>) and operand 1 %other (tensor<?ctx x 4 x f32>) do "
            "not broadcast: ?seq vs ?ctx");
  EXPECT_EQ(checkError(*x.f->add("add", {a, ints}, "e", expected)->producer),
            "operand 1 %ints is tensor<4 x i32>, expected element type f32 like operand 0");
  // Integers are fine for add and div (ONNX Div on integers truncates), bool is not arithmetic.
  EXPECT_EQ(checkError(*x.f->add("add", {ints, ints}, "", TensorType::of(DType::I32, {4}))->producer), "");
  EXPECT_EQ(checkError(*x.f->add("div", {ints, ints}, "", TensorType::of(DType::I32, {4}))->producer), "");
  Value* flags = x.f->addInput("flags", TensorType::of(DType::Bool, {4}));
  EXPECT_EQ(checkError(*x.f->add("div", {flags, flags}, "g", TensorType::of(DType::Bool, {4}))->producer),
            "operand 0 %flags is tensor<4 x bool>, expected element type "
            "f32/bf16/f16/f64/i8/i16/i32/i64/u8/u16/u32/u64");
}

TEST(OpDefs, ShapeOps) {
  Fixture x;
  Value* a = x.f->addInput("a", x.t(DType::F32, {x.seq, Dim::fixed(6)}));
  AttributeList split;
  split.set("shape", std::vector<int64_t>{0, 3, 2});
  const TensorType split3 = x.t(DType::F32, {x.seq, Dim::fixed(3), Dim::fixed(2)});
  Value* r = x.f->add("reshape", {a}, "r", split3, split);
  EXPECT_EQ(checkError(*r->producer), "");
  AttributeList merge;
  merge.set("shape", std::vector<int64_t>{-1, 6});
  EXPECT_EQ(checkError(*x.f->add("reshape", {r}, "", x.t(DType::F32, {x.seq, Dim::fixed(6)}), merge)->producer), "");
  AttributeList flat;
  flat.set("shape", std::vector<int64_t>{-1});
  EXPECT_NE(checkError(*x.f->add("reshape", {r}, "", x.t(DType::F32, {x.seq}), flat)->producer), "");

  AttributeList perm;
  perm.set("perm", std::vector<int64_t>{1, 0});
  EXPECT_EQ(checkError(*x.f->add("transpose", {a}, "", x.t(DType::F32, {Dim::fixed(6), x.seq}), perm)->producer), "");
  perm.set("perm", std::vector<int64_t>{0, 0});
  EXPECT_EQ(checkError(*x.f->add("transpose", {a}, "", x.t(DType::F32, {Dim::fixed(6), x.seq}), perm)->producer),
            "attribute 'perm' is not a permutation of 0..1");

  AttributeList axis;
  axis.set("axis", int64_t(-1));
  EXPECT_EQ(checkError(*x.f->add("concat", {a, a, a}, "", x.t(DType::F32, {x.seq, Dim::fixed(18)}), axis)->producer), "");
  axis.set("axis", int64_t(0));
  EXPECT_NE(checkError(*x.f->add("concat", {a, a}, "", x.t(DType::F32, {x.seq, Dim::fixed(6)}), axis)->producer), "");

  Value* idx = x.f->addInput("idx", TensorType::of(DType::I64, {2, 3}));
  axis.set("axis", int64_t(1));
  EXPECT_EQ(checkError(*x.f->add("gather", {a, idx}, "", x.t(DType::F32, {x.seq, Dim::fixed(2), Dim::fixed(3)}), axis)->producer), "");

  AttributeList reduce;
  reduce.set("axes", std::vector<int64_t>{-1});
  reduce.set("keepdims", true);
  EXPECT_EQ(checkError(*x.f->add("reduce_max", {a}, "", x.t(DType::F32, {x.seq, Dim::fixed(1)}), reduce)->producer), "");
  EXPECT_EQ(checkError(*x.f->add("reduce_sum", {a}, "", x.t(DType::F32, {Dim::fixed(1), Dim::fixed(1)}))->producer), "");
  reduce.set("axes", std::vector<int64_t>{1, -1});
  EXPECT_EQ(checkError(*x.f->add("reduce_sum", {a}, "", x.t(DType::F32, {x.seq}), reduce)->producer),
            "attribute 'axes' names the axis -1 twice");
}

TEST(OpDefs, MatmulWithTransposedWeightAndBatchedValues) {
  Fixture x;
  Value* a = x.f->addInput("a", x.t(DType::F32, {x.seq, Dim::fixed(4)}));
  Value* embed = x.m.addWeight(makeOwnedWeight("embed", TensorType::of(DType::BF16, {10, 4}),
                                               std::vector<uint8_t>(80)));
  AttributeList tb;
  tb.set("transpose_b", true);
  EXPECT_EQ(checkError(*x.f->add("matmul", {a, embed}, "", x.t(DType::F32, {x.seq, Dim::fixed(10)}), tb)->producer), "");
  EXPECT_NE(checkError(*x.f->add("matmul", {a, embed}, "", x.t(DType::F32, {x.seq, Dim::fixed(10)}))->producer), "");
  Value* p = x.f->addInput("p", TensorType::of(DType::F32, {2, 3, 4}));
  Value* q = x.f->addInput("q", TensorType::of(DType::F32, {2, 4, 5}));
  EXPECT_EQ(checkError(*x.f->add("matmul", {p, q}, "", TensorType::of(DType::F32, {2, 3, 5}))->producer), "");
}

TEST(OpDefs, AttentionNeedsStatesAndMatchingHeads) {
  Fixture x;
  Value* q = x.f->addInput("q", x.t(DType::F32, {x.seq, Dim::fixed(8)}));
  Value* kv = x.f->addInput("kv", x.t(DType::F32, {x.seq, Dim::fixed(4)}));
  Value* pos = x.f->addInput("pos", TensorType::of(DType::I64, {}));
  Value* notState = x.f->addInput("c", TensorType::of(DType::F32, {8, 2, 2}));
  Value* kc = x.f->addState("kc", TensorType::of(DType::F32, {8, 2, 2}));
  Value* vc = x.f->addState("vc", TensorType::of(DType::F32, {8, 2, 2}));
  AttributeList attrs;
  attrs.set("heads", int64_t(4));
  attrs.set("kv_heads", int64_t(2));
  attrs.set("head_dim", int64_t(2));
  attrs.set("scale", 0.5);
  const TensorType out = x.t(DType::F32, {x.seq, Dim::fixed(8)});
  EXPECT_EQ(checkError(*x.f->add("attention", {q, kv, kv, kc, vc, pos}, "", out, attrs)->producer), "");
  EXPECT_EQ(checkError(*x.f->add("attention", {q, kv, kv, notState, vc, pos}, "", out, attrs)->producer),
            "operand 3 %c must be a function state (it is written)");
  EXPECT_EQ(checkError(*x.f->add("attention", {q, kv, kv, kc, vc, q}, "", out, attrs)->producer),
            "operand 5 %q is tensor<?seq x 8 x f32>, expected tensor<i64>");
  attrs.set("kv_heads", int64_t(3));
  EXPECT_EQ(checkError(*x.f->add("attention", {q, kv, kv, kc, vc, pos}, "", out, attrs)->producer),
            "heads = 4 is not a multiple of kv_heads = 3");
}

TEST(OpDefs, AttributesAreCheckedByKind) {
  Fixture x;
  Value* a = x.f->addInput("a", TensorType::of(DType::F32, {2, 4}));
  Value* w = x.m.addWeight(makeOwnedWeight("w", TensorType::of(DType::F32, {4}), std::vector<uint8_t>(16)));
  AttributeList eps;
  eps.set("eps", int64_t(1));  // an integral float may be written as an int
  EXPECT_EQ(checkError(*x.f->add("rms_norm", {a, w}, "", a->type, eps)->producer), "");
  eps.set("eps", std::string("small"));
  EXPECT_EQ(checkError(*x.f->add("rms_norm", {a, w}, "", a->type, eps)->producer),
            "attribute 'eps' is a string, expected float");
  EXPECT_EQ(checkError(*x.f->add("rms_norm", {a, w}, "", a->type)->producer),
            "missing attribute 'eps' (float)");
  AttributeList cast;
  cast.set("to", std::string("ternary"));
  EXPECT_EQ(checkError(*x.f->add("cast", {a}, "", a->type, cast)->producer),
            "attribute 'to' = \"ternary\" is not a tensor element type");
}

}  // namespace
}  // namespace bitnetc
