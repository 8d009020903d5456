#include "frontends/ModelInput.h"

#include <filesystem>
#include <iostream>
#include <iterator>

#include "compiler/ir/Parser.h"
#include "compiler/ir/Verifier.h"
#include "compiler/support/Error.h"
#include "frontends/safetensors/Import.h"

namespace bitnetc {

std::unique_ptr<Module> readModelInput(const std::string& input, const ModelInputOptions& options) {
  if (input == "-") {
    if (options.maxContext) fail("--max-context applies to checkpoint folders only");
    std::string text(std::istreambuf_iterator<char>(std::cin), {});
    return parseModule(text, "<stdin>");
  }
  std::error_code ec;
  if (std::filesystem::is_directory(input, ec)) {
    ImportOptions importOptions;
    importOptions.maxContext = options.maxContext;
    auto module = importCheckpoint(input, importOptions);
    verify(*module);
    return module;
  }
  const std::string ext = std::filesystem::path(input).extension().string();
  if (ext == ".safetensors" || ext == ".json")
    fail(input, ": a checkpoint is read from its folder (config.json + model.safetensors); give the folder");
  if (ext == ".onnx") fail(input, ": ONNX models are not supported yet (the ONNX frontend is not built)");
  if (options.maxContext) fail("--max-context applies to checkpoint folders only");
  if (!std::filesystem::exists(input, ec)) fail(input, ": no such file or directory");
  return parseFile(input);
}

}  // namespace bitnetc
