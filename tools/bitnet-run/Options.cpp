#include "tools/bitnet-run/Options.h"

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "compiler/support/Error.h"

namespace bitnetc::run {

const char* usageText() {
  return "usage: bitnet-run MODEL [options]\n"
         "  MODEL is a checkpoint folder (config.json + model.safetensors [+ tokenizer.json]), a .bir file,\n"
         "  a .onnx file, or a library compiled by bitnetc (MODEL.so).\n"
         "generate:\n"
         "  -p TEXT             prompt (BOS is prepended); the text and its continuation go to stdout\n"
         "  -n N                tokens to generate (default 32); stops early at EOS\n"
         "  --temp T            sampling temperature (default 0: greedy)\n"
         "  --top-k K           sample among the K most likely tokens (0: all)\n"
         "  --top-p P           nucleus sampling: smallest set with probability >= P (default 1)\n"
         "  --seed S            seed of the sampler (std::mt19937_64); random if not given\n"
         "perplexity:\n"
         "  --perplexity FILE   perplexity over consecutive windows of the tokenized FILE\n"
         "  --ctx N             window length in tokens (default 128)\n"
         "  --max-tokens M      use only the first M tokens of FILE\n"
         "logits:\n"
         "  --tokens 1,2,3      evaluate exactly these ids (no BOS added)\n"
         "  --logits-out FILE   write the last position's logits as little-endian float32\n"
         "  --all-logits        ... all positions instead ([n, vocab])\n"
         "  --chunk N           feed the ids through the KV cache N at a time\n"
         "  --dump-values DIR   write every op result as DIR/<value>.npy (bitlinear: also .acc.npy; interp only)\n"
         "generic graphs (MODEL is a .onnx, a .bir with @main, or a library compiled from one):\n"
         "  --input [NAME=]FILE  an input from a .npy or a TensorProto .pb (repeatable; no NAME: next in order)\n"
         "  --input-pb DIR|FILE  ONNX test data: DIR/input_0.pb, input_1.pb, ... (by their names or in order)\n"
         "  --signature         print the inputs' and outputs' signature as JSON\n"
         "  --output-dir DIR    write every output as DIR/NAME.npy and DIR/output_K.pb\n"
         "  --compare-pb        compare the outputs with output_*.pb beside the --input-pb files\n"
         "  --expect DIR        compare the outputs with DIR/NAME.npy or DIR/output_K.pb\n"
         "  --rtol R, --atol A  comparison: |out - expected| <= A + R * |expected| (default 1e-3, 1e-7)\n"
         "  --bench             time repeated runs (--bench-repeat, default 10): median and min\n"
         "  a mismatch exits with status 1\n"
         "benchmark:\n"
         "  --bench             prefill and decode tokens/s, weight GB/s, peak RSS\n"
         "  --bench-prefill N   prefill tokens per run (default 128)\n"
         "  --bench-decode M    decode tokens per run, from an empty cache (default 64)\n"
         "  --bench-repeat R    runs of each; the median is reported (default 3)\n"
         "  --json              print the results as one JSON object\n"
         "execution:\n"
         "  --backend NAME      interp (reference interpreter; default for a folder or .bir),\n"
         "                      so (a compiled library; default for MODEL.so), jit (compile in memory)\n"
         "  --max-context N     KV-cache length (default: the model's)\n"
         "  -t, --threads N     threads of a so/jit session (default 1; 0: one per online CPU)\n"
         "  --name PREFIX       so: the library's symbol prefix (default: its one PREFIX_bitnet_api)\n"
         "  --weights FILE      so: the .weights file of a --weights=external library (default: beside it)\n"
         "  -mcpu=CPU           jit: target CPU (default native), as bitnetc\n"
         "  -mattr=+f,-g        jit: target features, as bitnetc\n"
         "  -O0 .. -O3          jit: optimization level (default -O3)\n"
         "  --kernel SPEC       jit: force bitlinear kernels (NAME, PATTERN=NAME; as bitnetc)\n"
         "  -v                  model summary and timings on stderr\n";
}

namespace {

int64_t parseInt(const std::string& flag, const std::string& text, int64_t min) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE) fail(flag, " expects an integer, got '", text, "'");
  if (v < min) fail(flag, " must be at least ", min, ", got ", v);
  return v;
}

double parseDouble(const std::string& flag, const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !(v == v)) fail(flag, " expects a number, got '", text, "'");
  return v;
}

std::vector<int32_t> parseIds(const std::string& text) {
  std::vector<int32_t> ids;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    // Spaces around an id are fine ("1, 2" as well as "1 ,2"); strtoll alone took only leading ones.
    std::string item = text.substr(start, comma - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    const int64_t v = parseInt("--tokens", item, INT32_MIN);
    if (v > INT32_MAX) fail("--tokens: id ", v, " does not fit in int32");
    ids.push_back(int32_t(v));
    start = comma + 1;
  }
  if (ids.empty()) fail("--tokens needs at least one id");
  return ids;
}

}  // namespace

