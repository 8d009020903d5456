#include "tools/onnx-conformance/NodeTests.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include <onnx/onnx_pb.h>

#include "compiler/support/Error.h"
#include "runtime/abi/bitnet_abi.h"
#include "frontends/ModelInput.h"
#include "tools/bitnet-run/Compare.h"
#include "tools/bitnet-run/GraphApi.h"
#include "tools/bitnet-run/GraphModel.h"
#include "tools/bitnet-run/TensorIO.h"

namespace bitnetc::conformance {

namespace fs = std::filesystem;
using bitnetc::HostTensor;

namespace {

onnx::ModelProto readModel(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  onnx::ModelProto m;
  if (!in || !m.ParseFromIstream(&in)) fail(path, ": not an ONNX model");
  return m;
}

// Operand positions that must be known at import (shapes, axes, sizes): graph inputs there are
// bound to their test data as constants (frontends/onnx: --const-input).
bool feedsShape(const std::string& op, int index) {
  static const std::map<std::string, std::vector<int>> kPositions = {
      {"Reshape", {1}}, {"Unsqueeze", {1}}, {"Squeeze", {1}}, {"Slice", {1, 2, 3, 4}},
      {"Expand", {1}},  {"ConstantOfShape", {0}}, {"Range", {0, 1, 2}}, {"Split", {1}},
      {"ReduceSum", {1}}, {"ReduceMean", {1}}, {"ReduceMax", {1}}, {"Trilu", {1}}, {"Tile", {1}},
      {"Pad", {1, 2, 3}}};
  auto it = kPositions.find(op);
  return it != kPositions.end() && std::count(it->second.begin(), it->second.end(), index);
}

std::vector<std::string> numbered(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> files;
  for (int i = 0;; ++i) {
    const std::string f = dir + "/" + prefix + "_" + std::to_string(i) + ".pb";
    if (!fs::exists(f)) break;
    files.push_back(f);
  }
  return files;
}

std::string oneLine(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  if (s.size() > 400) s = s.substr(0, 400) + "...";
  return s;
}

// ONNX 1.12's test data holds bfloat16 tensors as UINT16 (the same bits): read them as bf16
// where the graph has bf16.
void bf16AsU16(HostTensor& t, DType graphType) {
  if (graphType == DType::BF16 && int(t.dtype) == BITNET_U16) t.dtype = DType::BF16;
}

// Runs one backend on one data set; "" when every output matches, else why not.
std::string check(run::GraphModel& g, const std::vector<HostTensor>& inputs,
                  const std::vector<HostTensor>& expected, const RunOptions& o) {
  std::vector<HostTensor> out;
  try {
    out = g.run(inputs);
  } catch (const std::exception& e) {
    return e.what();
  }
  if (out.size() != expected.size())
    return std::to_string(out.size()) + " outputs, the test expects " + std::to_string(expected.size());
  for (size_t i = 0; i < out.size(); ++i) {
    HostTensor want = expected[i];
    bf16AsU16(want, out[i].dtype);
    const run::Comparison c = run::compareTensors(out[i], want, o.rtol, o.atol);
    if (!c.ok) return "output '" + g.outputs()[i].name + "': " + c.reason;
  }
  return "";
}

}  // namespace

std::set<std::string> opTypes(const std::string& modelPath) {
  const onnx::ModelProto m = readModel(modelPath);
  std::set<std::string> ops;
  for (const auto& n : m.graph().node())
    ops.insert(n.domain().empty() || n.domain() == "ai.onnx" ? n.op_type() : n.domain() + ":" + n.op_type());
  return ops;
}

TestResult runNodeTest(const std::string& dir, const RunOptions& o) {
  const std::string modelPath = dir + "/model.onnx";
  const onnx::ModelProto proto = readModel(modelPath);
  std::set<std::string> initializers;
  for (const auto& t : proto.graph().initializer()) initializers.insert(t.name());
  std::vector<std::string> graphInputs;  // in order, initializers left out
  for (const auto& v : proto.graph().input())
    if (!initializers.count(v.name())) graphInputs.push_back(v.name());
  std::set<std::string> constant;
  for (const auto& n : proto.graph().node())
    for (int i = 0; i < n.input_size(); ++i)
      if (feedsShape(n.op_type(), i) &&
          std::find(graphInputs.begin(), graphInputs.end(), n.input(i)) != graphInputs.end())
        constant.insert(n.input(i));

  std::vector<std::string> sets;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory() && e.path().filename().string().rfind("test_data_set_", 0) == 0)
      sets.push_back(e.path().string());
  std::sort(sets.begin(), sets.end());
  if (sets.empty()) return {"fail", "no test_data_set_* directory"};

