// Regular expressions for pre-tokenizers, run by PCRE2 (UTF + UCP, JIT when available).
// tokenizer.json patterns are written for Oniguruma (the Rust `tokenizers` crate); the few
// constructs whose meaning differs in PCRE2 are rewritten (see translateOniguruma) and the ones
// that cannot be expressed are rejected with an error naming them.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bitnetc {

class Regex {
 public:
  // Compiles an Oniguruma pattern. `where` names the place in tokenizer.json for errors.
  static Regex fromOniguruma(std::string_view pattern, const std::string& where);
  // A pattern that matches `text` literally (Split's {"String": ...}).
  static Regex fromLiteral(std::string_view text, const std::string& where);

  // All matches, as Oniguruma's find_iter reports them: leftmost-first, non-overlapping, empty
  // matches included except one right at the end of the previous match. `subject` must be
  // valid UTF-8 (checked by the caller).
  std::vector<std::pair<size_t, size_t>> findAll(std::string_view subject) const;

  const std::string& pcrePattern() const { return pcrePattern_; }

  ~Regex();
  Regex(Regex&&) noexcept;
  Regex& operator=(Regex&&) noexcept;

 private:
  Regex() = default;
  struct Code;
  std::unique_ptr<Code> code_;
  std::string pcrePattern_;
  std::string where_;
};

// Rewrites an Oniguruma (Ruby syntax) pattern into PCRE2 syntax with the same meaning:
// \s \S \w \W \h \H take Oniguruma's Unicode definitions, \uHHHH becomes \x{HHHH}. Throws Error
// for nested classes, class intersections (&&) and \H inside a class.
std::string translateOniguruma(std::string_view pattern, const std::string& where);

}  // namespace bitnetc
