// tokenizer_shim.cpp: the C interface of the tokenizer (bitnet_tokenizer_* in bitnet_abi.h) over
// bitnetc::Tokenizer, for the C runtime. No exception crosses it: each becomes a status and a
// message in the caller's buffer. Linked (as bitnetc_tokenizer_shim_pic) into host-target
// libraries only; the runtime declares these functions weak.
#include <cstdio>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "compiler/support/Error.h"
#include "runtime/abi/bitnet_abi.h"
#include "runtime/include/bitnet.h"
#include "runtime/tokenizer/Tokenizer.h"

struct bitnet_tokenizer {
  bitnetc::Tokenizer tokenizer;
};

namespace {

void writeError(char* error, size_t size, const char* what, const char* detail) {
  if (error && size > 0) std::snprintf(error, size, "%s%s", what, detail);
}

void bufferTooSmall(char* error, size_t size, const char* what, unsigned long long needed,
                    unsigned long long capacity) {
  if (error && size > 0)
    std::snprintf(error, size, "the text has %llu %s, the buffer holds %llu", needed, what, capacity);
}

// Runs body; turns an exception into a status, with bitnetc::Error (bad input) mapped to
// `inputError`.
template <typename Body>
int64_t guarded(char* error, size_t size, bitnet_status inputError, Body body) {
  try {
    return body();
  } catch (const bitnetc::Error& e) {
    writeError(error, size, "", e.what());
    return inputError;
  } catch (const std::bad_alloc&) {
    writeError(error, size, "out of memory", "");
    return BITNET_ERR_NO_MEMORY;
  } catch (const std::exception& e) {
    writeError(error, size, "internal error in the tokenizer: ", e.what());
    return BITNET_ERR_INTERNAL;
  } catch (...) {
    writeError(error, size, "internal error in the tokenizer", "");
    return BITNET_ERR_INTERNAL;
  }
}

}  // namespace

extern "C" {

bitnet_tokenizer* bitnet_tokenizer_create(const char* json, size_t json_bytes, char* error,
                                          size_t error_size) {
  if (!json) {
    writeError(error, error_size, "tokenizer.json is NULL", "");
    return nullptr;
  }
  bitnet_tokenizer* result = nullptr;
  guarded(error, error_size, BITNET_ERR_INVALID_ARGUMENT, [&]() -> int64_t {
    result = new bitnet_tokenizer{bitnetc::Tokenizer::fromJson(
        std::string_view(json, json_bytes), "tokenizer.json (embedded)")};
    return BITNET_OK;
  });
  return result;
}

void bitnet_tokenizer_free(bitnet_tokenizer* t) { delete t; }

int64_t bitnet_tokenizer_encode(const bitnet_tokenizer* t, const char* text, size_t text_len,
                                int32_t* tokens, int64_t capacity, int64_t* n_tokens,
                                char* error, size_t error_size) {
  if (!t || !n_tokens || (!text && text_len > 0) || capacity < 0 || (!tokens && capacity > 0)) {
    writeError(error, error_size, "bitnet_tokenizer_encode: invalid arguments", "");
    return BITNET_ERR_INVALID_ARGUMENT;
  }
  *n_tokens = 0;
  return guarded(error, error_size, BITNET_ERR_INVALID_ARGUMENT, [&]() -> int64_t {
    std::vector<int32_t> ids = t->tokenizer.encode(std::string_view(text ? text : "", text_len));
    *n_tokens = int64_t(ids.size());
    if (*n_tokens > capacity) {  // nothing written: the caller retries with *n_tokens
      bufferTooSmall(error, error_size, "tokens", ids.size(), (unsigned long long)capacity);
      return BITNET_ERR_BUFFER_TOO_SMALL;
    }
    if (!ids.empty()) std::memcpy(tokens, ids.data(), ids.size() * sizeof(int32_t));
    return BITNET_OK;
  });
}

int64_t bitnet_tokenizer_decode(const bitnet_tokenizer* t, const int32_t* tokens, int64_t n,
                                int32_t skip_special, char* text, size_t capacity,
                                size_t* n_bytes, char* error, size_t error_size) {
  if (!t || !n_bytes || n < 0 || (!tokens && n > 0) || (!text && capacity > 0)) {
    writeError(error, error_size, "bitnet_tokenizer_decode: invalid arguments", "");
    return BITNET_ERR_INVALID_ARGUMENT;
  }
  *n_bytes = 0;
  // The only bitnetc::Error decode throws is an id that is neither in the vocab nor added.
  return guarded(error, error_size, BITNET_ERR_TOKEN_OUT_OF_RANGE, [&]() -> int64_t {
    std::vector<int32_t> ids(tokens, tokens + n);
    std::string out;
    try {
      out = t->tokenizer.decode(ids, skip_special != 0);
    } catch (const bitnetc::Error&) {
      // Name the first unknown id with its index, as eval does (the caller's list may be long).
      for (int64_t i = 0; i < n; ++i) {
        try {
          (void)t->tokenizer.tokenString(tokens[i]);
        } catch (const bitnetc::Error&) {
          if (error && error_size > 0)
            std::snprintf(error, error_size,
                          "unknown token id %d at index %lld (the tokenizer's vocab size is %d)",
                          int(tokens[i]), (long long)i, int(t->tokenizer.vocabSize()));
          return BITNET_ERR_TOKEN_OUT_OF_RANGE;
        }
      }
      throw;
    }
    *n_bytes = out.size();
    if (out.size() > capacity) {  // nothing written: the caller retries with *n_bytes
      bufferTooSmall(error, error_size, "bytes", out.size(), capacity);
      return BITNET_ERR_BUFFER_TOO_SMALL;
    }
    if (!out.empty()) std::memcpy(text, out.data(), out.size());
    return BITNET_OK;
  });
}

}  // extern "C"