  std::vector<std::string> failures;
  for (const std::string& set : sets) {
    const std::string label = sets.size() > 1 ? fs::path(set).filename().string() + ": " : "";
    const std::vector<std::string> inputFiles = numbered(set, "input");
    ModelInputOptions io;
    std::vector<HostTensor> inputs;
    std::vector<std::string> inputNames;
    for (size_t k = 0; k < inputFiles.size(); ++k) {
      const std::string name = k < graphInputs.size() ? graphInputs[k] : "";
      if (constant.count(name)) io.constInputs[name] = inputFiles[k];
    }
    // The import decides support; everything after it must work.
    auto load = [&]() -> run::LoadedGraph {
      return run::prepareGraph(readModelInput(modelPath, io), modelPath, false);
    };
    try {
      readModelInput(modelPath, io);
    } catch (const std::exception& e) {
      // The message without the model's path (the test's name says it).
      std::string why = e.what();
      if (why.rfind(modelPath + ": ", 0) == 0) why = why.substr(modelPath.size() + 2);
      return {"unsupported", oneLine(why)};
    }
    for (size_t k = 0; k < inputFiles.size(); ++k) {
      const std::string name = k < graphInputs.size() ? graphInputs[k] : "";
      if (constant.count(name)) continue;
      run::NamedTensor t = run::readTensorProto(inputFiles[k]);
      inputNames.push_back(t.name.empty() ? name : t.name);
      inputs.push_back(std::move(t.tensor));
    }
    std::vector<HostTensor> expected;
    for (const std::string& f : numbered(set, "output")) expected.push_back(run::readTensorProto(f).tensor);
    // Inputs in the graph function's order, by name.
    auto ordered = [&](const run::GraphModel& g) {
      std::vector<HostTensor> list;
      for (const run::TensorSpec& s : g.inputs()) {
        auto it = std::find(inputNames.begin(), inputNames.end(), s.name);
        if (it == inputNames.end()) fail("the test data has no input '", s.name, "'");
        list.push_back(inputs[size_t(it - inputNames.begin())]);
        bf16AsU16(list.back(), s.type);
      }
      return list;
    };
    if (o.interp) {
      std::string why;
      try {
        auto g = run::makeInterpGraph(load());
        why = check(*g, ordered(*g), expected, o);
      } catch (const std::exception& e) {
        why = e.what();
      }
      if (!why.empty()) failures.push_back(label + "interp: " + oneLine(why));
    }
    if (o.jit) {
      std::string why;
      try {
        run::LoadOptions lo;
        lo.optLevel = o.optLevel;
        lo.threads = 1;
        auto g = run::makeJitGraph(load(), lo);
        why = check(*g, ordered(*g), expected, o);
      } catch (const std::exception& e) {
        why = e.what();
      }
      if (!why.empty()) failures.push_back(label + "jit: " + oneLine(why));
    }
  }
  if (failures.empty()) return {"pass", ""};
  std::string reason;
  for (const auto& f : failures) reason += (reason.empty() ? "" : "; ") + f;
  return {"fail", oneLine(reason)};
}

}  // namespace bitnetc::conformance