namespace {

bool endsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A shared library by name (*.so) or by content (an ELF file: bitnetc -o lib without .so).
bool looksLikeLibrary(const std::string& path) {
  if (endsWith(path, ".so")) return true;
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && std::string_view(magic, 4) == "\x7f" "ELF";
}

// The backend when --backend is absent: a compiled library runs through its C API, anything
// else on the interpreter. Then the options that only one backend understands are checked.
void resolveBackend(RunOptions& o) {
  const bool isLibrary = looksLikeLibrary(o.model);
  if (o.backend.empty()) o.backend = isLibrary ? "so" : "interp";
  if (o.backend != "interp" && o.backend != "so" && o.backend != "jit")
    fail("unknown backend '", o.backend, "' (available: interp, so, jit)");
  if (o.backend == "so" && std::filesystem::is_directory(o.model))
    fail(o.model, ": --backend so runs a library compiled by bitnetc (bitnetc ", o.model,
         " -o model.so); for a checkpoint folder use --backend jit or interp");
  if (o.backend != "so" && isLibrary)
    fail(o.model, ": a compiled library runs with --backend so, not ", o.backend);

  auto only = [&](bool given, const char* option, const char* backend) {
    if (given && o.backend != backend)
      fail(option, " applies to --backend ", backend, " only (this run uses ", o.backend, ")");
  };
  only(o.dumpDir.has_value(), "--dump-values", "interp");
  only(!o.fault.empty(), "--inject-fault", "interp");
  only(!o.name.empty(), "--name", "so");
  only(!o.weightsPath.empty(), "--weights", "so");
  only(!o.cpu.empty(), "-mcpu", "jit");
  only(!o.attrs.empty(), "-mattr", "jit");
  only(o.optLevelGiven, "-O", "jit");
  only(!o.kernel.empty(), "--kernel", "jit");
  // The interpreter runs on the calling thread only.
  if (o.backend == "interp" && o.threadsGiven && o.threads != 1)
    fail("--threads ", o.threads, ": the interpreter is single-threaded (use --backend so or jit)");
}

}  // namespace

