#include "frontends/ModelInput.h"

#include <filesystem>
#include <iostream>
#include <iterator>

#include "compiler/ir/Parser.h"
#include "compiler/ir/Verifier.h"
#include "compiler/support/Error.h"
#include "compiler/support/ParseInt.h"
#include "frontends/onnx/Import.h"
#include "frontends/safetensors/Import.h"

namespace bitnetc {

const char* const kModelInputUsage =
    "  --dim NAME=N              ONNX models: bound of the dynamic dim NAME (a dim_param)\n"
    "  --max-seq N               ONNX models: bound of every other dynamic dim (default 512)\n"
    "  --const-input NAME=FILE   ONNX models: the graph input NAME is the constant in FILE (a\n"
    "                            TensorProto .pb), e.g. a shape fed as an input\n";

bool ModelInputOptions::parseFlag(int argc, char** argv, int& i) {
  const std::string arg = argv[i];
  auto value = [&](const std::string& flag, std::string& out) {
    if (arg == flag) {
      if (i + 1 >= argc) fail(flag, " needs a value");
      out = argv[++i];
      return true;
    }
    if (arg.rfind(flag + "=", 0) == 0) {
      out = arg.substr(flag.size() + 1);
      return true;
    }
    return false;
  };
  std::string v;
  if (value("--max-seq", v)) {
    maxSeq = parsePositiveInt("--max-seq", v);
    return true;
  }
  if (value("--dim", v)) {
    const size_t eq = v.rfind('=');
    if (eq == std::string::npos || eq == 0) fail("--dim expects NAME=N, got '", v, "'");
    dims[v.substr(0, eq)] = parsePositiveInt("--dim " + v.substr(0, eq), v.substr(eq + 1));
    return true;
  }
  if (value("--const-input", v)) {
    const size_t eq = v.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == v.size())
      fail("--const-input expects NAME=FILE, got '", v, "'");
    constInputs[v.substr(0, eq)] = v.substr(eq + 1);
    return true;
  }
  return false;
}

std::unique_ptr<Module> readModelInput(const std::string& input, const ModelInputOptions& options) {
  std::error_code ec;
  const bool onnx = input != "-" && std::filesystem::path(input).extension() == ".onnx" &&
                    !std::filesystem::is_directory(input, ec);
  if (!onnx && (options.maxSeq || !options.dims.empty() || !options.constInputs.empty()))
    fail(options.maxSeq ? "--max-seq" : !options.dims.empty() ? "--dim" : "--const-input", " applies to ONNX models only");
  if (input == "-") {
    if (options.maxContext) fail("--max-context applies to checkpoint folders only");
    std::string text(std::istreambuf_iterator<char>(std::cin), {});
    return parseModule(text, "<stdin>");
  }
  if (std::filesystem::is_directory(input, ec)) {
    ImportOptions importOptions;
    importOptions.maxContext = options.maxContext;
    importOptions.notes = options.notes;
    auto module = importCheckpoint(input, importOptions);
    verify(*module);
    return module;
  }
  const std::string ext = std::filesystem::path(input).extension().string();
  if (ext == ".safetensors" || ext == ".json")
    fail(input, ": a checkpoint is read from its folder (config.json + model.safetensors); give the folder");
  if (options.maxContext) fail("--max-context applies to checkpoint folders only");
  if (onnx) {
    OnnxImportOptions o;
    o.dims = options.dims;
    o.constInputs = options.constInputs;
    if (options.maxSeq) o.maxSeq = options.maxSeq;
    o.notes = options.notes;
    return importOnnx(input, o);
  }
  if (!std::filesystem::exists(input, ec)) fail(input, ": no such file or directory");
  return parseFile(input);
}

}  // namespace bitnetc
