#include "tools/bitnet-run/LanguageModel.h"

#include <algorithm>
#include <filesystem>

#include "compiler/support/Error.h"
#include "tools/bitnet-run/InterpModel.h"
#include "tools/bitnet-run/JitModel.h"
#include "tools/bitnet-run/LibraryModel.h"

namespace bitnetc::run {

std::vector<float> LanguageModel::eval(const std::vector<int32_t>& ids, Logits mode) {
  if (ids.empty()) fail("no tokens to evaluate");
  for (int32_t id : ids)
    if (id < 0 || id >= facts_.vocab) fail("token id ", id, " is out of range (vocabulary size ", facts_.vocab, ")");
  const int64_t end = nPast() + int64_t(ids.size());
  if (end > facts_.maxContext)
    fail("context overflow: ", end, " tokens exceed the model's context of ", facts_.maxContext, " (see --max-context)");
  const size_t rows = mode == Logits::All ? ids.size() : mode == Logits::Last ? 1 : 0;
  std::vector<float> logits(rows * size_t(facts_.vocab));
  evalChecked(ids, mode, logits.data());
  return logits;
}

bool LanguageModel::isEos(int32_t id) const {
  return std::find(facts_.eosIds.begin(), facts_.eosIds.end(), int64_t(id)) != facts_.eosIds.end();
}

std::unique_ptr<LanguageModel> loadModel(const std::string& path, const LoadOptions& options) {
  if (!std::filesystem::exists(path)) fail(path, ": no such file or directory");
  if (options.backend == "interp") return loadInterpModel(path, options);
  if (options.backend == "so") return loadLibraryModel(path, options);
  if (options.backend == "jit") return loadJitModel(path, options);
  fail("unknown backend '", options.backend, "' (available: interp, so, jit)");
}

}  // namespace bitnetc::run
