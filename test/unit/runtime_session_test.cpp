// The runtime's sessions over the fake model: KV state per session, chunked prefill, logits
// modes, reset/truncate, misuse, failures inside forward, and sessions on several threads.
#include <cstring>
#include <thread>

#include "runtime_test_util.h"

namespace {

using namespace bitnetc::test;
namespace fake = bitnetc::test::fake;
using Tokens = std::vector<int32_t>;

class RuntimeSession : public ::testing::Test {
 protected:
  void SetUp() override {
    desc_ = fake::lm();
    model_ = openModel(desc_);
    ASSERT_NE(model_, nullptr);
  }
  bitnet_model* model() { return model_.get(); }
  bitnet_model_desc desc_;
  ModelPtr model_;
};

TEST_F(RuntimeSession, DecodeTokenByTokenGivesTheExpectedLogits) {
  SessionPtr s = createSession(model());
  Tokens history = someTokens(12, 1);
  for (size_t i = 0; i < history.size(); ++i) {
    EXPECT_EQ(evalLast(s.get(), {history[i]}), fake::expectedRow(history, int64_t(i))) << i;
    EXPECT_EQ(bitnet__public_session_n_past(s.get()), int64_t(i + 1));
  }
}

TEST_F(RuntimeSession, ChunkedPrefillEqualsTokenByToken) {
  // 11 tokens with max_batch 4: chunks of 4, 4, 3 at positions 0, 4, 8.
  Tokens history = someTokens(11, 2);
  SessionPtr prefill = createSession(model());
  std::vector<float> all = evalAll(prefill.get(), history);
  EXPECT_EQ(all, fake::expectedRows(history, 0, 11));
  SessionPtr decode = createSession(model());
  std::vector<float> rows;
  for (int32_t t : history) {
    std::vector<float> row = evalLast(decode.get(), {t});
    rows.insert(rows.end(), row.begin(), row.end());
  }
  EXPECT_EQ(all, rows);
  // Both caches hold the same: the next token sees the same history.
  EXPECT_EQ(evalLast(prefill.get(), {5}), evalLast(decode.get(), {5}));
}

TEST_F(RuntimeSession, PrefillSizesAroundTheBatch) {
  for (int64_t n : {1, 3, 4, 5, 8, 9, 17, 40}) {
    SessionPtr s = createSession(model());
    Tokens history = someTokens(size_t(n), uint32_t(n));
    EXPECT_EQ(evalAll(s.get(), history), fake::expectedRows(history, 0, n)) << n;
    EXPECT_EQ(bitnet__public_session_n_past(s.get()), n);
  }
}

TEST_F(RuntimeSession, LogitsModesWriteExactlyTheirRows) {
  Tokens history = someTokens(10, 3);
  const size_t V = size_t(fake::kVocab);
  const float canary = 12345.5f;
  // ALL: n rows, nothing after.
  SessionPtr all = createSession(model());
  std::vector<float> buffer(10 * V + 8, canary);
  ASSERT_EQ(bitnet__public_eval(all.get(), history.data(), 10, buffer.data(), BITNET_LOGITS_ALL), BITNET_OK);
  EXPECT_EQ(std::vector<float>(buffer.begin(), buffer.begin() + 10 * V), fake::expectedRows(history, 0, 10));
  for (size_t i = 10 * V; i < buffer.size(); ++i) EXPECT_EQ(buffer[i], canary);
  // LAST: one row.
  SessionPtr last = createSession(model());
  std::vector<float> one(V + 8, canary);
  ASSERT_EQ(bitnet__public_eval(last.get(), history.data(), 10, one.data(), BITNET_LOGITS_LAST), BITNET_OK);
  EXPECT_EQ(std::vector<float>(one.begin(), one.begin() + V), fake::expectedRow(history, 9));
  for (size_t i = V; i < one.size(); ++i) EXPECT_EQ(one[i], canary);
  // NONE: logits may be NULL; the cache is filled all the same.
  SessionPtr none = createSession(model());
  ASSERT_EQ(bitnet__public_eval(none.get(), history.data(), 10, nullptr, BITNET_LOGITS_NONE), BITNET_OK);
  EXPECT_EQ(bitnet__public_session_n_past(none.get()), 10);
  history.push_back(7);
  EXPECT_EQ(evalLast(none.get(), {7}), fake::expectedRow(history, 10));
  // NONE with a buffer leaves it alone.
  std::vector<float> untouched(V, canary);
  ASSERT_EQ(bitnet__public_eval(none.get(), history.data(), 2, untouched.data(), BITNET_LOGITS_NONE), BITNET_OK);
  for (float f : untouched) EXPECT_EQ(f, canary);
}

TEST_F(RuntimeSession, SessionsHaveTheirOwnContext) {
  SessionPtr small = createSession(model(), 5);
  SessionPtr large = createSession(model(), 10);
  SessionPtr full = createSession(model(), 0);  // the model's maximum
  Tokens a = someTokens(5, 4), b = someTokens(8, 5);
  EXPECT_EQ(evalAll(small.get(), a), fake::expectedRows(a, 0, 5));
  EXPECT_EQ(fake::lastStateRows(), 5);
  EXPECT_EQ(evalAll(large.get(), b), fake::expectedRows(b, 0, 8));
  EXPECT_EQ(fake::lastStateRows(), 10);
  // small is full; large is not.
  int32_t t = 1;
  float logits[fake::kVocab];
  EXPECT_EQ(bitnet__public_eval(small.get(), &t, 1, logits, BITNET_LOGITS_LAST), BITNET_ERR_CONTEXT_FULL);
  EXPECT_TRUE(contains(bitnet__public_session_error(small.get()),
                       "1 tokens after the 5 in the cache exceed the session's context of 5 tokens"))
      << bitnet__public_session_error(small.get());
  EXPECT_EQ(bitnet__public_session_n_past(small.get()), 5);
  EXPECT_EQ(bitnet__public_eval(large.get(), &t, 1, logits, BITNET_LOGITS_LAST), BITNET_OK);
  // The default context is max_context.
  Tokens c = someTokens(size_t(fake::kMaxContext), 6);
  EXPECT_EQ(evalAll(full.get(), c), fake::expectedRows(c, 0, fake::kMaxContext));
  EXPECT_EQ(fake::lastStateRows(), fake::kMaxContext);
  EXPECT_EQ(bitnet__public_eval(full.get(), &t, 1, logits, BITNET_LOGITS_LAST), BITNET_ERR_CONTEXT_FULL);
}

TEST_F(RuntimeSession, ContextOverflowIsCheckedBeforeAnyWork) {
  SessionPtr s = createSession(model(), 8);
  Tokens first = someTokens(6, 7);
  evalAll(s.get(), first);
  Tokens more = someTokens(3, 8);
  std::vector<float> logits(3 * size_t(fake::kVocab), 0.5f);
  EXPECT_EQ(bitnet__public_eval(s.get(), more.data(), 3, logits.data(), BITNET_LOGITS_ALL),
            BITNET_ERR_CONTEXT_FULL);
  EXPECT_TRUE(contains(bitnet__public_session_error(s.get()), "3 tokens after the 6"));
  for (float f : logits) EXPECT_EQ(f, 0.5f);
  EXPECT_EQ(bitnet__public_session_n_past(s.get()), 6);
  // Two still fit.
  Tokens history = first;
  history.insert(history.end(), more.begin(), more.begin() + 2);
  EXPECT_EQ(evalAll(s.get(), {more[0], more[1]}), fake::expectedRows(history, 6, 2));
}

TEST_F(RuntimeSession, ResetAndTruncate) {
  SessionPtr s = createSession(model());
  Tokens history = someTokens(10, 9);
  evalAll(s.get(), history);
  ASSERT_EQ(bitnet__public_session_truncate(s.get(), 6), BITNET_OK);
  EXPECT_EQ(bitnet__public_session_n_past(s.get()), 6);
  Tokens tail = {11, 22, 33};
  history.resize(6);
  history.insert(history.end(), tail.begin(), tail.end());
  EXPECT_EQ(evalAll(s.get(), tail), fake::expectedRows(history, 6, 3));
  // Truncate to n_past: nothing changes; to 0: empty.
  ASSERT_EQ(bitnet__public_session_truncate(s.get(), 9), BITNET_OK);
  EXPECT_EQ(bitnet__public_session_n_past(s.get()), 9);
  ASSERT_EQ(bitnet__public_session_truncate(s.get(), 0), BITNET_OK);
  EXPECT_EQ(bitnet__public_session_n_past(s.get()), 0);
  // Reset: the same as a fresh session.
  Tokens other = someTokens(7, 10);
  evalAll(s.get(), other);
  ASSERT_EQ(bitnet__public_session_reset(s.get()), BITNET_OK);
  EXPECT_EQ(bitnet__public_session_n_past(s.get()), 0);
  Tokens again = someTokens(5, 11);
  EXPECT_EQ(evalAll(s.get(), again), fake::expectedRows(again, 0, 5));
}

TEST_F(RuntimeSession, TruncateBeyondNPastIsAnError) {
  SessionPtr s = createSession(model());
  evalAll(s.get(), someTokens(4, 12));
  EXPECT_EQ(bitnet__public_session_truncate(s.get(), 5), BITNET_ERR_INVALID_ARGUMENT);
  EXPECT_STREQ(bitnet__public_session_error(s.get()),
               "session_truncate: n_keep 5 is outside [0, n_past = 4]");
  EXPECT_EQ(bitnet__public_session_truncate(s.get(), -1), BITNET_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(bitnet__public_session_n_past(s.get()), 4);
  EXPECT_EQ(bitnet__public_session_truncate(nullptr, 0), BITNET_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(bitnet__public_session_reset(nullptr), BITNET_ERR_INVALID_ARGUMENT);
}

TEST_F(RuntimeSession, EvalMisuse) {
  SessionPtr s = createSession(model());
  evalAll(s.get(), {1, 2, 3});
  Tokens tokens = {4, 5, 6};
  std::vector<float> logits(3 * size_t(fake::kVocab));
  auto error = [&] { return std::string(bitnet__public_session_error(s.get())); };

  EXPECT_EQ(bitnet__public_eval(nullptr, tokens.data(), 3, logits.data(), BITNET_LOGITS_LAST),
            BITNET_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(bitnet__public_eval(s.get(), nullptr, 3, logits.data(), BITNET_LOGITS_LAST),
            BITNET_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(error(), "eval: tokens is NULL");
  EXPECT_EQ(bitnet__public_eval(s.get(), tokens.data(), 0, logits.data(), BITNET_LOGITS_LAST),
            BITNET_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(error(), "eval: n is 0, expected at least 1 token");
  EXPECT_EQ(bitnet__public_eval(s.get(), tokens.data(), -3, logits.data(), BITNET_LOGITS_LAST),
            BITNET_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(bitnet__public_eval(s.get(), tokens.data(), 3, nullptr, BITNET_LOGITS_LAST),
            BITNET_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(error(), "logits is NULL")) << error();
  EXPECT_EQ(bitnet__public_eval(s.get(), tokens.data(), 3, nullptr, BITNET_LOGITS_ALL),
            BITNET_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(bitnet__public_eval(s.get(), tokens.data(), 3, logits.data(), bitnet_logits_mode(7)),
            BITNET_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(error(), "logits mode 7")) << error();

  Tokens bad = {4, 5, -1};
  EXPECT_EQ(bitnet__public_eval(s.get(), bad.data(), 3, logits.data(), BITNET_LOGITS_LAST),
            BITNET_ERR_TOKEN_OUT_OF_RANGE);
  EXPECT_EQ(error(), "eval: token id -1 at index 2 is outside [0, 37)");
  bad = {int32_t(fake::kVocab), 5};
  EXPECT_EQ(bitnet__public_eval(s.get(), bad.data(), 2, logits.data(), BITNET_LOGITS_LAST),
            BITNET_ERR_TOKEN_OUT_OF_RANGE);
  EXPECT_EQ(error(), "eval: token id 37 at index 0 is outside [0, 37)");
  bad = {INT32_MIN};
  EXPECT_EQ(bitnet__public_eval(s.get(), bad.data(), 1, logits.data(), BITNET_LOGITS_LAST),
            BITNET_ERR_TOKEN_OUT_OF_RANGE);
  // An error keeps its message until the next error; n_past never moved.
  EXPECT_EQ(bitnet__public_session_n_past(s.get()), 3);
  Tokens history = {1, 2, 3, 4};
  EXPECT_EQ(evalLast(s.get(), {4}), fake::expectedRow(history, 3));
  EXPECT_TRUE(contains(error(), "token id")) << error();

  EXPECT_STREQ(bitnet__public_session_error(nullptr), "session is NULL");
  EXPECT_EQ(bitnet__public_session_n_past(nullptr), 0);
  bitnet__public_session_free(nullptr);  // no effect
}

TEST_F(RuntimeSession, CreateMisuse) {
  bitnet_session* s = reinterpret_cast<bitnet_session*>(0x1);
  EXPECT_EQ(bitnet__public_session_create(nullptr, nullptr, &s), BITNET_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(bitnet__public_session_create(model(), nullptr, nullptr), BITNET_ERR_INVALID_ARGUMENT);
  EXPECT_STREQ(bitnet__public_model_error(model()),
               "session_create: session (the result pointer) is NULL");
  auto rejects = [&](bitnet_session_options o, const char* message) {
    bitnet_session* out = reinterpret_cast<bitnet_session*>(0x1);
    EXPECT_EQ(bitnet__public_session_create(model(), &o, &out), BITNET_ERR_INVALID_ARGUMENT) << message;
    EXPECT_EQ(out, nullptr);
    EXPECT_TRUE(contains(bitnet__public_model_error(model()), message)) << bitnet__public_model_error(model());
  };
  rejects(sessionOptions(-1, 1), "n_ctx -1 is outside [0, 40]");
  rejects(sessionOptions(fake::kMaxContext + 1, 1), "n_ctx 41 is outside [0, 40]");
  rejects(sessionOptions(4, -2), "n_threads -2 is outside [0, 1024]");
  rejects(sessionOptions(4, 5000), "n_threads 5000");
  bitnet_session_options zero = sessionOptions(4, 1);
  zero.struct_size = 0;
  rejects(zero, "options->struct_size is 0");
  // NULL options: defaults.
  bitnet_session* ok = nullptr;
  ASSERT_EQ(bitnet__public_session_create(model(), nullptr, &ok), BITNET_OK);
  SessionPtr owned(ok);
  Tokens c = someTokens(size_t(fake::kMaxContext), 13);
  EXPECT_EQ(evalAll(ok, c), fake::expectedRows(c, 0, fake::kMaxContext));
}

TEST_F(RuntimeSession, ThreadCountsGiveTheSameLogits) {
  Tokens history = someTokens(23, 14);
  std::vector<float> expected = fake::expectedRows(history, 0, 23);
  for (int32_t threads : {1, 2, 3, 5, 0}) {
    SessionPtr s = createSession(model(), 0, threads);
    EXPECT_EQ(evalAll(s.get(), history), expected) << threads << " threads";
  }
}

TEST(RuntimeSessionFailure, ForwardErrorLeavesTheSessionAsItWas) {
  bitnet_model_desc d = fake::failingAtPosition6();
  ModelPtr m = openModel(d);
  SessionPtr s = createSession(m.get());
  Tokens history = someTokens(8, 15);
  // Chunks [0, 4) and [4, 8): the second reaches position 6.
  std::vector<float> logits(8 * size_t(fake::kVocab));
  EXPECT_EQ(bitnet__public_eval(s.get(), history.data(), 8, logits.data(), BITNET_LOGITS_ALL),
            BITNET_ERR_INTERNAL);
  EXPECT_STREQ(bitnet__public_session_error(s.get()),
               "eval: forward at position 4: fake forward fails at position 4 on purpose");
  EXPECT_EQ(bitnet__public_session_n_past(s.get()), 0);
  // What fits before position 6 works, and sees only its own tokens.
  Tokens other = someTokens(6, 16);
  EXPECT_EQ(evalAll(s.get(), other), fake::expectedRows(other, 0, 6));
}

TEST(RuntimeSessionFailure, UnknownStatusFromForwardIsInternal) {
  bitnet_model_desc d = fake::returningStatus99();
  ModelPtr m = openModel(d);
  SessionPtr s = createSession(m.get());
  int32_t t = 0;
  EXPECT_EQ(bitnet__public_eval(s.get(), &t, 1, nullptr, BITNET_LOGITS_NONE), BITNET_ERR_INTERNAL);
  EXPECT_STREQ(bitnet__public_session_error(s.get()), "eval: forward returned the unknown status 99");
  EXPECT_EQ(bitnet__public_session_n_past(s.get()), 0);
}

TEST_F(RuntimeSession, TwoSessionsOnTwoThreadsEqualSerial) {
  Tokens a = someTokens(37, 17), b = someTokens(29, 18);
  // Each thread: a prefill of the first part, then decode of the rest, all logits kept.
  auto run = [&](const Tokens& history, std::vector<float>& out) {
    SessionPtr s = createSession(model(), 0, 2);
    const size_t prefill = history.size() / 2;
    out = evalAll(s.get(), Tokens(history.begin(), history.begin() + long(prefill)));
    for (size_t i = prefill; i < history.size(); ++i) {
      std::vector<float> row = evalLast(s.get(), {history[i]});
      out.insert(out.end(), row.begin(), row.end());
    }
  };
  std::vector<float> serialA, serialB, threadA, threadB;
  run(a, serialA);
  run(b, serialB);
  for (int round = 0; round < 5; ++round) {
    std::thread ta([&] { run(a, threadA); });
    std::thread tb([&] { run(b, threadB); });
    ta.join();
    tb.join();
    EXPECT_EQ(threadA, serialA) << round;
    EXPECT_EQ(threadB, serialB) << round;
  }
  EXPECT_EQ(serialA, fake::expectedRows(a, 0, int64_t(a.size())));
  EXPECT_EQ(serialB, fake::expectedRows(b, 0, int64_t(b.size())));
}

}  // namespace
