// The tokenizer behind the runtime: the C shim (bitnet_tokenizer_*) against bitnetc::Tokenizer,
// and tokenize / detokenize of a model with and without an embedded tokenizer.json.
#include <fstream>
#include <sstream>
#include <thread>

#include "runtime/tokenizer/Tokenizer.h"
#include "runtime_test_util.h"

namespace {

using namespace bitnetc::test;
namespace fake = bitnetc::test::fake;
using Ids = std::vector<int32_t>;

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(BITNETC_SOURCE_DIR) + "/test/unit/Inputs/tokenizer/" + name);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_FALSE(text.str().empty()) << name;
  return text.str();
}

struct ShimFree {
  void operator()(bitnet_tokenizer* t) const { bitnet_tokenizer_free(t); }
};
using ShimPtr = std::unique_ptr<bitnet_tokenizer, ShimFree>;

ShimPtr createShim(const std::string& json) {
  char error[512] = "";
  ShimPtr t(bitnet_tokenizer_create(json.data(), json.size(), error, sizeof error));
  EXPECT_NE(t, nullptr) << error;
  return t;
}

TEST(RuntimeTokenizerShim, EncodeDecodeLikeTheTokenizer) {
  const std::string json = fixture("added-tokens.json");
  bitnetc::Tokenizer reference = bitnetc::Tokenizer::fromJson(json);
  ShimPtr t = createShim(json);
  for (std::string text : {"Hello world", "a [MASK] b<|endoftext|>", "New York word", "", "héllo ✓"}) {
    Ids want = reference.encode(text);
    Ids ids(want.size() + 3, -7);
    int64_t n = -1;
    char error[256] = "";
    ASSERT_EQ(bitnet_tokenizer_encode(t.get(), text.data(), text.size(), ids.data(),
                                      int64_t(ids.size()), &n, error, sizeof error),
              BITNET_OK)
        << error;
    ASSERT_EQ(n, int64_t(want.size()));
    EXPECT_EQ(Ids(ids.begin(), ids.begin() + n), want) << text;
    EXPECT_EQ(ids[size_t(n)], -7);
    for (int skip : {0, 1}) {
      std::string decoded(64, '#');
      size_t bytes = 0;
      ASSERT_EQ(bitnet_tokenizer_decode(t.get(), want.data(), int64_t(want.size()), skip,
                                        decoded.data(), decoded.size(), &bytes, error, sizeof error),
                BITNET_OK)
          << error;
      EXPECT_EQ(decoded.substr(0, bytes), reference.decode(want, skip != 0));
    }
  }
}

