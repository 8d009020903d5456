#include "tools/bitnet-run/ApiModel.h"

#include <unistd.h>

#include <iostream>

#include "compiler/support/Error.h"

namespace bitnetc::run {

namespace {

const char* statusName(bitnet_status s) {
  switch (s) {
    case BITNET_OK: return "OK";
    case BITNET_ERR_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case BITNET_ERR_TOKEN_OUT_OF_RANGE: return "TOKEN_OUT_OF_RANGE";
    case BITNET_ERR_CONTEXT_FULL: return "CONTEXT_FULL";
    case BITNET_ERR_WEIGHTS: return "WEIGHTS";
    case BITNET_ERR_NO_MEMORY: return "NO_MEMORY";
    case BITNET_ERR_UNSUPPORTED: return "UNSUPPORTED";
    case BITNET_ERR_BUFFER_TOO_SMALL: return "BUFFER_TOO_SMALL";
    case BITNET_ERR_INTERNAL: return "INTERNAL";
  }
  return "unknown status";
}

std::string orEmpty(const char* s) { return s ? s : ""; }

class ApiModel : public LanguageModel {
 public:
  ApiModel(const bitnet_api* api, std::shared_ptr<void> keepAlive, const std::string& source)
      : keepAlive_(std::move(keepAlive)), api_(api), source_(source) {}

  // Separate from the constructor so that the destructor closes what was opened when it throws.
  void open(const ApiModelOptions& options) {
    const bitnet_api* api = api_;
    if (!api) fail(source_, ": the library returned no bitnet_api table");
    if (api->api_version != BITNET_API_VERSION)
      fail(source_, ": built for C API version ", api->api_version, ", this bitnet-run uses version ",
           BITNET_API_VERSION, " (compile the model again with this bitnetc)");
    if (api->struct_size < sizeof(bitnet_api))
      fail(source_, ": its bitnet_api table has ", api->struct_size, " bytes, expected at least ",
           sizeof(bitnet_api), " (compile the model again with this bitnetc)");

    bitnet_model_options mo{};
    mo.struct_size = sizeof mo;
    mo.weights_path = options.weightsPath.empty() ? nullptr : options.weightsPath.c_str();
    char error[1024] = "";
    const bitnet_status opened = api->model_open(&mo, &model_, error, sizeof error);
    if (opened != BITNET_OK) fail(source_, ": ", error[0] ? error : statusName(opened));

    bitnet_model_info info{};
    info.struct_size = sizeof info;
    check(api->model_info(model_, &info), "model_info");
    if (info.vocab_size <= 0)
      fail(source_, ": a generic graph, not a language model: give its inputs (--input NAME=FILE.npy or "
           "--input-pb DIR; --signature shows them)");
    if (options.nCtx > info.max_context)
      fail("--max-context ", options.nCtx, " exceeds the library's context of ", info.max_context,
           " (fixed when it was compiled: bitnetc --max-context)");

    bitnet_session_options so{};
    so.struct_size = sizeof so;
    so.n_ctx = options.nCtx;
    so.n_threads = int32_t(options.threads);
    check(api->session_create(model_, &so, &session_), "session_create");

    facts_.backend = options.backend;
    facts_.description = orEmpty(info.name) + ": " + orEmpty(info.target);
    facts_.vocab = info.vocab_size;
    facts_.maxContext = options.nCtx ? options.nCtx : info.max_context;
    if (info.bos_token_id >= 0) facts_.bos = info.bos_token_id;
    if (info.eos_token_id >= 0) facts_.eosIds.push_back(info.eos_token_id);
    for (int64_t i = 0; i < info.num_eos_ids && info.eos_ids; ++i) facts_.eosIds.push_back(info.eos_ids[i]);
    facts_.weightBytes = info.weight_bytes;
    facts_.decodeWeightBytes = info.decode_weight_bytes;
    facts_.stateBytesPerToken = info.state_bytes_per_token;
    facts_.threads = options.threads ? options.threads : int64_t(sysconf(_SC_NPROCESSORS_ONLN));
    hasTokenizer_ = info.has_tokenizer != 0;
    if (options.verbose)
      std::cerr << "model: " << source_ << " (" << orEmpty(info.architecture) << ", vocab " << info.vocab_size
                << ", context " << facts_.maxContext << " of " << info.max_context << ", weights "
                << info.weight_bytes << " bytes" << (info.weights_external ? " external" : " embedded")
                << ", tokenizer " << (hasTokenizer_ ? "embedded" : "none") << ", threads " << facts_.threads
                << ", backend " << options.backend << ", target " << orEmpty(info.target) << ")\n";
  }

