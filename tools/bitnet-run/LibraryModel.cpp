#include "tools/bitnet-run/LibraryModel.h"

#include "tools/bitnet-run/ApiModel.h"

namespace bitnetc::run {

std::unique_ptr<LanguageModel> loadLibraryModel(const std::string& path, const LoadOptions& options) {
  LibraryTable table = openLibraryTable(path, options.name);
  ApiModelOptions ao;
  ao.backend = "so";
  ao.source = path;
  ao.weightsPath = options.weightsPath;
  ao.nCtx = options.maxContext;
  ao.threads = options.threads;
  ao.verbose = options.verbose;
  return openApiModel(table.api, std::move(table.handle), ao);
}

}  // namespace bitnetc::run
