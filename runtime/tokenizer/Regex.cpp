#define PCRE2_CODE_UNIT_WIDTH 8
#include "runtime/tokenizer/Regex.h"

#include "compiler/support/Error.h"
#include "runtime/tokenizer/Utf8.h"

#include <pcre2.h>

namespace bitnetc {

namespace {
// Oniguruma's Unicode classes (Ruby syntax): \s is White_Space, which PCRE2's \s lacks U+0085;
// \w is Letter | Mark | Decimal_Number | Connector_Punctuation; \h is a hex digit.
constexpr const char* kSpaceSet = "\\t-\\r\\x{85}\\p{Z}";
constexpr const char* kWordSet = "\\p{L}\\p{M}\\p{Nd}\\p{Pc}";
constexpr const char* kHexSet = "0-9A-Fa-f";

struct MatchData {
  pcre2_match_data* data = pcre2_match_data_create(1, nullptr);
  pcre2_match_context* context = pcre2_match_context_create(nullptr);
  pcre2_jit_stack* jitStack = pcre2_jit_stack_create(32 * 1024, 4 * 1024 * 1024, nullptr);
  MatchData() {
    if (jitStack) pcre2_jit_stack_assign(context, nullptr, jitStack);
  }
  ~MatchData() {
    pcre2_match_data_free(data);
    pcre2_match_context_free(context);
    if (jitStack) pcre2_jit_stack_free(jitStack);
  }
};

std::string pcreErrorText(int code) {
  PCRE2_UCHAR buffer[256];
  pcre2_get_error_message(code, buffer, sizeof buffer);
  return reinterpret_cast<const char*>(buffer);
}
}  // namespace

struct Regex::Code {
  pcre2_code* code = nullptr;
  ~Code() { pcre2_code_free(code); }
};

std::string translateOniguruma(std::string_view p, const std::string& where) {
  std::string out;
  bool inClass = false;
  size_t i = 0;
  auto bad = [&](const std::string& what) {
    fail(where, ": regex construct ", what, " at offset ", i, " of pattern '", p,
         "' is not supported");
  };
  while (i < p.size()) {
    char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      char e = p[i + 1];
      std::string replacement;
      switch (e) {
        case 's': replacement = inClass ? kSpaceSet : std::string("[") + kSpaceSet + "]"; break;
        case 'S':
          // Inside a class PCRE2's \S is kept: it differs from Oniguruma's only for U+0085.
          replacement = inClass ? "\\S" : std::string("[^") + kSpaceSet + "]";
          break;
        case 'w': replacement = inClass ? kWordSet : std::string("[") + kWordSet + "]"; break;
        case 'W':
          if (inClass) bad("\\W inside a character class");
          replacement = std::string("[^") + kWordSet + "]";
          break;
        case 'h': replacement = inClass ? kHexSet : std::string("[") + kHexSet + "]"; break;
        case 'H':
          if (inClass) bad("\\H inside a character class");
          replacement = std::string("[^") + kHexSet + "]";
          break;
        case 'u': {
          // Oniguruma \uHHHH; PCRE2 spells it \x{HHHH}.
          if (i + 6 > p.size()) bad("truncated \\u escape");
          replacement = "\\x{" + std::string(p.substr(i + 2, 4)) + "}";
          out += replacement;
          i += 6;
          continue;
        }
        default: replacement = std::string(p.substr(i, 2));
      }
      out += replacement;
      i += 2;
      continue;
    }
    if (inClass) {
      if (c == '[') {
        if (i + 1 < p.size() && p[i + 1] == ':') {  // POSIX class [:alpha:], same in both
          size_t end = p.find(":]", i + 2);
          if (end == std::string_view::npos) bad("unterminated POSIX class");
          out += p.substr(i, end + 2 - i);
          i = end + 2;
          continue;
        }
        bad("nested character class");
      }
      if (c == '&' && i + 1 < p.size() && p[i + 1] == '&') bad("class intersection &&");
      if (c == ']') inClass = false;
      out += c;
      ++i;
      continue;
    }
    if (c == '[') {
      inClass = true;
      out += c;
      ++i;
      // A ']' right after '[' or '[^' is a literal in both syntaxes.
      if (i < p.size() && p[i] == '^') out += p[i++];
      if (i < p.size() && p[i] == ']') out += p[i++];
      continue;
    }
    out += c;
    ++i;
  }
  if (inClass) bad("unterminated character class");
  return out;
}

Regex Regex::fromOniguruma(std::string_view pattern, const std::string& where) {
  Regex r;
  r.where_ = where;
  r.pcrePattern_ = translateOniguruma(pattern, where);
  int errorCode = 0;
  PCRE2_SIZE errorOffset = 0;
  pcre2_compile_context* context = pcre2_compile_context_create(nullptr);
  pcre2_set_newline(context, PCRE2_NEWLINE_LF);
  // Oniguruma's Ruby syntax makes ^ and $ line anchors: PCRE2_MULTILINE.
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(r.pcrePattern_.data()),
                                   r.pcrePattern_.size(), PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE,
                                   &errorCode, &errorOffset, context);
  pcre2_compile_context_free(context);
  if (!code)
    fail(where, ": cannot compile regex '", pattern, "' (as PCRE2 '", r.pcrePattern_, "'): ",
         pcreErrorText(errorCode), " at offset ", errorOffset);
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // the interpreter runs it if JIT is unavailable
  r.code_ = std::make_unique<Code>();
  r.code_->code = code;
  return r;
}

Regex Regex::fromLiteral(std::string_view text, const std::string& where) {
  // \Q...\E quotes everything but a literal "\E", which is spelled out separately.
  std::string quoted;
  size_t start = 0;
  while (true) {
    size_t e = text.find("\\E", start);
    quoted += "\\Q" + std::string(text.substr(start, e - start)) + "\\E";
    if (e == std::string_view::npos) break;
    quoted += "\\\\E";
    start = e + 2;
  }
  return fromOniguruma(quoted, where);
}

std::vector<std::pair<size_t, size_t>> Regex::findAll(std::string_view subject) const {
  thread_local MatchData match;
  std::vector<std::pair<size_t, size_t>> matches;
  size_t searchFrom = 0;
  bool havePrevious = false;
  size_t previousEnd = 0;
  while (searchFrom <= subject.size()) {
    int rc = pcre2_match(code_->code, reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(),
                         searchFrom, PCRE2_NO_UTF_CHECK, match.data, match.context);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0)
      fail(where_, ": regex '", pcrePattern_, "' failed on a text of ", subject.size(),
           " bytes: ", pcreErrorText(rc));
    PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match.data);
    size_t start = ovector[0], end = ovector[1];
    if (start == end && havePrevious && previousEnd == end) {
      // No empty match right after the previous one: step over one character.
      if (searchFrom >= subject.size()) break;
      searchFrom += utf8::charLength(static_cast<unsigned char>(subject[searchFrom]));
      continue;
    }
    matches.emplace_back(start, end);
    havePrevious = true;
    previousEnd = end;
    searchFrom = end;
  }
  return matches;
}

Regex::~Regex() = default;
Regex::Regex(Regex&&) noexcept = default;
Regex& Regex::operator=(Regex&&) noexcept = default;

}  // namespace bitnetc
