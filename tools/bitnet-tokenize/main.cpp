// bitnet-tokenize: encode text to token ids or decode ids to text with a tokenizer.json, for
// debugging and for the peer test against Hugging Face's JavaScript tokenizer.
#include "compiler/support/Error.h"
#include "runtime/tokenizer/Tokenizer.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>
#include "compiler/support/ToolMain.h"

namespace {

constexpr const char* kUsage = R"(usage: bitnet-tokenize TOKENIZER_JSON_OR_MODEL_DIR [options]
  --text TEXT          encode TEXT
  --file FILE          encode the contents of FILE
  --decode 1,2,3       decode the comma-separated ids and print the text
  --ids-only           when encoding, print only the comma-separated ids
  --skip-special       when decoding, leave out special tokens
  --lines FILE         encode each line of FILE, a JSON string, and print its ids on one line
  --decode-lines FILE  decode each line of FILE (comma-separated ids), print a JSON string
Encoding prints the ids on one line, then one line per token: id, tab, the token as a JSON
string. No BOS/EOS is added (the tokenizer's post_processor is ignored).
)";

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) bitnetc::fail(path, ": cannot open");
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<int32_t> parseIds(const std::string& text) {
  std::vector<int32_t> ids;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    size_t used = 0;
    long long value = -1;
    try {
      value = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    while (used < item.size() && std::isspace(static_cast<unsigned char>(item[used]))) ++used;
    if (used == 0 || used != item.size() || value < 0 || value > INT32_MAX)
      bitnetc::fail("'", item, "' is not a token id (expected comma-separated non-negative integers)");
    ids.push_back(static_cast<int32_t>(value));
  }
  return ids;
}

std::string joinIds(const std::vector<int32_t>& ids) {
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + std::to_string(ids[i]);
  return out;
}

std::string quoted(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

int run(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) bitnetc::fail("no tokenizer given\n", kUsage);
  if (args[0] == "--help" || args[0] == "-h") {
    std::cout << kUsage;
    return 0;
  }
  std::string tokenizerPath = args[0];
  std::string text, decodeIds, linesFile, decodeLinesFile;
  bool haveText = false, haveDecode = false, idsOnly = false, skipSpecial = false;
  for (size_t i = 1; i < args.size(); ++i) {
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) bitnetc::fail(args[i], " needs a value");
      return args[++i];
    };
    if (args[i] == "--text") text = value(), haveText = true;
    else if (args[i] == "--file") text = readFile(value()), haveText = true;
    else if (args[i] == "--decode") decodeIds = value(), haveDecode = true;
    else if (args[i] == "--ids-only") idsOnly = true;
    else if (args[i] == "--skip-special") skipSpecial = true;
    else if (args[i] == "--lines") linesFile = value();
    else if (args[i] == "--decode-lines") decodeLinesFile = value();
    else bitnetc::fail("unknown option '", args[i], "'\n", kUsage);
  }
  int modes = haveText + haveDecode + !linesFile.empty() + !decodeLinesFile.empty();
  if (modes != 1)
    bitnetc::fail("give exactly one of --text, --file, --decode, --lines, --decode-lines\n", kUsage);

  if (std::filesystem::is_directory(tokenizerPath))
    tokenizerPath = (std::filesystem::path(tokenizerPath) / "tokenizer.json").string();
  bitnetc::Tokenizer tokenizer = bitnetc::Tokenizer::fromFile(tokenizerPath);

  if (haveText) {
    std::vector<int32_t> ids = tokenizer.encode(text);
    std::cout << joinIds(ids) << "\n";
    if (!idsOnly)
      for (int32_t id : ids) std::cout << id << "\t" << quoted(tokenizer.tokenString(id)) << "\n";
  } else if (haveDecode) {
    std::cout << tokenizer.decode(parseIds(decodeIds), skipSpecial) << "\n";
  } else if (!linesFile.empty()) {
    size_t number = 0;
    for (const std::string& line : lines(readFile(linesFile))) {
      ++number;
      nlohmann::json value;
      try {
        value = nlohmann::json::parse(line);
      } catch (const nlohmann::json::exception& e) {
        bitnetc::fail(linesFile, ":", number, ": not a JSON string: ", e.what());
      }
      if (!value.is_string()) bitnetc::fail(linesFile, ":", number, ": not a JSON string");
      std::cout << joinIds(tokenizer.encode(value.get<std::string>())) << "\n";
    }
  } else {
    for (const std::string& line : lines(readFile(decodeLinesFile)))
      std::cout << quoted(tokenizer.decode(parseIds(line), skipSpecial)) << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return bitnetc::runToolMain(run, argc, argv); }
