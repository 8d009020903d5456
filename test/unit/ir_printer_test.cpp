// The printer: print -> parse -> print is byte-identical, floats and dense weights are exact.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "compiler/ir/Parser.h"
#include "compiler/ir/Printer.h"

namespace bitnetc {
namespace {

std::string roundTrip(const std::string& text) { return printModule(*parseModule(text, "in.bir")); }

TEST(Printer, FloatAttributesAreShortestAndStayFloats) {
  EXPECT_EQ(formatFloatAttr(1e-5), "1e-05");
  EXPECT_EQ(formatFloatAttr(500000.0), "500000.0");
  EXPECT_EQ(formatFloatAttr(1.0), "1.0");
  EXPECT_EQ(formatFloatAttr(-0.0), "-0.0");
  EXPECT_EQ(formatFloatAttr(0.1), "0.1");
  EXPECT_EQ(formatFloatAttr(1e300), "1e+300");
  EXPECT_EQ(formatFloatAttr(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(formatFloatAttr(-std::numeric_limits<double>::infinity()), "-inf");
  EXPECT_EQ(formatFloatAttr(std::nan("")), "nan");
  EXPECT_EQ(formatFloat(0.1f), "0.1");
  EXPECT_EQ(formatFloat(3.0f), "3");
  // Doubles read back to the same bits, including ones that need all 17 digits.
  for (double v : {0.1, 1.0 / 3.0, 2.0 / 3.0 * 1e-300, 5e-324, 1.7976931348623157e308, 123456789.125}) {
    AttributeList a;
    a.set("v", v);
    auto m = parseModule("bir 1\nmodule " + printAttributes(a) + "\n", "in.bir");
    EXPECT_EQ(std::bit_cast<uint64_t>(m->attrs.getFloat("v")), std::bit_cast<uint64_t>(v)) << v;
  }
}

// Every bf16 and f16 bit pattern except NaNs survives print -> parse exactly.
TEST(Printer, DenseBf16AndF16AreExactForEveryValue) {
  for (DType dtype : {DType::BF16, DType::F16}) {
    std::vector<uint16_t> bits;
    for (uint32_t b = 0; b < 65536; ++b) {
      const uint16_t h = uint16_t(b);
      const float f = dtype == DType::BF16 ? bf16ToFloat(h) : f16ToFloat(h);
      if (!std::isnan(f)) bits.push_back(h);
    }
    std::vector<uint8_t> bytes(bits.size() * 2);
    std::memcpy(bytes.data(), bits.data(), bytes.size());
    Module m;
    m.addWeight(makeOwnedWeight("w", TensorType::of(dtype, {int64_t(bits.size())}), bytes));
    const std::string text = printModule(m);
    auto parsed = parseModule(text, "in.bir");
    const Weight& w = *parsed->weights()[0];
    ASSERT_EQ(w.byteSize, bytes.size());
    EXPECT_EQ(std::memcmp(w.data, bytes.data(), bytes.size()), 0) << dtypeName(dtype);
    EXPECT_EQ(printModule(*parsed), text);
  }
}

TEST(Printer, DenseF32IsExact) {
  std::vector<float> values = {0.1f, -1e-45f, 3.4028235e38f, 1.17549435e-38f, 16777217.0f, -0.0f,
                               std::numeric_limits<float>::infinity(), 1.0f / 3.0f};
  for (uint32_t i = 0; i < 1000; ++i) values.push_back(std::bit_cast<float>(i * 2654435761u & 0x7f7fffffu));
  std::vector<uint8_t> bytes(values.size() * 4);
  std::memcpy(bytes.data(), values.data(), bytes.size());
  Module m;
  m.addWeight(makeOwnedWeight("w", TensorType::of(DType::F32, {int64_t(values.size())}), bytes));
  auto parsed = parseModule(printModule(m), "in.bir");
  EXPECT_EQ(std::memcmp(parsed->weights()[0]->data, bytes.data(), bytes.size()), 0);
}

// A module built with the C++ API holding every op, attribute kind and weight dtype prints,
// parses back to the same attributes and prints identically.
TEST(Printer, ModuleWithEveryOpAttributeAndDtypeRoundTrips) {
  Module m;
  m.attrs.set("architecture", std::string("BitNetForCausalLM"));
  m.attrs.set("bos_token_id", int64_t(1));
  m.attrs.set("rope_scale", 0.5);
  m.attrs.set("tied", true);
  m.attrs.set("ids", std::vector<int64_t>{1, -2});
  m.attrs.set("fs", std::vector<double>{0.25, 1e-5, 3.0});
  m.attrs.set("path", std::string("a \"quoted\"\\path\n"));
  m.declareDim("seq", 8);
  const Dim seq = m.dim("seq");
  auto f32 = [&](std::vector<Dim> dims) { return TensorType(DType::F32, std::move(dims)); };
  auto fixed = [](int64_t n) { return Dim::fixed(n); };

  std::vector<uint8_t> bf16(4 * 8 * 2), f16(8 * 2), f32w(8 * 4);
  for (size_t i = 0; i < 32; ++i) {
    const uint16_t b = floatToBf16(float(i) * 0.37f - 3.0f);
    std::memcpy(&bf16[2 * i], &b, 2);
  }
  for (size_t i = 0; i < 8; ++i) {
    const uint16_t h = floatToF16(1.0f + float(i) / 3.0f);
    std::memcpy(&f16[2 * i], &h, 2);
    const float v = float(i) / 7.0f;
    std::memcpy(&f32w[4 * i], &v, 4);
  }
  Value* embed = m.addWeight(makeOwnedWeight("embed", TensorType::of(DType::BF16, {4, 8}), bf16));
  Value* norm = m.addWeight(makeOwnedWeight("norm", TensorType::of(DType::F16, {8}), f16));
  Value* bias = m.addWeight(makeOwnedWeight("bias", TensorType::of(DType::F32, {8}), f32w));
  std::vector<int8_t> tv(8 * 8);
  for (size_t i = 0; i < tv.size(); ++i) tv[i] = int8_t(int(i * 5 % 3) - 1);
  Value* wq = m.addWeight(makeTernaryWeight("wq", 8, 8, tv, kLayoutHFBlocked, ScaleRule::Mul, 1.25f));
  Value* wk = m.addWeight(makeTernaryWeight("wk", 4, 8, std::vector<int8_t>(tv.begin(), tv.begin() + 32),
                                            kLayoutI8, ScaleRule::Div, 0.75f));
  Value* wv = m.addWeight(makeTernaryWeight("wv", 4, 8, std::vector<int8_t>(tv.begin() + 32, tv.end()),
                                            kLayoutHFBlocked, ScaleRule::None, 1.0f));
  Value* idx = m.addWeight(makeOwnedWeight("idx", TensorType::of(DType::I64, {2}), std::vector<uint8_t>(16, 0)));
  m.addWeight(makeOwnedWeight("u", TensorType::of(DType::U8, {3}), {0, 7, 255}));
  m.addWeight(makeOwnedWeight("s", TensorType::of(DType::I8, {3}), {0x80, 0xff, 5}));
  m.addWeight(makeOwnedWeight("i", TensorType::of(DType::I32, {1}), {1, 2, 3, 4}));

  Function* f = m.addFunction("forward");
  Value* tokens = f->addInput("tokens", TensorType(DType::I32, {seq}));
  Value* pos = f->addInput("pos", TensorType::of(DType::I64, {}));
  Value* kc = f->addState("k_cache", TensorType::of(DType::F32, {8, 2, 2}));
  Value* vc = f->addState("v_cache", TensorType::of(DType::F32, {8, 2, 2}));
  auto attrs = [](std::initializer_list<std::pair<const char*, Attribute>> list) {
    AttributeList a;
    for (const auto& [k, v] : list) a.set(k, v);
    return a;
  };
  const TensorType x8 = f32({seq, fixed(8)});
  Value* h = f->add("embedding", {tokens, embed}, "h", x8);
  Value* a = f->add("rms_norm", {h, norm}, "a", x8, attrs({{"eps", 1e-5}}));
  Op* aq = f->addOp("act_quant", {a}, {{"q8", TensorType(DType::I8, {seq, fixed(8)})}, {"qs", f32({seq})}});
  Value* q = f->add("bitlinear", {aq->result(0), aq->result(1), wq}, "q", x8);
  Value* k = f->add("bitlinear", {aq->result(0), aq->result(1), wk}, "k", f32({seq, fixed(4)}));
  Value* v = f->add("bitlinear", {aq->result(0), aq->result(1), wv}, "v", f32({seq, fixed(4)}));
  Value* qr = f->add("rope", {q, pos}, "qr", x8, attrs({{"heads", int64_t(4)}, {"head_dim", int64_t(2)}, {"theta", 10000.0}}));
  Value* kr = f->add("rope", {k, pos}, "kr", f32({seq, fixed(4)}), attrs({{"heads", int64_t(2)}, {"head_dim", int64_t(2)}, {"theta", 10000.0}}));
  Value* o = f->add("attention", {qr, kr, v, kc, vc, pos}, "o", x8,
                    attrs({{"heads", int64_t(4)}, {"kv_heads", int64_t(2)}, {"head_dim", int64_t(2)}, {"scale", 0.7071067811865476}}));
  Value* cur = f->add("relu2", {o}, "", x8);
  cur = f->add("silu", {cur}, "", x8);
  for (const char* op : {"add", "sub", "mul", "div", "max", "min", "pow"}) cur = f->add(op, {cur, bias}, "", x8);
  for (const char* op : {"neg", "abs", "sqrt", "exp", "relu", "sigmoid", "reciprocal", "round"})
    cur = f->add(op, {cur}, "", x8);
  cur = f->add("clip", {cur}, "clipped", x8, attrs({{"min", -128.0}, {"max", 127.0}}));
  Value* ci = f->add("cast", {cur}, "ci", TensorType(DType::I32, {seq, fixed(8)}), attrs({{"to", std::string("i32")}}));
  f->add("reduce_sum", {ci}, "", TensorType(DType::I32, {seq}), attrs({{"axes", std::vector<int64_t>{-1}}, {"keepdims", false}}));
  Value* rmax = f->add("reduce_max", {cur}, "rmax", f32({seq, fixed(1)}), attrs({{"axes", std::vector<int64_t>{1}}, {"keepdims", true}}));
  Value* rmean = f->add("reduce_mean", {cur}, "rmean", f32({}), attrs({{"axes", std::vector<int64_t>{0, 1}}, {"keepdims", false}}));
  cur = f->add("sub", {cur, rmax}, "", x8);
  cur = f->add("mul", {cur, rmean}, "", x8);
  cur = f->add("softmax", {cur}, "", x8, attrs({{"axis", int64_t(-1)}}));
  Value* t = f->add("transpose", {cur}, "t", f32({fixed(8), seq}), attrs({{"perm", std::vector<int64_t>{1, 0}}}));
  Value* r = f->add("reshape", {t}, "r", f32({fixed(2), fixed(4), seq}), attrs({{"shape", std::vector<int64_t>{2, 4, -1}}}));
  Value* c = f->add("concat", {r, r}, "c", f32({fixed(4), fixed(4), seq}), attrs({{"axis", int64_t(0)}}));
  Value* g = f->add("gather", {c, idx}, "g", f32({fixed(2), fixed(4), seq}), attrs({{"axis", int64_t(0)}}));
  Value* mm = f->add("matmul", {cur, embed}, "logits", f32({seq, fixed(4)}), attrs({{"transpose_b", true}}));
  f->setOutputs({mm, g});

  const std::string text = printModule(m);
  auto parsed = parseModule(text, "in.bir");
  EXPECT_EQ(printModule(*parsed), text);
  EXPECT_EQ(parsed->attrs, m.attrs);  // same values and attribute kinds
  ASSERT_EQ(parsed->weights().size(), m.weights().size());
  for (size_t i = 0; i < m.weights().size(); ++i) {
    const Weight& want = *m.weights()[i];
    const Weight& got = *parsed->weights()[i];
    EXPECT_EQ(got.type, want.type) << want.name;
    EXPECT_EQ(got.layout, want.layout) << want.name;
    EXPECT_EQ(got.scaleRule, want.scaleRule) << want.name;
    EXPECT_EQ(got.scale, want.scale) << want.name;
    ASSERT_EQ(got.byteSize, want.byteSize) << want.name;
    EXPECT_EQ(std::memcmp(got.data, want.data, want.byteSize), 0) << want.name;
  }
  const Function& pf = *parsed->function("forward");
  ASSERT_EQ(pf.ops().size(), f->ops().size());
  for (size_t i = 0; i < pf.ops().size(); ++i) EXPECT_EQ(pf.ops()[i]->attrs, f->ops()[i]->attrs) << i;
  // Fresh numeric names print and parse like any other.
  EXPECT_NE(text.find("%0 = relu2(%o)"), std::string::npos);
}

TEST(Printer, LayoutOfAFunction) {
  const std::string text =
      "bir 1\n"
      "dim ?seq <= 4\n"
      "\n"
      "func @f(%x: tensor<?seq x 2 x f32>, %pos: tensor<i64>) -> (tensor<?seq x 2 x f32>, tensor<?seq x f32>)\n"
      "    state(%c: tensor<4 x 1 x 2 x f32>) {\n"
      "  %q, %s = act_quant(%x) : tensor<?seq x 2 x i8>, tensor<?seq x f32>\n"
      "  %y = relu(%x) : tensor<?seq x 2 x f32>\n"
      "  return %y, %s\n"
      "}\n"
      "\n"
      "func @g() -> () {\n"
      "  return\n"
      "}\n";
  EXPECT_EQ(roundTrip(text), text);
}

}  // namespace
}  // namespace bitnetc
