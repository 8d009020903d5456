// One ONNX backend node test (DIR/model.onnx + DIR/test_data_set_*/{input,output}_K.pb) run
// through bitnetc: imported (graph inputs that feed shapes or axes bound as constants, as the
// frontend requires), the default passes, then the reference interpreter and the JIT, every data
// set compared with its expected outputs at the ONNX backend tests' tolerances.
#pragma once
#include <set>
#include <string>
#include <vector>

namespace bitnetc::conformance {

// The op types of a model's graph (default domain; "domain:Op" otherwise).
std::set<std::string> opTypes(const std::string& modelPath);

struct TestResult {
  std::string status;  // "pass", "fail" or "unsupported" (the import refused the model)
  std::string reason;  // empty for pass; one line
};

struct RunOptions {
  int optLevel = 0;        // JIT optimization level
  bool interp = true;      // run the reference interpreter
  bool jit = true;         // run the JIT
  double rtol = 1e-3, atol = 1e-7;
};

TestResult runNodeTest(const std::string& dir, const RunOptions& options);

}  // namespace bitnetc::conformance
