// The generic named-tensor API (bitnet.h: signatures, input/output info, run) on a real compiled
// graph (a .bir @main through the default pipeline and the JIT, used through its bitnet_api
// table exactly as a dlopen()ed library): names from io_names, positional and named inputs,
// output selection, dynamic dims bound from the inputs (0, 1, the bound; buffers growing and
// staying valid until the next run), every misuse with its message, outputs untouched by a failed
// run, two sessions on two threads; and run/eval refusing the other kind of model.
#include <gtest/gtest.h>

#include <cstring>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "compiler/ir/Parser.h"
#include "compiler/pass/PassManager.h"
#include "compiler/pass/Pipeline.h"
#include "passes/Passes.h"
#include "runtime/include/bitnet.h"
#include "runtime_test_util.h"
#include "targets/Jit.h"
#include "targets/TargetInfo.h"

#if defined(__x86_64__)
namespace {

using namespace bitnetc;

// y = x @ w + b (w = [[1,2],[3,4],[5,6]]), m = max over the last axis of y, and x passed through.
const char* kGraph = R"(bir 1
module {io_names = "{\"x_in\": \"x:0\", \"y\": \"out/y\"}"}
dim ?batch <= 4
weight @w : tensor<3 x 2 x f32> = dense<[1, 2, 3, 4, 5, 6]>
func @main(%x_in: tensor<?batch x 3 x f32>, %b: tensor<?batch x 2 x f32>, %k: tensor<i64>)
    -> (tensor<?batch x 2 x f32>, tensor<?batch x 1 x f32>, tensor<?batch x 3 x f32>, tensor<i64>) {
  %xw = matmul(%x_in, @w) : tensor<?batch x 2 x f32>
  %y = add(%xw, %b) : tensor<?batch x 2 x f32>
  %m = reduce_max(%y) {axes = [-1], keepdims = true} : tensor<?batch x 1 x f32>
  %k2 = add(%k, %k) : tensor<i64>
  return %y, %m, %x_in, %k2
}
)";

class GenericApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    registerAllPasses();
    module_ = parseModule(kGraph, "graph.bir").release();
    PassManagerOptions po;
    po.pipeline = splitPipeline(defaultPipeline());
    std::ostringstream log;
    PassManager(po, log).run(*module_);
    target::BackendOptions options;
    options.target = target::resolveTarget("", "native", "");
    options.prefix = "graph";
    options.optLevel = 0;
    jit_ = target::JitModel::compile(*module_, options).release();
  }
  static void TearDownTestSuite() {
    delete jit_;
    delete module_;
  }

  void SetUp() override {
    api_ = jit_->api();
    char error[256] = "";
    ASSERT_EQ(api_->model_open(nullptr, &model_, error, sizeof error), BITNET_OK) << error;
    session_ = newSession();
  }
  void TearDown() override {
    for (bitnet_session* s : sessions_) api_->session_free(s);
    api_->model_close(model_);
  }
  bitnet_session* newSession() {
    bitnet_session* s = nullptr;
    EXPECT_EQ(api_->session_create(model_, nullptr, &s), BITNET_OK) << api_->model_error(model_);
    sessions_.push_back(s);
    return s;
  }

  // Inputs for `batch` rows: x[r] = {r, r + 1, r + 2} * scale, b[r] = {r, -r}, k = 21.
  struct Inputs {
    std::vector<float> x, b;
    int64_t k = 21;
    std::vector<bitnet_value> values;
  };
  static Inputs inputs(int64_t batch, float scale = 1) {
    Inputs in;
    for (int64_t r = 0; r < batch; ++r) {
      for (int c = 0; c < 3; ++c) in.x.push_back(float(r + c) * scale);
      in.b.push_back(float(r));
      in.b.push_back(float(-r));
    }
    in.values.resize(3);
    in.values[0] = value(nullptr, BITNET_TYPE_F32, {batch, 3}, in.x.data(), in.x.size() * 4);
    in.values[1] = value(nullptr, BITNET_TYPE_F32, {batch, 2}, in.b.data(), in.b.size() * 4);
    in.values[2] = value(nullptr, BITNET_TYPE_I64, {}, &in.k, 8);
    return in;
  }
  static bitnet_value value(const char* name, int32_t type, std::vector<int64_t> dims, const void* data,
                            size_t bytes) {
    bitnet_value v{};
    v.name = name;
    v.type = type;
    v.rank = int32_t(dims.size());
    for (size_t i = 0; i < dims.size(); ++i) v.dims[i] = dims[i];
    v.data = data;
    v.bytes = bytes;
    return v;
  }
  static std::vector<float> expectedY(const Inputs& in, int64_t batch) {
    const float w[3][2] = {{1, 2}, {3, 4}, {5, 6}};
    std::vector<float> y;
    for (int64_t r = 0; r < batch; ++r)
      for (int j = 0; j < 2; ++j) {
        float s = 0;
        for (int c = 0; c < 3; ++c) s += in.x[size_t(r * 3 + c)] * w[c][j];
        y.push_back(s + in.b[size_t(r * 2 + j)]);
      }
    return y;
  }
  static std::vector<float> floats(const bitnet_value& v) {
    const float* p = static_cast<const float*>(v.data);
    return std::vector<float>(p, p + v.bytes / 4);
  }
  bitnet_status run(bitnet_session* s, std::vector<bitnet_value>& in, std::vector<bitnet_value>& out) {
    return api_->run(s, in.data(), int64_t(in.size()), out.data(), int64_t(out.size()));
  }
  std::string error(bitnet_session* s) const { return api_->session_error(s); }

  static Module* module_;
  static target::JitModel* jit_;
  const bitnet_api* api_ = nullptr;
  bitnet_model* model_ = nullptr;
  bitnet_session* session_ = nullptr;
  std::vector<bitnet_session*> sessions_;
};
Module* GenericApi::module_ = nullptr;
target::JitModel* GenericApi::jit_ = nullptr;

TEST_F(GenericApi, SignaturesAsJsonWithSourceNames) {
  EXPECT_STREQ(api_->input_signature(model_),
               R"([{"type":"f32","dims":[-1,3],"name":"x:0","dim_names":["batch",null],"dim_max":[4,3]},)"
               R"({"type":"f32","dims":[-1,2],"name":"b","dim_names":["batch",null],"dim_max":[4,2]},)"
               R"({"type":"i64","dims":[],"name":"k","dim_names":[],"dim_max":[]}])");
  EXPECT_STREQ(api_->output_signature(model_),
               R"([{"type":"f32","dims":[-1,2],"name":"out/y","dim_names":["batch",null],"dim_max":[4,2]},)"
               R"({"type":"f32","dims":[-1,1],"name":"m","dim_names":["batch",null],"dim_max":[4,1]},)"
               R"({"type":"f32","dims":[-1,3],"name":"x:0","dim_names":["batch",null],"dim_max":[4,3]},)"
               R"({"type":"i64","dims":[],"name":"k2","dim_names":[],"dim_max":[]}])");
  EXPECT_EQ(api_->input_signature(nullptr), nullptr);
}

