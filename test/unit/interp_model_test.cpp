// A hand-built one-layer BitNet decoder: prefill-then-decode equals full evaluation bit for bit,
// every fault changes the logits, and bad inputs are errors (token id, context overflow, dynamic
// dim bound, input dtype). Also: every opcode of OpDefs is known to the interpreter.
#include <gtest/gtest.h>

#include <cmath>

#include "compiler/ir/OpDefs.h"
#include "interp_test_util.h"

using namespace bitnetc;
using namespace bitnetc::testutil;

namespace {

constexpr int64_t V = 20, H = 16, Hq = 4, Hkv = 2, Dh = 4, F = 24, C = 16;

struct TinyModel {
  Graph g;
  TinyModel() {
    Module& m = *g.module;
    Function& f = *g.f;
    m.declareDim("seq", C);
    const Dim seq = m.dim("seq");
    auto act = [&](int64_t n) { return TensorType(DType::F32, {seq, Dim::fixed(n)}); };
    Value* tokens = f.addInput("tokens", TensorType(DType::I32, {seq}));
    Value* pos = f.addInput("pos", TensorType::of(DType::I64, {}));
    Value* kc = f.addState("l0.k_cache", f32({C, Hkv, Dh}));
    Value* vc = f.addState("l0.v_cache", f32({C, Hkv, Dh}));
    uint32_t seed = 1;
    Value* embed = g.weightF32("embed", {V, H}, randomFloats(V * H, seed++));
    auto norm = [&](Value* x, int64_t n, const std::string& name) {
      AttributeList a;
      a.set("eps", 1e-5);
      Value* w = g.weightF32(name + ".w", {n}, randomFloats(size_t(n), seed++, 0.5f, 1.5f));
      return f.add("rms_norm", {x, w}, name, act(n), a);
    };
    auto quant = [&](Value* x, int64_t n, const std::string& name) {
      Op* op = f.addOp("act_quant", {x}, {{name + ".q", TensorType(DType::I8, {seq, Dim::fixed(n)})},
                                          {name + ".s", TensorType(DType::F32, {seq})}});
      return std::make_pair(op->result(0), op->result(1));
    };
    auto linear = [&](std::pair<Value*, Value*> q, int64_t out, int64_t in, const std::string& name) {
      Value* w = g.ternary(name + ".w", out, in, randomTernary(size_t(out * in), seed++), kLayoutHFBlocked,
                           ScaleRule::Mul, 0.5f + 0.1f * float(seed));
      return f.add("bitlinear", {q.first, q.second, w}, name, act(out));
    };
    auto rope = [&](Value* x, int64_t heads, const std::string& name) {
      AttributeList a;
      a.set("heads", heads);
      a.set("head_dim", Dh);
      a.set("theta", 10000.0);
      return f.add("rope", {x, pos}, name, act(heads * Dh), a);
    };
    Value* h = f.add("embedding", {tokens, embed}, "h", act(H));
    auto aq = quant(norm(h, H, "in_norm"), H, "a");
    Value* q = rope(linear(aq, Hq * Dh, H, "q"), Hq, "qr");
    Value* k = rope(linear(aq, Hkv * Dh, H, "k"), Hkv, "kr");
    Value* v = linear(aq, Hkv * Dh, H, "v");
    AttributeList at;
    at.set("heads", Hq);
    at.set("kv_heads", Hkv);
    at.set("head_dim", Dh);
    at.set("scale", 0.5);
    Value* o = f.add("attention", {q, k, v, kc, vc, pos}, "attn", act(Hq * Dh), at);
    Value* h1 = f.add("add", {h, linear(quant(norm(o, H, "sub_norm"), H, "o"), H, H, "attn_out")}, "h1", act(H));
    auto mq = quant(norm(h1, H, "post_norm"), H, "m");
    Value* gate = f.add("relu2", {linear(mq, F, H, "gate")}, "gate2", act(F));
    Value* gu = f.add("mul", {gate, linear(mq, F, H, "up")}, "gu", act(F));
    Value* down = linear(quant(norm(gu, F, "ffn_norm"), F, "g"), H, F, "down");
    Value* h2 = f.add("add", {h1, down}, "h2", act(H));
    AttributeList mm;
    mm.set("transpose_b", true);
    f.setOutputs({f.add("matmul", {norm(h2, H, "final_norm"), embed}, "logits", act(V), mm)});
  }
};

HostTensor ids(const std::vector<int32_t>& v) { return HostTensor::fromI32({int64_t(v.size())}, v); }

std::vector<float> evalAll(TinyModel& m, const std::vector<int32_t>& tokens, Fault fault = Fault::None) {
  InterpreterOptions o;
  o.fault = fault;
  Interpreter in(*m.g.module, *m.g.f, o);
  return floats(in.run({ids(tokens), HostTensor::scalarI64(0)})[0]);
}

std::string errorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

const std::vector<int32_t> kTokens = {1, 7, 3, 19, 0, 12};

}  // namespace