TEST(RuntimeTokenizerShim, BufferTooSmallReportsTheSize) {
  ShimPtr t = createShim(fixture("gpt2-style.json"));
  const std::string text = "hello hello world";
  int64_t n = 0;
  char error[256];
  ASSERT_EQ(bitnet_tokenizer_encode(t.get(), text.data(), text.size(), nullptr, 0, &n, error,
                                    sizeof error),
            BITNET_ERR_BUFFER_TOO_SMALL);
  ASSERT_GT(n, 1);
  EXPECT_EQ(std::string(error), "the text has " + std::to_string(n) + " tokens, the buffer holds 0");
  Ids ids(size_t(n - 1), -7);
  int64_t again = 0;
  EXPECT_EQ(bitnet_tokenizer_encode(t.get(), text.data(), text.size(), ids.data(), n - 1, &again,
                                    error, sizeof error),
            BITNET_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(again, n);
  for (int32_t id : ids) EXPECT_EQ(id, -7);  // nothing written
  Ids all(static_cast<size_t>(n));
  ASSERT_EQ(bitnet_tokenizer_encode(t.get(), text.data(), text.size(), all.data(), n, &again,
                                    error, sizeof error),
            BITNET_OK);
  size_t bytes = 0;
  char small[4] = "###";
  EXPECT_EQ(bitnet_tokenizer_decode(t.get(), all.data(), n, 0, small, 3, &bytes, error, sizeof error),
            BITNET_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(bytes, text.size());
  EXPECT_STREQ(small, "###");
}

TEST(RuntimeTokenizerShim, ErrorsBecomeStatuses) {
  ShimPtr t = createShim(fixture("gpt2-style.json"));
  char error[256] = "";
  int64_t n = 0;
  const std::string bad = "ab\xff";
  EXPECT_EQ(bitnet_tokenizer_encode(t.get(), bad.data(), bad.size(), nullptr, 0, &n, error, sizeof error),
            BITNET_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(error, "UTF-8")) << error;
  Ids unknown = {1, 99999};
  size_t bytes = 0;
  char text[16];
  EXPECT_EQ(bitnet_tokenizer_decode(t.get(), unknown.data(), 2, 0, text, sizeof text, &bytes, error,
                                    sizeof error),
            BITNET_ERR_TOKEN_OUT_OF_RANGE);
  EXPECT_TRUE(contains(error, "unknown token id 99999")) << error;
  EXPECT_EQ(bitnet_tokenizer_encode(nullptr, "a", 1, nullptr, 0, &n, error, sizeof error),
            BITNET_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(bitnet_tokenizer_decode(t.get(), nullptr, 2, 0, text, sizeof text, &bytes, error, sizeof error),
            BITNET_ERR_INVALID_ARGUMENT);
  const std::string broken = "{\"model\": ";
  EXPECT_EQ(bitnet_tokenizer_create(broken.data(), broken.size(), error, sizeof error), nullptr);
  EXPECT_TRUE(contains(error, "tokenizer.json (embedded)")) << error;
  EXPECT_EQ(bitnet_tokenizer_create(nullptr, 0, error, sizeof error), nullptr);
  bitnet_tokenizer_free(nullptr);
}

class RuntimeTokenize : public ::testing::Test {
 protected:
  void SetUp() override {
    json_ = fixture("added-tokens.json");
    desc_ = fake::withTokenizer(json_);
    model_ = openModel(desc_);
    ASSERT_NE(model_, nullptr);
  }
  std::string json_;
  bitnet_model_desc desc_;
  ModelPtr model_;
};

TEST_F(RuntimeTokenize, TokenizeAndDetokenize) {
  bitnet_model* m = model_.get();
  bitnet_model_info info{};
  info.struct_size = sizeof info;
  ASSERT_EQ(bitnet__public_model_info(m, &info), BITNET_OK);
  EXPECT_EQ(info.has_tokenizer, 1);
  bitnetc::Tokenizer reference = bitnetc::Tokenizer::fromJson(json_);
  const std::string text = "Hello [MASK] New York<|endoftext|>";
  Ids want = reference.encode(text);
  Ids ids(want.size());
  int64_t n = 0;
  ASSERT_EQ(bitnet__public_tokenize(m, text.data(), text.size(), ids.data(), int64_t(ids.size()), &n),
            BITNET_OK)
      << bitnet__public_model_error(m);
  EXPECT_EQ(ids, want);
  // Size query, then too small.
  EXPECT_EQ(bitnet__public_tokenize(m, text.data(), text.size(), nullptr, 0, &n),
            BITNET_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(n, int64_t(want.size()));
  EXPECT_TRUE(contains(bitnet__public_model_error(m), "tokenize: the text has")) << bitnet__public_model_error(m);
  std::string out(100, '\0');
  size_t bytes = 0;
  ASSERT_EQ(bitnet__public_detokenize(m, ids.data(), n, 1, out.data(), out.size(), &bytes), BITNET_OK);
  EXPECT_EQ(out.substr(0, bytes), reference.decode(want, true));
  ASSERT_EQ(bitnet__public_detokenize(m, ids.data(), n, 0, out.data(), out.size(), &bytes), BITNET_OK);
  EXPECT_EQ(out.substr(0, bytes), reference.decode(want, false));
  EXPECT_TRUE(contains(out.substr(0, bytes), "[MASK]New York<|endoftext|>"));
  ASSERT_EQ(bitnet__public_detokenize(m, ids.data(), 0, 0, nullptr, 0, &bytes), BITNET_OK);
  EXPECT_EQ(bytes, 0u);
  EXPECT_EQ(bitnet__public_tokenize(m, nullptr, 0, nullptr, 0, &n), BITNET_OK);
  EXPECT_EQ(n, 0);
}

TEST_F(RuntimeTokenize, Misuse) {
  bitnet_model* m = model_.get();
  int64_t n = 0;
  Ids ids(4);
  size_t bytes = 0;
  char text[8];
  EXPECT_EQ(bitnet__public_tokenize(nullptr, "a", 1, ids.data(), 4, &n), BITNET_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(bitnet__public_tokenize(m, "a", 1, ids.data(), 4, nullptr), BITNET_ERR_INVALID_ARGUMENT);
  EXPECT_STREQ(bitnet__public_model_error(m), "tokenize: n_tokens is NULL");
  EXPECT_EQ(bitnet__public_tokenize(m, nullptr, 3, ids.data(), 4, &n), BITNET_ERR_INVALID_ARGUMENT);
  EXPECT_STREQ(bitnet__public_model_error(m), "tokenize: text is NULL but text_len is 3");
  EXPECT_EQ(bitnet__public_tokenize(m, "a", 1, ids.data(), -1, &n), BITNET_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(bitnet__public_tokenize(m, "a", 1, nullptr, 4, &n), BITNET_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(bitnet__public_tokenize(m, "a\xc3", 2, ids.data(), 4, &n), BITNET_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(bitnet__public_model_error(m), "tokenize: ")) << bitnet__public_model_error(m);
  EXPECT_TRUE(contains(bitnet__public_model_error(m), "UTF-8")) << bitnet__public_model_error(m);
  Ids unknown = {-3};
  EXPECT_EQ(bitnet__public_detokenize(m, unknown.data(), 1, 0, text, sizeof text, &bytes),
            BITNET_ERR_TOKEN_OUT_OF_RANGE);
  EXPECT_TRUE(contains(bitnet__public_model_error(m), "detokenize: ")) << bitnet__public_model_error(m);
  EXPECT_EQ(bitnet__public_detokenize(m, ids.data(), -1, 0, text, sizeof text, &bytes), BITNET_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(bitnet__public_detokenize(m, nullptr, 2, 0, text, sizeof text, &bytes), BITNET_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(bitnet__public_detokenize(m, ids.data(), 1, 0, nullptr, 5, &bytes), BITNET_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(bitnet__public_detokenize(m, ids.data(), 1, 2, text, sizeof text, &bytes), BITNET_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(bitnet__public_detokenize(m, ids.data(), 1, 0, text, sizeof text, nullptr), BITNET_ERR_INVALID_ARGUMENT);
}

TEST_F(RuntimeTokenize, ConcurrentCallsFromManyThreads) {
  // The tokenizer is created by whichever call comes first; all see the same results.
  bitnet_model* m = model_.get();
  const std::string text = "the word New York and [MASK] again, the word";
  bitnetc::Tokenizer reference = bitnetc::Tokenizer::fromJson(json_);
  const Ids want = reference.encode(text);
  std::vector<Ids> got(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < got.size(); ++i)
    threads.emplace_back([&, i] {
      for (int round = 0; round < 50; ++round) {
        Ids ids(64);
        int64_t n = 0;
        if (bitnet__public_tokenize(m, text.data(), text.size(), ids.data(), 64, &n) != BITNET_OK) return;
        ids.resize(size_t(n));
        got[i] = ids;
      }
    });
  for (auto& t : threads) t.join();
  for (const Ids& ids : got) EXPECT_EQ(ids, want);
}

TEST(RuntimeTokenizeMissing, ModelWithoutTokenizer) {
  ModelPtr m = openModel(bitnet__model);
  bitnet_model_info info{};
  info.struct_size = sizeof info;
  ASSERT_EQ(bitnet__public_model_info(m.get(), &info), BITNET_OK);
  EXPECT_EQ(info.has_tokenizer, 0);
  int64_t n = 0;
  int32_t id;
  EXPECT_EQ(bitnet__public_tokenize(m.get(), "a", 1, &id, 1, &n), BITNET_ERR_UNSUPPORTED);
  EXPECT_STREQ(bitnet__public_model_error(m.get()),
               "tokenize: model 'fake' was compiled without a tokenizer (its checkpoint has no "
               "tokenizer.json)");
  size_t bytes = 0;
  id = 1;
  EXPECT_EQ(bitnet__public_detokenize(m.get(), &id, 1, 0, nullptr, 0, &bytes), BITNET_ERR_UNSUPPORTED);
}

TEST(RuntimeTokenizeMissing, BrokenEmbeddedTokenizer) {
  static const std::string broken = "{\"model\": {\"type\": \"Unigram\"}}";
  bitnet_model_desc d = fake::withTokenizer(broken);
  ModelPtr m = openModel(d);
  int64_t n = 0;
  EXPECT_EQ(bitnet__public_tokenize(m.get(), "a", 1, nullptr, 0, &n), BITNET_ERR_UNSUPPORTED);
  EXPECT_TRUE(contains(bitnet__public_model_error(m.get()),
                       "tokenize: the embedded tokenizer.json of model 'fake' cannot be loaded: "))
      << bitnet__public_model_error(m.get());
}

}  // namespace
