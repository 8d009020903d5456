#include "compiler/pass/PassManager.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <cstdio>
#include <ostream>

#include "compiler/ir/Printer.h"
#include "compiler/ir/Verifier.h"
#include "compiler/pass/Pipeline.h"
#include "compiler/pass/PassRegistry.h"
#include "compiler/support/Error.h"

namespace bitnetc {

std::vector<std::string> splitPipeline(std::string_view list) {
  std::vector<std::string> names;
  size_t start = 0;
  for (;;) {
    const size_t comma = list.find(',', start);
    const std::string_view name = list.substr(start, comma == std::string_view::npos ? comma : comma - start);
    if (name.empty()) fail("empty pass name in the pipeline \"", list, "\"");
    names.emplace_back(name);
    if (comma == std::string_view::npos) return names;
    start = comma + 1;
  }
}

bool PassManagerOptions::parseFlag(std::string_view arg) {
  auto value = [&](std::string_view prefix) -> std::optional<std::string_view> {
    if (arg.substr(0, prefix.size()) != prefix) return std::nullopt;
    return arg.substr(prefix.size());
  };
  if (auto list = value("--passes=")) {
    for (std::string& n : splitPipeline(*list)) {
      if (n != "default") {
        pipeline.push_back(std::move(n));
        continue;
      }
      for (std::string& d : splitPipeline(defaultPipeline())) pipeline.push_back(std::move(d));  // what bitnetc runs
    }
  } else if (arg == "--print-ir-after-all") {
    printAfterAll = true;
  } else if (auto name = value("--print-ir-after=")) {
    if (name->empty()) fail("--print-ir-after= needs a pass name");
    printAfter.emplace_back(*name);
  } else if (arg == "--time-passes") {
    timePasses = true;
  } else if (arg == "--remarks") {
    remarks = true;
  } else {
    return false;
  }
  return true;
}

PassManager::PassManager(PassManagerOptions options, std::ostream& log)
    : options_(std::move(options)), log_(log) {
  for (const std::string& name : options_.printAfter)
    if (!isRegisteredPass(name)) createPass(name);  // throws "unknown pass" with the known list
  for (const std::string& name : options_.pipeline) addPass(createPass(name));
}

PassManager::~PassManager() = default;

void PassManager::addPass(std::unique_ptr<Pass> pass) {
  if (options_.remarks) pass->setRemarkStream(&log_);
  passes_.push_back(std::move(pass));
}

void PassManager::run(Module& module) {
  using Clock = std::chrono::steady_clock;
  struct Row {
    std::string name;
    double seconds = 0;
  };
  std::vector<Row> rows;  // per pass name, in first-run order; plus the verifier
  auto account = [&](const std::string& name, double seconds) {
    auto it = std::find_if(rows.begin(), rows.end(), [&](const Row& r) { return r.name == name; });
    if (it == rows.end()) rows.push_back({name, seconds});
    else it->seconds += seconds;
  };
  const auto total0 = Clock::now();
  for (const auto& pass : passes_) {
    const std::string name(pass->name());
    auto t0 = Clock::now();
    pass->run(module);
    auto t1 = Clock::now();
    account(name, std::chrono::duration<double>(t1 - t0).count());
    if (options_.verifyEach) {
      try {
        verify(module);
      } catch (const Error& e) {
        fail("after pass '", name, "': ", e.what());
      }
      account("(verifier)", std::chrono::duration<double>(Clock::now() - t1).count());
    }
    const bool print = options_.printAfterAll ||
                       std::find(options_.printAfter.begin(), options_.printAfter.end(), name) !=
                           options_.printAfter.end();
    if (print) {
      log_ << "// -----// IR after " << name << " //----- //\n";
      printModule(module, log_);
      log_.flush();
    }
  }
  if (!options_.timePasses) return;
  const double total = std::chrono::duration<double>(Clock::now() - total0).count();
  char line[256];
  log_ << "===" << std::string(73, '-') << "===\n"
       << "                      ... Pass execution timing report ...\n"
       << "===" << std::string(73, '-') << "===\n";
  std::snprintf(line, sizeof line, "  Total Execution Time: %.4f seconds\n\n", total);
  log_ << line << "  ----Wall Time----  ----Name----\n";
  for (const Row& r : rows) {
    std::snprintf(line, sizeof line, "  %8.4f (%5.1f%%)  %s\n", r.seconds,
                  total > 0 ? 100.0 * r.seconds / total : 0.0, r.name.c_str());
    log_ << line;
  }
  std::snprintf(line, sizeof line, "  %8.4f (100.0%%)  Total\n", total);
  log_ << line;
  log_.flush();
}

}  // namespace bitnetc
