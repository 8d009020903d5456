// The checked-in expectation of the conformance run (test/conformance/onnx-node-expected.txt):
// one line per test, "NAME: pass", "NAME: fail: REASON" or "NAME: unsupported: REASON"; '#'
// starts a comment line. CI compares statuses: any test whose status changed, appeared or
// disappeared is a difference (reasons are informational and may be reworded).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "tools/onnx-conformance/NodeTests.h"

namespace bitnetc::conformance {

using Results = std::map<std::string, TestResult>;  // by test name, sorted

Results readExpectations(const std::string& path);
void writeExpectations(const std::string& path, const Results& results, const std::string& header);
// One line per difference: "test_x: expected pass, now fail: ...".
std::vector<std::string> differences(const Results& expected, const Results& actual);

}  // namespace bitnetc::conformance
