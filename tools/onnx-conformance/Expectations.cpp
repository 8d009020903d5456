#include "tools/onnx-conformance/Expectations.h"

#include <fstream>

#include "compiler/support/Error.h"

namespace bitnetc::conformance {

Results readExpectations(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail(path, ": cannot open");
  Results r;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty() || line[0] == '#') continue;
    const size_t colon = line.find(": ");
    if (colon == std::string::npos) fail(path, ":", n, ": expected 'NAME: STATUS[: REASON]', got '", line, "'");
    TestResult t;
    const std::string rest = line.substr(colon + 2);
    const size_t second = rest.find(": ");
    t.status = rest.substr(0, second);
    if (second != std::string::npos) t.reason = rest.substr(second + 2);
    if (t.status != "pass" && t.status != "fail" && t.status != "unsupported")
      fail(path, ":", n, ": unknown status '", t.status, "' (pass, fail, unsupported)");
    if (!r.emplace(line.substr(0, colon), t).second) fail(path, ":", n, ": ", line.substr(0, colon), " is listed twice");
  }
  return r;
}

void writeExpectations(const std::string& path, const Results& results, const std::string& header) {
  std::ofstream out(path);
  if (!out) fail(path, ": cannot create");
  out << header;
  for (const auto& [name, t] : results) out << name << ": " << t.status << (t.reason.empty() ? "" : ": " + t.reason) << "\n";
  if (!out) fail(path, ": write failed");
}

std::vector<std::string> differences(const Results& expected, const Results& actual) {
  std::vector<std::string> diffs;
  for (const auto& [name, t] : actual) {
    auto it = expected.find(name);
    const std::string now = t.status + (t.reason.empty() ? "" : ": " + t.reason);
    if (it == expected.end()) diffs.push_back(name + ": not in the expectation file, now " + now);
    else if (it->second.status != t.status) diffs.push_back(name + ": expected " + it->second.status + ", now " + now);
  }
  for (const auto& [name, t] : expected)
    if (!actual.count(name)) diffs.push_back(name + ": expected " + t.status + ", but it did not run (not selected)");
  return diffs;
}

}  // namespace bitnetc::conformance
