// Helpers for the runtime's unit tests: the fake model (runtime_fake_model.h) in C++ terms,
// owning handles, and opening the fake model through the runtime's functions.
#pragma once
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "runtime_fake_model.h"

namespace bitnetc::test {

namespace fake {
constexpr int64_t kVocab = BITNET_FAKE_VOCAB;
constexpr int64_t kMaxContext = BITNET_FAKE_MAX_CONTEXT;
constexpr int64_t kStateRows = BITNET_FAKE_STATE_ROWS;
constexpr int64_t kMaxBatch = BITNET_FAKE_MAX_BATCH;
constexpr int64_t kWeightBytes = BITNET_FAKE_WEIGHT_BYTES;

inline const uint8_t* weights() { return bitnet_fake_weights(); }
inline int64_t lastStateRows() { return bitnet_fake_last_state_rows(); }
inline bitnet_model_desc lm() { return bitnet_fake_lm(); }
inline bitnet_model_desc externalWeights(const char* fileName) { return bitnet_fake_external_weights(fileName); }
inline bitnet_model_desc generic() { return bitnet_fake_generic(); }
inline bitnet_model_desc failingAtPosition6() { return bitnet_fake_failing_at_position6(); }
inline bitnet_model_desc returningStatus99() { return bitnet_fake_returning_status99(); }
// json must outlive the model.
inline bitnet_model_desc withTokenizer(const std::string& json) {
  return bitnet_fake_with_tokenizer(json.data(), int64_t(json.size()));
}

// The logits row of the token at `position`, given the tokens at positions 0..position.
inline std::vector<float> expectedRow(const std::vector<int32_t>& history, int64_t position) {
  int64_t sum = 0;
  for (int64_t r = 0; r <= position; ++r) sum += bitnet_fake_row_term(history.at(size_t(r)), r);
  std::vector<float> row;
  for (int64_t v = 0; v < kVocab; ++v) row.push_back(bitnet_fake_logit(sum, v, position));
  return row;
}

// Rows [from, from + count) concatenated.
inline std::vector<float> expectedRows(const std::vector<int32_t>& history, int64_t from, int64_t count) {
  std::vector<float> rows;
  for (int64_t p = from; p < from + count; ++p) {
    std::vector<float> row = expectedRow(history, p);
    rows.insert(rows.end(), row.begin(), row.end());
  }
  return rows;
}
}  // namespace fake

struct ModelCloser {
  void operator()(bitnet_model* m) const { bitnet__public_model_close(m); }
};
struct SessionFreer {
  void operator()(bitnet_session* s) const { bitnet__public_session_free(s); }
};
using ModelPtr = std::unique_ptr<bitnet_model, ModelCloser>;
using SessionPtr = std::unique_ptr<bitnet_session, SessionFreer>;

// Opens desc (which must outlive the model); fails the test with the message otherwise.
inline ModelPtr openModel(const bitnet_model_desc& desc, const bitnet_model_options* options = nullptr) {
  bitnet_model* m = nullptr;
  char error[512] = "";
  bitnet_status status = bitnet_rt_model_open(&desc, options, &m, error, sizeof error);
  EXPECT_EQ(status, BITNET_OK) << error;
  return ModelPtr(m);
}

inline bitnet_session_options sessionOptions(int64_t nCtx, int32_t nThreads) {
  bitnet_session_options o{};
  o.struct_size = sizeof o;
  o.n_ctx = nCtx;
  o.n_threads = nThreads;
  return o;
}

inline SessionPtr createSession(bitnet_model* m, int64_t nCtx = 0, int32_t nThreads = 2) {
  bitnet_session_options o = sessionOptions(nCtx, nThreads);
  bitnet_session* s = nullptr;
  EXPECT_EQ(bitnet__public_session_create(m, &o, &s), BITNET_OK) << bitnet__public_model_error(m);
  return SessionPtr(s);
}

// eval with LOGITS_ALL: every row.
inline std::vector<float> evalAll(bitnet_session* s, const std::vector<int32_t>& tokens) {
  std::vector<float> logits(tokens.size() * size_t(fake::kVocab));
  EXPECT_EQ(bitnet__public_eval(s, tokens.data(), int64_t(tokens.size()), logits.data(),
                                BITNET_LOGITS_ALL),
            BITNET_OK)
      << bitnet__public_session_error(s);
  return logits;
}

inline std::vector<float> evalLast(bitnet_session* s, const std::vector<int32_t>& tokens) {
  std::vector<float> logits(static_cast<size_t>(fake::kVocab));
  EXPECT_EQ(bitnet__public_eval(s, tokens.data(), int64_t(tokens.size()), logits.data(),
                                BITNET_LOGITS_LAST),
            BITNET_OK)
      << bitnet__public_session_error(s);
  return logits;
}

// n pseudo-random token ids in [0, kVocab).
inline std::vector<int32_t> someTokens(size_t n, uint32_t seed) {
  std::vector<int32_t> ids(n);
  for (auto& id : ids) {
    seed = seed * 1664525u + 1013904223u;
    id = int32_t((seed >> 8) % uint32_t(fake::kVocab));
  }
  return ids;
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace bitnetc::test