RunOptions parseOptions(int argc, char** argv) {
  RunOptions o;
  bool benchSizesGiven = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string inlineValue;
    bool hasInline = false;
    if (arg.rfind("--", 0) == 0 && arg.find('=') != std::string::npos) {
      inlineValue = arg.substr(arg.find('=') + 1);
      arg = arg.substr(0, arg.find('='));
      hasInline = true;
    }
    auto value = [&]() -> std::string {
      if (hasInline) return inlineValue;
      if (i + 1 >= argc) fail(arg, " needs a value");
      return argv[++i];
    };
    // bitnetc's spellings: -mcpu=X / -mcpu X, -mattr=..., -O0..-O3.
    if (arg.rfind("-mcpu", 0) == 0 || arg.rfind("-mattr", 0) == 0) {
      const bool isCpu = arg.rfind("-mcpu", 0) == 0;
      const std::string flag = isCpu ? "-mcpu" : "-mattr";
      std::string v;
      if (arg == flag) {
        if (i + 1 >= argc) fail(flag, " needs a value");
        v = argv[++i];
      } else if (arg[flag.size()] == '=') {
        v = arg.substr(flag.size() + 1);
      } else {
        fail("unknown option '", arg, "' (see --help)");
      }
      if (v.empty()) fail(flag, " needs a value");
      (isCpu ? o.cpu : o.attrs) = v;
      continue;
    }
    if (arg.size() == 3 && arg[0] == '-' && arg[1] == 'O') {
      if (arg[2] < '0' || arg[2] > '3') fail("unknown optimization level '", arg, "' (-O0 .. -O3)");
      o.optLevel = arg[2] - '0';
      o.optLevelGiven = true;
      continue;
    }
    if (int at = i; o.input.parseFlag(argc, argv, at)) {
      i = at;
      o.inputGiven = true;
      continue;
    }
    if (arg == "-h" || arg == "--help") o.help = true;
    else if (arg == "-p" || arg == "--prompt") o.prompt = value();
    else if (arg == "-n") o.numTokens = parseInt(arg, value(), 0);
    else if (arg == "--temp") o.temperature = parseDouble(arg, value());
    else if (arg == "--top-k") o.topK = parseInt(arg, value(), 0);
    else if (arg == "--top-p") o.topP = parseDouble(arg, value());
    else if (arg == "--seed") o.seed = uint64_t(parseInt(arg, value(), 0));
    else if (arg == "--perplexity") o.perplexityFile = value();
    else if (arg == "--ctx") o.ctx = parseInt(arg, value(), 1);
    else if (arg == "--max-tokens") o.maxTokens = parseInt(arg, value(), 1);
    else if (arg == "--tokens") o.tokens = parseIds(value());
    else if (arg == "--logits-out") o.logitsOut = value();
    else if (arg == "--all-logits") o.allLogits = true;
    else if (arg == "--chunk") o.chunk = parseInt(arg, value(), 1);
    else if (arg == "--dump-values") o.dumpDir = value();
    else if (arg == "--bench") o.bench = true;
    else if (arg == "--bench-prefill") {
      o.benchPrefill = parseInt(arg, value(), 1);
      benchSizesGiven = true;
    }
    else if (arg == "--bench-decode") {
      o.benchDecode = parseInt(arg, value(), 1);
      benchSizesGiven = true;
    }
    else if (arg == "--bench-repeat") {
      o.benchRepeat = parseInt(arg, value(), 1);
      o.benchRepeatGiven = true;
    }
    else if (arg == "--json") o.json = true;
    else if (arg == "--input") o.inputs.push_back(value());
    else if (arg == "--input-pb") o.inputPb.push_back(value());
    else if (arg == "--output-dir") o.outputDir = value();
    else if (arg == "--signature") o.signature = true;
    else if (arg == "--expect") o.expectDir = value();
    else if (arg == "--compare-pb") o.comparePb = true;
    else if (arg == "--rtol") o.rtol = parseDouble(arg, value());
    else if (arg == "--atol") o.atol = parseDouble(arg, value());
    else if (arg == "--backend") o.backend = value();
    else if (arg == "--max-context") o.maxContext = parseInt(arg, value(), 1);
    else if (arg == "-t" || arg == "--threads") {
      o.threads = parseInt(arg, value(), 0);
      if (o.threads > INT32_MAX) fail(arg, " ", o.threads, " does not fit in int32");
      o.threadsGiven = true;
    }
    else if (arg == "--name") o.name = value();
    else if (arg == "--weights") o.weightsPath = value();
    else if (arg == "--kernel") o.kernel = value();
    else if (arg == "--inject-fault") o.fault = value();
    else if (arg == "-v" || arg == "--verbose") o.verbose = true;
    else if (arg.size() > 1 && arg[0] == '-') fail("unknown option '", arg, "' (see --help)");
    else if (!o.model.empty()) fail("more than one model ('", o.model, "' and '", arg, "')");
    else o.model = arg;
  }
  if (o.help) return o;
  if (o.model.empty()) fail("no model given (see --help)");
  o.graph = endsWith(o.model, ".onnx") || !o.inputs.empty() || !o.inputPb.empty() || o.outputDir ||
            o.signature || o.expectDir || o.comparePb;
  if (o.inputGiven && !o.graph)
    fail("--dim, --max-seq and --const-input import a .onnx model (a generic graph)");
  if (o.graph) {
    if (o.prompt || o.perplexityFile || o.tokens || o.logitsOut || o.allLogits || o.chunk || o.dumpDir ||
        benchSizesGiven || o.json)
      fail("-p, --perplexity, --tokens and their options are for language models, not generic graphs");
    if (o.comparePb && o.inputPb.empty()) fail("--compare-pb compares with the output_*.pb beside --input-pb files");
    if (o.comparePb && o.expectDir) fail("--compare-pb and --expect are exclusive");
    if (!(o.rtol >= 0) || !(o.atol >= 0)) fail("--rtol and --atol must be >= 0");
    if (!o.benchRepeatGiven) o.benchRepeat = 10;
    resolveBackend(o);
    return o;
  }
  if (o.rtol != 1e-3 || o.atol != 1e-7) fail("--rtol and --atol compare the outputs of generic graphs (--expect)");
  if (o.benchRepeatGiven) benchSizesGiven = true;
  if (o.temperature < 0) fail("--temp must be >= 0");
  if (!(o.topP > 0 && o.topP <= 1)) fail("--top-p must be in (0, 1]");
  const int modes = int(o.prompt.has_value()) + int(o.perplexityFile.has_value()) + int(o.tokens.has_value()) +
                    int(o.bench);
  if (modes == 0) fail("nothing to do: give -p TEXT, --perplexity FILE, --tokens IDS or --bench");
  if (modes > 1) fail("-p, --perplexity, --tokens and --bench are exclusive");
  if (!o.tokens && (o.logitsOut || o.allLogits || o.chunk || o.dumpDir))
    fail("--logits-out, --all-logits, --chunk and --dump-values need --tokens");
  if (o.dumpDir && o.chunk) fail("--dump-values dumps one call: it cannot be combined with --chunk");
  if ((o.json || benchSizesGiven) && !o.bench) fail("--json, --bench-prefill, --bench-decode and --bench-repeat need --bench");
  resolveBackend(o);
  return o;
}

}  // namespace bitnetc::run
