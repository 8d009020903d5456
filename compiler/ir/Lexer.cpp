#include "compiler/ir/Lexer.h"

#include <cctype>

#include "compiler/support/Error.h"

namespace bitnetc {

bool isNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '$';
}

std::string_view tokName(Tok kind) {
  static constexpr std::string_view names[] = {
      "end of file", "identifier", "%value", "@name", "?dim", "integer", "float", "string",
      "'('", "')'", "'{'", "'}'", "'['", "']'", "'<'", "'>'", "','", "':'", "'='", "'->'", "'<='"};
  return names[static_cast<int>(kind)];
}

namespace {

class Lexer {
 public:
  Lexer(std::string_view text, const std::string& file) : text_(text), file_(file) {}

  std::vector<Token> run() {
    std::vector<Token> tokens;
    for (;;) {
      skipSpaceAndComments();
      Token t;
      t.line = line_;
      t.col = col_;
      if (pos_ >= text_.size()) {
        tokens.push_back(t);
        return tokens;
      }
      lexOne(t);
      tokens.push_back(std::move(t));
    }
  }

 private:
  [[noreturn]] void error(int line, int col, const std::string& message) const {
    fail(file_, ":", line, ":", col, ": ", message);
  }

  char peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }

  char advance() {
    const char c = text_[pos_++];
    if (c == '\n') {
      ++line_;
      col_ = 1;
    } else {
      ++col_;
    }
    return c;
  }

  void skipSpaceAndComments() {
    while (pos_ < text_.size()) {
      const char c = peek();
      if (c == '#') {
        while (pos_ < text_.size() && peek() != '\n') advance();
      } else if (std::isspace(static_cast<unsigned char>(c))) {
        advance();
      } else {
        return;
      }
    }
  }

  static bool isDigit(char c) { return c >= '0' && c <= '9'; }
  static bool isIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }

  void lexOne(Token& t) {
    const char c = peek();
    auto single = [&](Tok kind) {
      advance();
      t.kind = kind;
    };
    switch (c) {
      case '(': return single(Tok::LParen);
      case ')': return single(Tok::RParen);
      case '{': return single(Tok::LBrace);
      case '}': return single(Tok::RBrace);
      case '[': return single(Tok::LBracket);
      case ']': return single(Tok::RBracket);
      case '>': return single(Tok::Greater);
      case ',': return single(Tok::Comma);
      case ':': return single(Tok::Colon);
      case '=': return single(Tok::Equal);
      case '<':
        advance();
        t.kind = Tok::Less;
        if (peek() == '=') {
          advance();
          t.kind = Tok::LessEqual;
        }
        return;
      case '"': return lexString(t);
      case '%': return lexSigilName(t, Tok::ValueName);
      case '@': return lexSigilName(t, Tok::AtName);
      case '?': return lexSigilName(t, Tok::DimName);
      default: break;
    }
    if (c == '-' && peek(1) == '>') {
      advance();
      advance();
      t.kind = Tok::Arrow;
      return;
    }
    if (isDigit(c) || (c == '-' && (isDigit(peek(1)) || isIdentStart(peek(1))))) return lexNumber(t);
    if (isIdentStart(c)) {
      while (pos_ < text_.size() && (isIdentStart(peek()) || isDigit(peek()))) t.text += advance();
      t.kind = Tok::Ident;
      return;
    }
    error(t.line, t.col, std::string("unexpected character '") + c + "'");
  }

  void lexSigilName(Token& t, Tok kind) {
    const char sigil = advance();
    while (pos_ < text_.size() && isNameChar(peek())) t.text += advance();
    if (t.text.empty()) error(t.line, t.col, std::string("expected a name after '") + sigil + "'");
    t.kind = kind;
  }

  void lexNumber(Token& t) {
    if (peek() == '-') t.text += advance();
    if (isIdentStart(peek())) {  // -inf, -nan
      std::string word;
      while (pos_ < text_.size() && isIdentStart(peek())) word += advance();
      if (word != "inf" && word != "nan") error(t.line, t.col, "bad number '-" + word + "'");
      t.text += word;
      t.kind = Tok::Float;
      return;
    }
    t.kind = Tok::Int;
    while (isDigit(peek())) t.text += advance();
    if (peek() == '.') {
      t.kind = Tok::Float;
      t.text += advance();
      while (isDigit(peek())) t.text += advance();
    }
    if ((peek() == 'e' || peek() == 'E') &&
        (isDigit(peek(1)) || ((peek(1) == '+' || peek(1) == '-') && isDigit(peek(2))))) {
      t.kind = Tok::Float;
      t.text += advance();
      if (peek() == '+' || peek() == '-') t.text += advance();
      while (isDigit(peek())) t.text += advance();
    }
  }

  static int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  void lexString(Token& t) {
    advance();  // opening quote
    for (;;) {
      if (pos_ >= text_.size() || peek() == '\n') error(t.line, t.col, "unterminated string");
      const int line = line_, col = col_;
      const char c = advance();
      if (c == '"') break;
      if (c != '\\') {
        t.text += c;
        continue;
      }
      if (pos_ >= text_.size()) error(t.line, t.col, "unterminated string");
      const char e = advance();
      if (e == '"' || e == '\\') {
        t.text += e;
      } else if (e == 'n') {
        t.text += '\n';
      } else if (e == 'x' && hexValue(peek()) >= 0 && hexValue(peek(1)) >= 0) {
        const int hi = hexValue(advance());
        const int lo = hexValue(advance());
        t.text += char(hi * 16 + lo);
      } else {
        error(line, col, std::string("bad escape '\\") + e + "' in string");
      }
    }
    t.kind = Tok::String;
  }

  std::string_view text_;
  const std::string& file_;
  size_t pos_ = 0;
  int line_ = 1, col_ = 1;
};

}  // namespace

std::vector<Token> lex(std::string_view text, const std::string& file) {
  return Lexer(text, file).run();
}

}  // namespace bitnetc
