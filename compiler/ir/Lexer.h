// Tokens of the .bir text form (docs/IR.md). Whitespace and newlines separate tokens; '#' starts
// a comment to the end of the line. Errors are "FILE:LINE:COL: message".
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bitnetc {

enum class Tok : uint8_t {
  Eof,
  Ident,      // bare word: keywords, opcodes, element types, attribute names, x, true, inf
  ValueName,  // %name (text without '%')
  AtName,     // @name: weights and functions (text without '@')
  DimName,    // ?name (text without '?')
  Int,        // -?[0-9]+
  Float,      // with '.', an exponent, or -inf / -nan
  String,     // text holds the unescaped contents
  LParen, RParen, LBrace, RBrace, LBracket, RBracket, Less, Greater, Comma, Colon, Equal,
  Arrow,      // ->
  LessEqual,  // <=
};

struct Token {
  Tok kind = Tok::Eof;
  std::string text;
  int line = 1, col = 1;
};

std::string_view tokName(Tok kind);  // "identifier", "'('", ... for messages

// Splits the whole text into tokens, ending with Eof. `file` names the source in errors.
std::vector<Token> lex(std::string_view text, const std::string& file);

// Names after a sigil: letters, digits, '_', '.', '$'.
bool isNameChar(char c);

}  // namespace bitnetc
