#include "tools/bitnet-run/GraphRun.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>

#include "compiler/support/Error.h"
#include "tools/bitnet-run/Compare.h"
#include "tools/bitnet-run/GraphModel.h"
#include "tools/bitnet-run/Npy.h"
#include "tools/bitnet-run/TensorIO.h"

namespace bitnetc::run {

namespace fs = std::filesystem;

namespace {

// DIR/PREFIX_0.pb, PREFIX_1.pb, ... in numeric order.
std::vector<std::string> numberedFiles(const std::string& dir, const std::string& prefix) {
  std::vector<std::pair<int64_t, std::string>> found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix + "_", 0) != 0 || name.size() < prefix.size() + 5 || name.substr(name.size() - 3) != ".pb")
      continue;
    const std::string number = name.substr(prefix.size() + 1, name.size() - prefix.size() - 4);
    if (number.empty() || number.find_first_not_of("0123456789") != std::string::npos) continue;
    found.push_back({std::stoll(number), e.path().string()});
  }
  if (ec) fail(dir, ": cannot list: ", ec.message());
  std::sort(found.begin(), found.end());
  std::vector<std::string> files;
  for (auto& f : found) files.push_back(f.second);
  return files;
}

std::string namesOf(const std::vector<TensorSpec>& specs) {
  std::string s;
  for (const auto& t : specs) s += (s.empty() ? "'" : ", '") + t.name + "'";
  return s.empty() ? "none" : s;
}

int64_t indexOf(const std::vector<TensorSpec>& specs, const std::string& name) {
  for (size_t i = 0; i < specs.size(); ++i)
    if (specs[i].name == name) return int64_t(i);
  return -1;
}

// Tensors for slots of `specs`: by name when the name is one of them, else the next free slot.
class Slots {
 public:
  Slots(const std::vector<TensorSpec>& specs, const char* what) : specs_(specs), what_(what), values_(specs.size()) {}

  void put(const std::string& name, HostTensor t, const std::string& source) {
    int64_t slot = name.empty() ? -1 : indexOf(specs_, name);
    if (slot < 0) {
      while (next_ < values_.size() && values_[next_]) ++next_;
      if (next_ == values_.size())
        fail(source, ": one ", what_, " too many (the graph has ", specs_.size(), ": ", namesOf(specs_), ")");
      slot = int64_t(next_);
    }
    if (values_[size_t(slot)]) fail(source, ": ", what_, " '", specs_[size_t(slot)].name, "' is given twice");
    values_[size_t(slot)] = std::move(t);
  }
  bool has(size_t i) const { return values_[i].has_value(); }
  std::vector<HostTensor> all() {
    std::vector<HostTensor> list;
    for (size_t i = 0; i < values_.size(); ++i) {
      if (!values_[i])
        fail(what_, " '", specs_[i].name, "' is not given (the graph's ", what_, "s: ", namesOf(specs_),
             "; see --signature)");
      list.push_back(std::move(*values_[i]));
    }
    return list;
  }

 private:
  const std::vector<TensorSpec>& specs_;
  std::string what_;
  std::vector<std::optional<HostTensor>> values_;
  size_t next_ = 0;
};

std::string fileNameFor(const std::string& name) {
  std::string s = name.empty() ? "output" : name;
  for (char& c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) c = '_';
  return s;
}

void printSummary(const TensorSpec& spec, const HostTensor& t) {
  std::printf("output '%s': %s %s =", spec.name.c_str(), typeName(t.dtype).c_str(), shapeString(t.shape).c_str());
  const int64_t n = t.numElements();
  for (int64_t i = 0; i < std::min<int64_t>(n, 8); ++i) std::printf(" %.9g", elementAsDouble(t, i));
  if (n > 8) std::printf(" ...");
  std::printf(" (%lld values)\n", (long long)n);
}

double seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int runGraph(const RunOptions& o) {
  LoadOptions load;
  load.backend = o.backend;
  load.threads = o.threads;
  load.name = o.name;
  load.weightsPath = o.weightsPath;
  load.cpu = o.cpu;
  load.attrs = o.attrs;
  load.kernel = o.kernel;
  load.optLevel = o.optLevel;
  load.verbose = o.verbose;
  const auto loadStart = std::chrono::steady_clock::now();
  std::unique_ptr<GraphModel> g = loadGraph(o.model, load, o.input);
  if (o.verbose) std::fprintf(stderr, "loaded in %.3f s (backend %s)\n", seconds(loadStart), g->backend().c_str());
  if (o.signature) {
    std::printf("{\"inputs\":%s,\"outputs\":%s}\n", g->inputSignature().c_str(), g->outputSignature().c_str());
    if (o.inputs.empty() && o.inputPb.empty() && !g->inputs().empty()) return 0;
  }

  // Inputs: --input-pb sources, then --input files.
  Slots inputs(g->inputs(), "input");
  std::vector<std::string> pbDirs;
  for (const std::string& source : o.inputPb) {
    std::vector<std::string> files;
    if (fs::is_directory(source)) {
      files = numberedFiles(source, "input");
      if (files.empty() && !g->inputs().empty()) fail(source, ": no input_*.pb files");
      pbDirs.push_back(source);
    } else {
      files = {source};
      pbDirs.push_back(fs::path(source).parent_path().string());
    }
    for (const std::string& f : files) {
      NamedTensor t = readTensorProto(f);
      inputs.put(t.name, std::move(t.tensor), f);
    }
  }
  for (const std::string& arg : o.inputs) {
    std::string name, file = arg;
    if (const size_t eq = arg.find('='); eq != std::string::npos && indexOf(g->inputs(), arg.substr(0, eq)) >= 0) {
      name = arg.substr(0, eq);
      file = arg.substr(eq + 1);
    } else if (eq != std::string::npos && !fs::exists(arg)) {
      fail("--input ", arg, ": '", arg.substr(0, eq), "' is not an input of the graph (its inputs: ",
           namesOf(g->inputs()), ")");
    }
    NamedTensor t = readTensorFile(file);
    inputs.put(name.empty() ? t.name : name, std::move(t.tensor), file);
  }
  const std::vector<HostTensor> in = inputs.all();

  const auto runStart = std::chrono::steady_clock::now();
  std::vector<HostTensor> out = g->run(in);
  const double runSeconds = seconds(runStart);
  if (out.size() != g->outputs().size()) fail("the graph returned ", out.size(), " outputs, declares ", g->outputs().size());
  for (size_t i = 0; i < out.size(); ++i) printSummary(g->outputs()[i], out[i]);
  if (o.verbose) std::fprintf(stderr, "run in %.6f s\n", runSeconds);

  if (o.outputDir) {
    fs::create_directories(*o.outputDir);
    for (size_t i = 0; i < out.size(); ++i) {
      const std::string base = *o.outputDir + "/";
      writeNpy(base + fileNameFor(g->outputs()[i].name) + ".npy", out[i], /*keepF16=*/true);
      writeTensorProto(base + "output_" + std::to_string(i) + ".pb", g->outputs()[i].name, out[i]);
    }
  }

  if (o.bench) {
    std::vector<double> times;
    for (int64_t r = 0; r < o.benchRepeat; ++r) {
      const auto start = std::chrono::steady_clock::now();
      g->run(in);
      times.push_back(seconds(start));
    }
    std::sort(times.begin(), times.end());
    std::printf("bench: %s, %lld runs after one warm-up: median %.6f s, min %.6f s\n", g->backend().c_str(),
                (long long)times.size(), times[times.size() / 2], times.front());
  }

  // Expected outputs.
  if (!o.comparePb && !o.expectDir) return 0;
  Slots expected(g->outputs(), "expected output");
  if (o.comparePb) {
    for (const std::string& dir : pbDirs) {
      for (const std::string& f : numberedFiles(dir.empty() ? "." : dir, "output")) {
        NamedTensor t = readTensorProto(f);
        expected.put(t.name, std::move(t.tensor), f);
      }
    }
  } else {
    for (size_t i = 0; i < g->outputs().size(); ++i) {
      const std::string npy = *o.expectDir + "/" + fileNameFor(g->outputs()[i].name) + ".npy";
      const std::string pb = *o.expectDir + "/output_" + std::to_string(i) + ".pb";
      if (fs::exists(npy)) expected.put(g->outputs()[i].name, readNpy(npy), npy);
      else if (fs::exists(pb)) expected.put(g->outputs()[i].name, readTensorProto(pb).tensor, pb);
      else fail("--expect ", *o.expectDir, ": neither ", npy, " nor ", pb, " exists");
    }
  }
  const std::vector<HostTensor> want = expected.all();
  int bad = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    const Comparison c = compareTensors(out[i], want[i], o.rtol, o.atol);
    if (c.ok) std::printf("compare '%s': ok (max abs diff %.3g)\n", g->outputs()[i].name.c_str(), c.maxAbsDiff);
    else std::printf("compare '%s': MISMATCH: %s\n", g->outputs()[i].name.c_str(), c.reason.c_str());
    bad += !c.ok;
  }
  std::fflush(stdout);
  if (bad) {
    std::fprintf(stderr, "error: %d of %zu outputs differ from the expected values (rtol %g, atol %g)\n", bad,
                 out.size(), o.rtol, o.atol);
    return 1;
  }
  std::printf("all %zu outputs match (rtol %g, atol %g)\n", out.size(), o.rtol, o.atol);
  return 0;
}

}  // namespace bitnetc::run
