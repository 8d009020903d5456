#include "tools/bitnet-run/Options.h"

#include <cerrno>
#include <cstdlib>

#include "compiler/support/Error.h"

namespace bitnetc::run {

const char* usageText() {
  return "usage: bitnet-run MODEL [options]\n"
         "  MODEL is a checkpoint folder (config.json + model.safetensors [+ tokenizer.json]) or a .bir file.\n"
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
         "  --dump-values DIR   write every op result as DIR/<value>.npy (bitlinear: also .acc.npy)\n"
         "execution:\n"
         "  --backend NAME      execution backend (available: interp)\n"
         "  --max-context N     KV-cache length and ?seq bound (default: the checkpoint's)\n"
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

RunOptions parseOptions(int argc, char** argv) {
  RunOptions o;
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
    else if (arg == "--backend") o.backend = value();
    else if (arg == "--max-context") o.maxContext = parseInt(arg, value(), 1);
    else if (arg == "--inject-fault") o.fault = value();
    else if (arg == "-v" || arg == "--verbose") o.verbose = true;
    else if (arg.size() > 1 && arg[0] == '-') fail("unknown option '", arg, "' (see --help)");
    else if (!o.model.empty()) fail("more than one model ('", o.model, "' and '", arg, "')");
    else o.model = arg;
  }
  if (o.help) return o;
  if (o.model.empty()) fail("no model given (see --help)");
  if (o.temperature < 0) fail("--temp must be >= 0");
  if (!(o.topP > 0 && o.topP <= 1)) fail("--top-p must be in (0, 1]");
  const int modes = int(o.prompt.has_value()) + int(o.perplexityFile.has_value()) + int(o.tokens.has_value());
  if (modes == 0) fail("nothing to do: give -p TEXT, --perplexity FILE or --tokens IDS");
  if (modes > 1) fail("-p, --perplexity and --tokens are exclusive");
  if (!o.tokens && (o.logitsOut || o.allLogits || o.chunk || o.dumpDir))
    fail("--logits-out, --all-logits, --chunk and --dump-values need --tokens");
  if (o.dumpDir && o.chunk) fail("--dump-values dumps one call: it cannot be combined with --chunk");
  return o;
}

}  // namespace bitnetc::run