TEST(InterpModel, PrefillThenDecodeEqualsFullEvaluation) {
  TinyModel m;
  const auto full = evalAll(m, kTokens);
  ASSERT_EQ(full.size(), kTokens.size() * V);
  Interpreter in(*m.g.module, *m.g.f);
  std::vector<float> chunked = floats(in.run({ids({1, 7, 3}), HostTensor::scalarI64(0)})[0]);
  for (int64_t t = 3; t < 6; ++t) {
    auto r = floats(in.run({ids({kTokens[size_t(t)]}), HostTensor::scalarI64(t)})[0]);
    chunked.insert(chunked.end(), r.begin(), r.end());
  }
  EXPECT_EQ(chunked, full);
  // After resetState the same interpreter reproduces the first rows.
  in.resetState();
  auto again = floats(in.run({ids({1, 7}), HostTensor::scalarI64(0)})[0]);
  EXPECT_EQ(again, std::vector<float>(full.begin(), full.begin() + 2 * V));
  for (float x : full) EXPECT_TRUE(std::isfinite(x));
}

TEST(InterpModel, EveryFaultChangesTheLogits) {
  TinyModel m;
  const auto good = evalAll(m, kTokens);
  for (Fault f : {Fault::SkipActQuant, Fault::PerTensorActQuant, Fault::InterleavedPacking, Fault::DivideScale,
                  Fault::GqaModulo, Fault::InterleavedRope}) {
    EXPECT_NE(evalAll(m, kTokens, f), good) << "fault " << int(f);
  }
}

TEST(InterpModel, FaultNames) {
  EXPECT_EQ(faultFromName("skip-act-quant"), Fault::SkipActQuant);
  EXPECT_EQ(faultFromName("per-tensor-act-quant"), Fault::PerTensorActQuant);
  EXPECT_EQ(faultFromName("interleaved-packing"), Fault::InterleavedPacking);
  EXPECT_EQ(faultFromName("divide-scale"), Fault::DivideScale);
  EXPECT_EQ(faultFromName("gqa-modulo"), Fault::GqaModulo);
  EXPECT_EQ(faultFromName("interleaved-rope"), Fault::InterleavedRope);
  EXPECT_EQ(faultFromName("cache-at-zero"), Fault::CacheAtZero);
  EXPECT_THROW(faultFromName("bogus"), Error);
}

TEST(InterpModel, BadInputsAreErrors) {
  TinyModel m;
  Interpreter in(*m.g.module, *m.g.f);
  std::string e = errorOf([&] { in.run({ids({1, 20}), HostTensor::scalarI64(0)}); });
  EXPECT_NE(e.find("token id 20"), std::string::npos) << e;
  EXPECT_NE(e.find("vocabulary size 20"), std::string::npos) << e;
  e = errorOf([&] { in.run({ids({-1}), HostTensor::scalarI64(0)}); });
  EXPECT_NE(e.find("token id -1"), std::string::npos) << e;
  e = errorOf([&] { in.run({ids({1, 2, 3}), HostTensor::scalarI64(14)}); });
  EXPECT_NE(e.find("context overflow"), std::string::npos) << e;
  e = errorOf([&] { in.run({ids(std::vector<int32_t>(17, 1)), HostTensor::scalarI64(0)}); });
  EXPECT_NE(e.find("?seq = 17 exceeds its bound 16"), std::string::npos) << e;
  e = errorOf([&] { in.run({HostTensor::fromF32({2}, {1, 2}), HostTensor::scalarI64(0)}); });
  EXPECT_NE(e.find("input %tokens has dtype f32"), std::string::npos) << e;
  e = errorOf([&] { in.run({ids({1})}); });
  EXPECT_NE(e.find("takes 2 inputs"), std::string::npos) << e;
}

TEST(InterpModel, KnowsEveryOpcode) {
  for (const OpDef& def : allOpDefs()) {
    Module m;
    Function* f = m.addFunction("f");
    f->addOp(std::string(def.opcode), {}, {});
    EXPECT_NO_THROW(Interpreter(m, *f)) << def.opcode;
  }
}

TEST(InterpModel, ObserverSeesEveryOpAndBitlinearAccumulators) {
  TinyModel m;
  size_t calls = 0, withAcc = 0, bitlinears = 0;
  InterpreterOptions o;
  o.observer = [&](const Op& op, const std::vector<const HostTensor*>& results, const HostTensor* acc) {
    ++calls;
    EXPECT_EQ(results.size(), op.results.size()) << op.describe();
    if (acc) {
      ++withAcc;
      EXPECT_EQ(op.opcode, "bitlinear");
      EXPECT_EQ(acc->dtype, DType::I32);
      EXPECT_EQ(acc->shape, results[0]->shape);
    }
  };
  for (const auto& op : m.g.f->ops()) bitlinears += op->opcode == "bitlinear";
  Interpreter in(*m.g.module, *m.g.f, o);
  in.run({ids(kTokens), HostTensor::scalarI64(0)});
  EXPECT_EQ(calls, m.g.f->ops().size());
  EXPECT_EQ(withAcc, bitlinears);
  EXPECT_EQ(bitlinears, 7u);
}

TEST(InterpModel, RowByRowDecodingEqualsCachedMatrices) {
  TinyModel m;
  InterpreterOptions o;
  o.weightCacheBytes = 0;  // the path a 2B-4T-sized model takes
  Interpreter in(*m.g.module, *m.g.f, o);
  EXPECT_EQ(floats(in.run({ids(kTokens), HostTensor::scalarI64(0)})[0]), evalAll(m, kTokens));
}