TEST_F(GenericApi, CountsAndInfos) {
  EXPECT_EQ(api_->num_inputs(model_), 3);
  EXPECT_EQ(api_->num_outputs(model_), 4);
  EXPECT_EQ(api_->num_inputs(nullptr), -1);
  bitnet_tensor_info info{};
  info.struct_size = sizeof info;
  ASSERT_EQ(api_->input_info(model_, 0, &info), BITNET_OK);
  EXPECT_STREQ(info.name, "x:0");
  EXPECT_EQ(info.type, BITNET_TYPE_F32);
  EXPECT_EQ(info.rank, 2);
  EXPECT_EQ(info.dims[0], -1);
  EXPECT_EQ(info.dims[1], 3);
  EXPECT_STREQ(info.dim_names[0], "batch");
  EXPECT_EQ(info.dim_names[1], nullptr);
  EXPECT_EQ(info.dim_max[0], 4);
  EXPECT_EQ(info.dim_max[1], 3);
  ASSERT_EQ(api_->output_info(model_, 3, &info), BITNET_OK);
  EXPECT_STREQ(info.name, "k2");
  EXPECT_EQ(info.type, BITNET_TYPE_I64);
  EXPECT_EQ(info.rank, 0);

  EXPECT_EQ(api_->output_info(model_, 4, &info), BITNET_ERR_INVALID_ARGUMENT);
  EXPECT_STREQ(api_->model_error(model_), "output_info: index 4 is outside [0, 4) (the graph has 4 outputs)");
  EXPECT_EQ(api_->input_info(model_, -1, &info), BITNET_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(api_->input_info(model_, 0, nullptr), BITNET_ERR_INVALID_ARGUMENT);
  EXPECT_STREQ(api_->model_error(model_), "input_info: info is NULL");
  bitnet_tensor_info unset{};
  EXPECT_EQ(api_->input_info(model_, 0, &unset), BITNET_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(api_->model_error(model_)).find("info->struct_size is 0"), std::string::npos);
}

TEST_F(GenericApi, RunsPositionallyWithActualShapes) {
  for (int64_t batch : {2, 1, 4, 3}) {
    SCOPED_TRACE(batch);
    Inputs in = inputs(batch);
    std::vector<bitnet_value> out(4);
    ASSERT_EQ(run(session_, in.values, out), BITNET_OK) << error(session_);
    EXPECT_STREQ(out[0].name, "out/y");
    EXPECT_EQ(out[0].type, BITNET_TYPE_F32);
    EXPECT_EQ(out[0].rank, 2);
    EXPECT_EQ(out[0].dims[0], batch);
    EXPECT_EQ(out[0].dims[1], 2);
    EXPECT_EQ(out[0].dims[2], 0);
    EXPECT_EQ(out[0].bytes, size_t(batch * 2 * 4));
    EXPECT_EQ(floats(out[0]), expectedY(in, batch));
    std::vector<float> y = expectedY(in, batch), m;
    for (int64_t r = 0; r < batch; ++r) m.push_back(std::max(y[size_t(2 * r)], y[size_t(2 * r + 1)]));
    EXPECT_EQ(floats(out[1]), m);
    EXPECT_EQ(floats(out[2]), in.x);  // an input passed through
    EXPECT_STREQ(out[3].name, "k2");
    EXPECT_EQ(out[3].rank, 0);
    ASSERT_EQ(out[3].bytes, 8u);
    EXPECT_EQ(*static_cast<const int64_t*>(out[3].data), 42);
  }
}

TEST_F(GenericApi, NamedInputsInAnyOrderAndChosenOutputs) {
  Inputs in = inputs(3);
  std::vector<bitnet_value> named = {in.values[2], in.values[0], in.values[1]};
  named[0].name = "k";
  named[1].name = "x:0";
  named[2].name = "b";
  std::vector<bitnet_value> out(2);
  out[0].name = "k2";  // by name
  // out[1]: by position: output 1 (m)
  ASSERT_EQ(run(session_, named, out), BITNET_OK) << error(session_);
  EXPECT_STREQ(out[0].name, "k2");
  EXPECT_EQ(*static_cast<const int64_t*>(out[0].data), 42);
  EXPECT_STREQ(out[1].name, "m");
  EXPECT_EQ(out[1].dims[0], 3);
  // Mixed: a name for one entry, positions for the others.
  std::vector<bitnet_value> mixed = in.values;
  mixed[1].name = "b";
  std::vector<bitnet_value> one(1);
  ASSERT_EQ(run(session_, mixed, one), BITNET_OK) << error(session_);
  EXPECT_EQ(floats(one[0]), expectedY(in, 3));
}

TEST_F(GenericApi, EmptyBatchAndGrowingBuffers) {
  Inputs empty = inputs(0);
  std::vector<bitnet_value> out(4);
  ASSERT_EQ(run(session_, empty.values, out), BITNET_OK) << error(session_);
  EXPECT_EQ(out[0].dims[0], 0);
  EXPECT_EQ(out[0].bytes, 0u);
  EXPECT_NE(out[0].data, nullptr);
  // Then the bound: the session's buffers grow, the results are right.
  Inputs full = inputs(4, 0.5f);
  ASSERT_EQ(run(session_, full.values, out), BITNET_OK) << error(session_);
  EXPECT_EQ(floats(out[0]), expectedY(full, 4));
  // The data stays valid until the next run of this session, not beyond another session's run.
  const std::vector<float> before = floats(out[0]);
  bitnet_session* other = newSession();
  Inputs small = inputs(1, 3.0f);
  std::vector<bitnet_value> otherOut(4);
  ASSERT_EQ(run(other, small.values, otherOut), BITNET_OK) << error(other);
  EXPECT_EQ(floats(out[0]), before);
}

TEST_F(GenericApi, WrongInputsAreRefusedWithTheirNames) {
  Inputs in = inputs(2);
  std::vector<bitnet_value> out(4);
  // Outputs a failed run must leave alone.
  for (auto& o : out) o.bytes = 12345;
  auto refuse = [&](std::vector<bitnet_value> values, const std::string& message, bitnet_status want,
                    int64_t nOut = 4) {
    SCOPED_TRACE(message);
    EXPECT_EQ(api_->run(session_, values.data(), int64_t(values.size()), out.data(), nOut), want);
    EXPECT_EQ(error(session_), message);
    for (const auto& o : out) EXPECT_EQ(o.bytes, 12345u);
  };
  auto with = [&](int i, auto change) {
    std::vector<bitnet_value> v = in.values;
    change(v[size_t(i)]);
    return v;
  };
  refuse(with(0, [](bitnet_value& v) { v.type = BITNET_TYPE_I64; }),
         "run: input 'x:0' has type i64 (5), the graph takes f32 [?batch, 3]", BITNET_ERR_INVALID_ARGUMENT);
  refuse(with(1, [](bitnet_value& v) { v.rank = 3; }), "run: input 'b' has rank 3, the graph takes f32 [?batch, 2]",
         BITNET_ERR_INVALID_ARGUMENT);
  refuse(with(1, [](bitnet_value& v) { v.rank = 9; }), "run: input 'b' has rank 9, the graph takes f32 [?batch, 2]",
         BITNET_ERR_INVALID_ARGUMENT);
  refuse(with(0, [](bitnet_value& v) { v.dims[1] = 4; }),
         "run: input 'x:0' has dims [2, 4], the graph takes f32 [?batch, 3]", BITNET_ERR_INVALID_ARGUMENT);
  refuse(with(0, [](bitnet_value& v) { v.dims[0] = -2; }),
         "run: input 'x:0' has dims [-2, 3], the graph takes f32 [?batch, 3]", BITNET_ERR_INVALID_ARGUMENT);
  refuse(with(0, [](bitnet_value& v) { v.dims[0] = 5; }),
         "run: input 'x:0' has dims [5, 3]: dim 0 (?batch) = 5 exceeds its bound 4 (fixed when the model was "
         "compiled)",
         BITNET_ERR_INVALID_ARGUMENT);
  refuse(with(1, [](bitnet_value& v) { v.dims[0] = 1; }),
         "run: input 'b' has dims [1, 2]: dim 0 (?batch) = 1, but input 'x:0' has ?batch = 2",
         BITNET_ERR_INVALID_ARGUMENT);
  refuse(with(0, [](bitnet_value& v) { v.bytes = 20; }), "run: input 'x:0' has 20 bytes, its dims [2, 3] of f32 take 24",
         BITNET_ERR_INVALID_ARGUMENT);
  refuse(with(0, [](bitnet_value& v) { v.data = nullptr; }), "run: input 'x:0' data is NULL",
         BITNET_ERR_INVALID_ARGUMENT);
  refuse(with(2, [](bitnet_value& v) { v.name = "kk"; }),
         "run: inputs[2] names 'kk', which is not an input of the graph (its inputs: 'x:0', 'b', 'k')",
         BITNET_ERR_INVALID_ARGUMENT);
  refuse(with(2, [](bitnet_value& v) { v.name = "x:0"; }), "run: input 'x:0' is given twice (inputs[0] and inputs[2])",
         BITNET_ERR_INVALID_ARGUMENT);
  refuse({in.values[0], in.values[1]}, "run: 2 inputs, the graph takes 3 ('x:0', 'b', 'k')",
         BITNET_ERR_INVALID_ARGUMENT);
  refuse(in.values, "run: 5 outputs, the graph has 4 ('out/y', 'm', 'x:0', 'k2')", BITNET_ERR_INVALID_ARGUMENT, 5);
  EXPECT_EQ(api_->run(session_, nullptr, 3, out.data(), 4), BITNET_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(error(session_), "run: 3 inputs at NULL, the graph takes 3 ('x:0', 'b', 'k')");
  EXPECT_EQ(api_->run(nullptr, in.values.data(), 3, out.data(), 4), BITNET_ERR_INVALID_ARGUMENT);
  out[1].name = "nope";
  refuse(in.values, "run: outputs[1] names 'nope', which is not an output of the graph (its outputs: 'out/y', 'm', "
                    "'x:0', 'k2')",
         BITNET_ERR_INVALID_ARGUMENT);
  out[1].name = nullptr;

  // The session still works, and gives what a fresh one gives.
  ASSERT_EQ(run(session_, in.values, out), BITNET_OK) << error(session_);
  EXPECT_EQ(floats(out[0]), expectedY(in, 2));
}

TEST_F(GenericApi, EvalIsRefusedOnAGraph) {
  int32_t token = 0;
  float logits[4];
  EXPECT_EQ(api_->eval(session_, &token, 1, logits, BITNET_LOGITS_LAST), BITNET_ERR_UNSUPPORTED);
  EXPECT_NE(error(session_).find("generic graph"), std::string::npos) << error(session_);
}

TEST_F(GenericApi, TwoSessionsOnTwoThreads) {
  bitnet_session* a = session_;
  bitnet_session* b = newSession();
  auto work = [&](bitnet_session* s, float scale, int* failures) {
    for (int i = 0; i < 200; ++i) {
      Inputs in = inputs(1 + i % 4, scale);
      std::vector<bitnet_value> out(4);
      if (run(s, in.values, out) != BITNET_OK || floats(out[0]) != expectedY(in, 1 + i % 4)) ++*failures;
    }
  };
  int fa = 0, fb = 0;
  std::thread ta(work, a, 1.0f, &fa), tb(work, b, -2.0f, &fb);
  ta.join();
  tb.join();
  EXPECT_EQ(fa, 0);
  EXPECT_EQ(fb, 0);
}

// A language model's sessions have no run (they use eval); its forward is still described.
TEST(GenericApiOnLanguageModel, RunIsRefused) {
  using namespace bitnetc::test;
  bitnet_model_desc d = fake::lm();
  ModelPtr m = openModel(d);
  SessionPtr s = createSession(m.get());
  bitnet_value out{};
  EXPECT_EQ(bitnet__public_run(s.get(), nullptr, 0, &out, 1), BITNET_ERR_UNSUPPORTED);
  EXPECT_NE(std::string(bitnet__public_session_error(s.get())).find("is a language model: evaluate tokens with eval"),
            std::string::npos);
  EXPECT_EQ(bitnet__public_num_inputs(m.get()), 2);
  EXPECT_EQ(bitnet__public_num_outputs(m.get()), 1);
  EXPECT_NE(std::string(bitnet__public_input_signature(m.get())).find("\"dim_names\":[\"seq\"]"), std::string::npos)
      << bitnet__public_input_signature(m.get());
}

}  // namespace
#endif
