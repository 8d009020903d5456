// onnx-conformance: runs every ONNX backend node test whose ops are all claimed (--ops FILE)
// through bitnetc's import, default passes, the reference interpreter and the JIT, compares
// each output with the test's expected output (rtol 1e-3, atol 1e-7), prints the pass count per
// op and every failure with its reason, and compares the statuses with an expectation file
// (--expected; exit 1 on any change) or rewrites it (--update).
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include "compiler/support/Error.h"
#include "compiler/support/ToolMain.h"
#include "tools/onnx-conformance/Expectations.h"
#include "tools/onnx-conformance/NodeTests.h"

namespace {

using namespace bitnetc;
using namespace bitnetc::conformance;
namespace fs = std::filesystem;

const char* kUsage =
    "usage: onnx-conformance --ops FILE [options]\n"
    "  --ops FILE        the claimed ONNX op types, one per line ('#' comments); a test runs when\n"
    "                    every op of its model is claimed\n"
    "  --data DIR        the node tests (default /usr/include/onnx/backend/test/data/node)\n"
    "  --expected FILE   compare the statuses with FILE; exit 1 on any difference\n"
    "  --update FILE     write the results as the new expectation FILE\n"
    "  --filter TEXT     only tests whose name contains TEXT\n"
    "  -O0 .. -O3        JIT optimization level (default -O0: the kernels' bitcode is optimized)\n"
    "  --no-interp, --no-jit   skip a backend\n"
    "  -j N              run the tests in N processes (default 1)\n"
    "  -v                every test's result as it runs\n"
    "  (with --filter, --update rewrites only the filtered tests' lines)\n";

// Runs the selected tests in `jobs` child processes of this program (each takes every jobs-th
// test: --shard K/N) and merges the results they write.
Results runShards(int argc, char** argv, int jobs) {
  std::vector<std::string> files;
  std::vector<pid_t> children;
  char dirTemplate[] = "/tmp/onnx-conformance-XXXXXX";
  if (!mkdtemp(dirTemplate)) fail("cannot create a temporary directory");
  const std::string dir = dirTemplate;
  for (int k = 0; k < jobs; ++k) {
    files.push_back(dir + "/shard" + std::to_string(k));
    std::vector<std::string> args;
    for (int i = 0; i < argc; ++i) {
      const std::string a = argv[i];
      if (a == "-j" || a == "--update" || a == "--expected") {
        ++i;  // the parent's business
        continue;
      }
      args.push_back(a);
    }
    args.push_back("--shard");
    args.push_back(std::to_string(k) + "/" + std::to_string(jobs));
    args.push_back("--results");
    args.push_back(files.back());
    std::vector<char*> cargs;
    for (auto& a : args) cargs.push_back(a.data());
    cargs.push_back(nullptr);
    pid_t pid;
    if (posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, cargs.data(), environ) != 0)
      fail("cannot start a worker process");
    children.push_back(pid);
  }
  int failedChildren = 0;
  for (pid_t pid : children) {
    int status = 0;
    waitpid(pid, &status, 0);
    failedChildren += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  Results all;
  for (const auto& f : files) {
    if (fs::exists(f)) all.merge(readExpectations(f));
    fs::remove(f);
  }
  fs::remove(dir);
  if (failedChildren) fail(failedChildren, " of ", jobs, " worker processes failed");
  return all;
}

std::set<std::string> readOps(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail(path, ": cannot open");
  std::set<std::string> ops;
  for (std::string line; std::getline(in, line);) {
    line.erase(0, line.find_first_not_of(" \t"));
    line.erase(line.find_last_not_of(" \t\r") + 1);
    if (!line.empty() && line[0] != '#') ops.insert(line);
  }
  return ops;
}

int run(int argc, char** argv) {
  std::string opsFile, data = "/usr/include/onnx/backend/test/data/node", expectedFile, updateFile, filter;
  RunOptions options;
  bool verbose = false;
  int jobs = 1, shard = 0, shards = 1;
  std::string resultsFile;  // a worker's results (--shard)
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) fail(arg, " needs a value");
      return argv[++i];
    };
    if (arg == "--ops") opsFile = value();
    else if (arg == "--data") data = value();
    else if (arg == "--expected") expectedFile = value();
    else if (arg == "--update") updateFile = value();
    else if (arg == "--filter") filter = value();
    else if (arg.size() == 3 && arg.rfind("-O", 0) == 0 && arg[2] >= '0' && arg[2] <= '3') options.optLevel = arg[2] - '0';
    else if (arg == "--no-interp") options.interp = false;
    else if (arg == "--no-jit") options.jit = false;
    else if (arg == "-v") verbose = true;
    else if (arg == "-j") jobs = std::max(1, std::atoi(value().c_str()));
    else if (arg == "--shard") {
      const std::string v = value();
      shard = std::atoi(v.c_str());
      shards = std::atoi(v.substr(v.find('/') + 1).c_str());
      if (shards < 1 || shard < 0 || shard >= shards) fail("--shard K/N with 0 <= K < N, got ", v);
    } else if (arg == "--results") resultsFile = value();
    else if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else fail("unknown option '", arg, "' (see --help)");
  }
  if (opsFile.empty()) fail("--ops FILE is required (see --help)");
  const std::set<std::string> claimed = readOps(opsFile);
  if (!fs::is_directory(data)) fail(data, ": no such directory (install libonnx-testdata)");

  std::vector<std::string> tests;
  for (const auto& e : fs::directory_iterator(data))
    if (e.is_directory() && fs::exists(e.path() / "model.onnx")) tests.push_back(e.path().filename().string());
  std::sort(tests.begin(), tests.end());

  // The selected tests and their ops.
  std::map<std::string, std::set<std::string>> selected;
  for (const std::string& name : tests) {
    if (!filter.empty() && name.find(filter) == std::string::npos) continue;
    std::set<std::string> ops;
    try {
      ops = opTypes(data + "/" + name + "/model.onnx");
    } catch (const std::exception&) {
      continue;  // not a model we can even read: not a test of a claimed op
    }
    bool all = !ops.empty();
    for (const auto& op : ops) all = all && claimed.count(op);
    if (all) selected[name] = ops;
  }

  Results results;
  const auto start = std::chrono::steady_clock::now();
  if (jobs > 1 && resultsFile.empty()) {
    results = runShards(argc, argv, jobs);
  } else {
    int index = 0;
    for (const auto& [name, ops] : selected) {
      if (index++ % shards != shard) continue;
      TestResult r;
      try {
        r = runNodeTest(data + "/" + name, options);
      } catch (const std::exception& e) {
        r = {"fail", std::string("harness: ") + e.what()};
      }
      if (verbose) std::printf("%s: %s%s%s\n", name.c_str(), r.status.c_str(), r.reason.empty() ? "" : ": ", r.reason.c_str());
      std::fflush(stdout);
      results[name] = r;
    }
  }
  if (!resultsFile.empty()) {  // a worker: the parent reports
    writeExpectations(resultsFile, results, "");
    return 0;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::map<std::string, std::map<std::string, int>> perOp;  // op -> status -> count
  for (const auto& [name, r] : results)
    for (const auto& op : selected[name]) ++perOp[op][r.status];

  int pass = 0, failed = 0, unsupported = 0;
  for (const auto& [n, r] : results) (r.status == "pass" ? pass : r.status == "fail" ? failed : unsupported)++;
  std::printf("ONNX node tests of the claimed ops: %zu run, %d pass, %d fail, %d unsupported (%.1f s; interp%s, jit -O%d%s)\n",
              results.size(), pass, failed, unsupported, seconds, options.interp ? "" : " skipped", options.optLevel,
              options.jit ? "" : " skipped");
  std::printf("per op (a test counts for every op of its model): pass / tests\n");
  for (const auto& [op, counts] : perOp) {
    int total = 0;
    for (const auto& [s, c] : counts) total += c;
    std::printf("  %-20s %3d / %3d", op.c_str(), counts.count("pass") ? counts.at("pass") : 0, total);
    if (counts.count("fail")) std::printf("  fail %d", counts.at("fail"));
    if (counts.count("unsupported")) std::printf("  unsupported %d", counts.at("unsupported"));
    std::printf("\n");
  }
  for (const char* status : {"fail", "unsupported"}) {
    bool header = false;
    for (const auto& [n, r] : results) {
      if (r.status != status) continue;
      if (!header) std::printf("%s:\n", status);
      header = true;
      std::printf("  %s: %s\n", n.c_str(), r.reason.c_str());
    }
  }

  if (!updateFile.empty()) {
    Results merged = results;
    if (!filter.empty() && fs::exists(updateFile))  // keep the other tests' lines
      for (const auto& [name, r] : readExpectations(updateFile))
        if (name.find(filter) == std::string::npos) merged.emplace(name, r);
    writeExpectations(updateFile, merged,
                      "# ONNX backend node tests of the claimed ops (tools/onnx-conformance --update).\n"
                      "# One line per test: pass, fail: REASON, unsupported: REASON (the import refuses it).\n");
    std::printf("wrote %s\n", updateFile.c_str());
  }
  if (expectedFile.empty()) return 0;
  Results expected = readExpectations(expectedFile);
  if (!filter.empty())
    for (auto it = expected.begin(); it != expected.end();)
      it = it->first.find(filter) == std::string::npos ? expected.erase(it) : std::next(it);
  const std::vector<std::string> diffs = differences(expected, results);
  if (diffs.empty()) {
    std::printf("the statuses match %s\n", expectedFile.c_str());
    return 0;
  }
  std::printf("%zu differences from %s (update it with --update when intended):\n", diffs.size(), expectedFile.c_str());
  for (const auto& d : diffs) std::printf("  %s\n", d.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) { return bitnetc::runToolMain(run, argc, argv); }
