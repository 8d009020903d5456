// generate.cpp: greedy text generation with a model compiled by bitnetc, in C++, through a small
// RAII wrapper (bitnet::Model, bitnet::Session) over the model's function table.
//
// Build and run, from the repository root:
//
//   bitnetc test/models/bitnet-tiny-trained -o tiny.so &&
//     c++ -I. examples/generate.cpp ./tiny.so -Wl,-rpath,'$ORIGIN' -o generate-cpp
//   ./generate-cpp "Once upon a time" 32
//
// (-I. finds tiny.h; the rpath lets ./generate-cpp find tiny.so beside it when it runs.)
//
// The wrapper uses the table PREFIX_bitnet_api() (runtime/include/bitnet.h), so only that one
// name carries the model's prefix. For a model compiled as other.so:
//
//   c++ -I. -DMODEL_HEADER='"other.h"' -DMODEL_PREFIX=other examples/generate.cpp ./other.so \
//     -Wl,-rpath,'$ORIGIN' -o generate-cpp
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#ifndef MODEL_HEADER
#define MODEL_HEADER "tiny.h"
#endif
#ifndef MODEL_PREFIX
#define MODEL_PREFIX tiny
#endif
#include MODEL_HEADER

// MODEL(bitnet_api) is tiny_bitnet_api: pastes the model's prefix onto a function name.
#define MODEL_PASTE(prefix, name) prefix##_##name
#define MODEL_NAME(prefix, name) MODEL_PASTE(prefix, name)
#define MODEL(name) MODEL_NAME(MODEL_PREFIX, name)

namespace bitnet {

// Every failed call becomes an exception carrying the library's message.
struct Error : std::runtime_error {
  Error(bitnet_status status, const std::string& message) : std::runtime_error(message), status(status) {}
  bitnet_status status;
};

class Model {
 public:
  // weights_path: the .weights file of a library compiled with --weights=external (NULL: beside it).
  explicit Model(const bitnet_api* api, const char* weights_path = nullptr) : api_(api) {
    if (api->api_version != BITNET_API_VERSION) throw Error(BITNET_ERR_UNSUPPORTED, "C API version mismatch");
    bitnet_model_options options{};
    options.struct_size = sizeof options;
    options.weights_path = weights_path;
    char error[512] = "";
    if (bitnet_status s = api_->model_open(&options, &model_, error, sizeof error)) throw Error(s, error);
    info_.struct_size = sizeof info_;
    check(api_->model_info(model_, &info_));
  }
  ~Model() { api_->model_close(model_); }
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const bitnet_model_info& info() const { return info_; }
  bool is_eos(int32_t id) const {
    if (id == info_.eos_token_id) return true;
    for (int64_t i = 0; i < info_.num_eos_ids; ++i)
      if (id == info_.eos_ids[i]) return true;
    return false;
  }

  // Text -> ids (no bos: the caller adds it).
  std::vector<int32_t> tokenize(const std::string& text) const {
    std::vector<int32_t> ids(text.size() + 1);
    int64_t n = 0;
    bitnet_status s = api_->tokenize(model_, text.data(), text.size(), ids.data(), int64_t(ids.size()), &n);
    if (s == BITNET_ERR_BUFFER_TOO_SMALL) {  // n says how many it needs
      ids.resize(size_t(n));
      s = api_->tokenize(model_, text.data(), text.size(), ids.data(), n, &n);
    }
    check(s);
    ids.resize(size_t(n));
    return ids;
  }

  // Ids -> UTF-8 text (special tokens kept).
  std::string detokenize(const std::vector<int32_t>& ids) const {
    size_t n = 0;
    bitnet_status s = api_->detokenize(model_, ids.data(), int64_t(ids.size()), 0, nullptr, 0, &n);
    if (s != BITNET_OK && s != BITNET_ERR_BUFFER_TOO_SMALL) check(s);
    std::string text(n, '\0');
    check(api_->detokenize(model_, ids.data(), int64_t(ids.size()), 0, text.data(), text.size(), &n));
    text.resize(n);
    return text;
  }

 private:
  friend class Session;
  void check(bitnet_status s) const {
    if (s != BITNET_OK) throw Error(s, api_->model_error(model_));
  }
  const bitnet_api* api_;
  bitnet_model* model_ = nullptr;
  bitnet_model_info info_{};
};

// One conversation: its own KV cache. Sessions of one model may run on different threads.
class Session {
 public:
  // n_ctx: tokens the cache holds (0 = the model's maximum); n_threads: 0 = one per online CPU.
  explicit Session(Model& model, int64_t n_ctx = 0, int32_t n_threads = 0) : model_(model) {
    bitnet_session_options options{};
    options.struct_size = sizeof options;
    options.n_ctx = n_ctx;
    options.n_threads = n_threads;
    model_.check(model_.api_->session_create(model_.model_, &options, &session_));
    logits_.resize(size_t(model.info().vocab_size));
  }
  ~Session() { model_.api_->session_free(session_); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Appends ids to the cache; returns the logits of the last one.
  const std::vector<float>& eval(const std::vector<int32_t>& ids) {
    if (bitnet_status s = model_.api_->eval(session_, ids.data(), int64_t(ids.size()), logits_.data(),
                                            BITNET_LOGITS_LAST))
      throw Error(s, model_.api_->session_error(session_));
    return logits_;
  }
  int64_t n_past() const { return model_.api_->session_n_past(session_); }
  void reset() { model_.api_->session_reset(session_); }

 private:
  Model& model_;
  bitnet_session* session_ = nullptr;
  std::vector<float> logits_;
};

}  // namespace bitnet

int main(int argc, char** argv) {
  const std::string prompt = argc > 1 ? argv[1] : "Once upon a time";
  const long n_new = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 32;
  try {
    bitnet::Model model(MODEL(bitnet_api)());
    bitnet::Session session(model);

    std::vector<int32_t> input;
    if (model.info().bos_token_id >= 0) input.push_back(model.info().bos_token_id);
    for (int32_t id : model.tokenize(prompt)) input.push_back(id);

    // Prefill the prompt, then decode greedily one token at a time (lowest id on ties).
    const std::vector<float>* logits = &session.eval(input);
    std::vector<int32_t> generated;
    for (long i = 0; i < n_new; ++i) {
      int32_t next = 0;
      for (int32_t v = 1; v < int32_t(logits->size()); ++v)
        if ((*logits)[size_t(v)] > (*logits)[size_t(next)]) next = v;
      if (model.is_eos(next)) break;
      generated.push_back(next);
      if (i + 1 == n_new) break;
      logits = &session.eval({next});
    }
    const std::string text = prompt + model.detokenize(generated) + "\n";
    std::fwrite(text.data(), 1, text.size(), stdout);
  } catch (const bitnet::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