  ~ApiModel() override {
    if (!api_) return;
    if (session_) api_->session_free(session_);
    if (model_) api_->model_close(model_);
  }

  int64_t nPast() const override { return api_->session_n_past(session_); }
  void reset() override { checkSession(api_->session_reset(session_), "session_reset"); }

  bool hasTokenizer() const override { return hasTokenizer_; }

  std::vector<int32_t> tokenize(const std::string& text) override {
    requireTokenizer();
    // Byte-level BPE gives at most one id per byte; the retry covers any other tokenizer.
    std::vector<int32_t> ids(text.size() + 16);
    for (int attempt = 0;; ++attempt) {
      int64_t n = 0;
      const bitnet_status s = api_->tokenize(model_, text.data(), text.size(), ids.data(), int64_t(ids.size()), &n);
      if (s == BITNET_ERR_BUFFER_TOO_SMALL && attempt == 0 && n > int64_t(ids.size())) {
        ids.resize(size_t(n));
        continue;
      }
      check(s, "tokenize");
      ids.resize(size_t(n));
      return ids;
    }
  }

  std::string detokenize(const std::vector<int32_t>& ids) override {
    requireTokenizer();
    if (ids.empty()) return "";
    std::string text;
    if (decode(ids, text)) return text;
    // Some id is unknown to the tokenizer (a padded vocabulary): drop those ids, as the
    // interpreter's streaming does, and decode the rest together (a character may span ids).
    std::vector<int32_t> known;
    for (int32_t id : ids)
      if (std::string one; decode({id}, one)) known.push_back(id);
    if (known.empty()) return "";
    if (!decode(known, text)) fail(modelError());
    return text;
  }

 protected:
  void evalChecked(const std::vector<int32_t>& ids, Logits mode, float* out) override {
    const bitnet_logits_mode m = mode == Logits::All    ? BITNET_LOGITS_ALL
                                 : mode == Logits::Last ? BITNET_LOGITS_LAST
                                                        : BITNET_LOGITS_NONE;
    checkSession(api_->eval(session_, ids.data(), int64_t(ids.size()), out, m), "eval");
  }

 private:
  // False when the tokenizer rejects the ids; other failures are errors.
  bool decode(const std::vector<int32_t>& ids, std::string& text) {
    text.assign(ids.size() * 8 + 16, '\0');
    for (int attempt = 0;; ++attempt) {
      size_t n = 0;
      const bitnet_status s = api_->detokenize(model_, ids.data(), int64_t(ids.size()), 0, text.data(), text.size(), &n);
      if (s == BITNET_ERR_BUFFER_TOO_SMALL && attempt == 0 && n > text.size()) {
        text.resize(n);
        continue;
      }
      if (s == BITNET_ERR_TOKEN_OUT_OF_RANGE) return false;  // an id the tokenizer lacks
      check(s, "detokenize");
      text.resize(n);
      return true;
    }
  }

  void requireTokenizer() const {
    if (!hasTokenizer_)
      fail(source_, ": the model has no tokenizer (none was embedded when it was compiled); use --tokens");
  }

  std::string modelError() const { return orEmpty(api_->model_error(model_)); }
  // A failed call's message, read after the call (the model's or the session's); the runtime's
  // messages name the call themselves.
  void check(bitnet_status s, const char* call) const { failIf(s, call, s ? modelError() : ""); }
  void checkSession(bitnet_status s, const char* call) const {
    failIf(s, call, s ? orEmpty(api_->session_error(session_)) : "");
  }
  static void failIf(bitnet_status s, const char* call, const std::string& message) {
    if (s == BITNET_OK) return;
    if (message.empty()) fail(call, ": ", statusName(s));
    fail(message);
  }

  std::shared_ptr<void> keepAlive_;  // first member: released after the model closes
  const bitnet_api* api_;
  std::string source_;
  bitnet_model* model_ = nullptr;
  bitnet_session* session_ = nullptr;
  bool hasTokenizer_ = false;
};

}  // namespace

std::unique_ptr<LanguageModel> openApiModel(const bitnet_api* api, std::shared_ptr<void> keepAlive,
                                            const ApiModelOptions& options) {
  auto model = std::make_unique<ApiModel>(api, std::move(keepAlive), options.source);
  model->open(options);
  return model;
}

}  // namespace bitnetc::run
