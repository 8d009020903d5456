#include "compiler/ir/Parser.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include "compiler/ir/Lexer.h"
#include "compiler/ir/OpDefs.h"
#include "compiler/ir/Verifier.h"
#include "compiler/support/Error.h"

namespace bitnetc {

namespace {

class Parser {
 public:
  Parser(std::string_view text, const std::string& file, const std::string& baseDir)
      : file_(file), baseDir_(baseDir), tokens_(lex(text, file)) {}

  std::unique_ptr<Module> run() {
    parseHeader();
    while (peek().kind != Tok::Eof) parseItem();
    verify(*module_, [this](const Op& op) {
      auto it = opPositions_.find(&op);
      return it == opPositions_.end() ? std::string() : position(it->second);
    });
    return std::move(module_);
  }

 private:
  // ---- tokens ----
  const Token& peek(size_t ahead = 0) const {
    return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
  }
  const Token& next() {
    const Token& t = tokens_[pos_];
    if (pos_ + 1 < tokens_.size()) ++pos_;
    return t;
  }
  std::string position(const Token& t) const {
    return file_ + ":" + std::to_string(t.line) + ":" + std::to_string(t.col) + ": ";
  }
  template <typename... Parts>
  [[noreturn]] void errorAt(const Token& t, const Parts&... parts) const {
    fail(position(t), parts...);
  }
  std::string describe(const Token& t) const {
    switch (t.kind) {
      case Tok::Ident: return "'" + t.text + "'";
      case Tok::ValueName: return "%" + t.text;
      case Tok::AtName: return "@" + t.text;
      case Tok::DimName: return "?" + t.text;
      case Tok::Int:
      case Tok::Float: return "'" + t.text + "'";
      case Tok::String: return "a string";
      default: return std::string(tokName(t.kind));
    }
  }
  const Token& expect(Tok kind, std::string_view what = "") {
    if (peek().kind != kind)
      errorAt(peek(), "expected ", what.empty() ? tokName(kind) : what, ", got ", describe(peek()));
    return next();
  }
  bool accept(Tok kind) {
    if (peek().kind != kind) return false;
    next();
    return true;
  }
  bool isKeyword(std::string_view word, size_t ahead = 0) const {
    return peek(ahead).kind == Tok::Ident && peek(ahead).text == word;
  }
  const Token& expectKeyword(std::string_view word) {
    if (!isKeyword(word)) errorAt(peek(), "expected '", word, "', got ", describe(peek()));
    return next();
  }

  int64_t parseInt(const Token& t) const {
    int64_t v = 0;
    auto [end, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
    if (ec != std::errc() || end != t.text.data() + t.text.size())
      errorAt(t, "integer '", t.text, "' is out of range");
    return v;
  }
  const Token& expectInt(std::string_view what) { return expect(Tok::Int, what); }

  bool atNumber() const {
    return peek().kind == Tok::Int || peek().kind == Tok::Float ||
           (peek().kind == Tok::Ident && (peek().text == "inf" || peek().text == "nan"));
  }
  // The next token as a number of type T (float or double).
  template <typename T>
  T parseReal(std::string_view what) {
    if (!atNumber()) errorAt(peek(), "expected ", what, ", got ", describe(peek()));
    return realFrom<T>(next());
  }
  // A number token (int, float, inf, nan) as T, correctly rounded from its decimal text.
  template <typename T>
  T realFrom(const Token& t) const {
    T v{};
    auto [end, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
    if (end != t.text.data() + t.text.size() || (ec != std::errc() && ec != std::errc::result_out_of_range))
      errorAt(t, "bad number '", t.text, "'");
    if (ec == std::errc::result_out_of_range) errorAt(t, "number '", t.text, "' is out of range");
    return v;
  }

  // ---- top level ----
  void parseHeader() {
    if (!isKeyword("bir")) errorAt(peek(), "expected the header 'bir 1', got ", describe(peek()));
    next();
    const Token& v = expectInt("the format version");
    if (parseInt(v) != 1) errorAt(v, "unsupported .bir version ", v.text, " (this reader knows 1)");
  }

  void parseItem() {
    const Token& t = peek();
    if (isKeyword("module")) return parseModuleAttrs();
    if (isKeyword("dim")) return parseDim();
    if (isKeyword("weight")) return parseWeight();
    if (isKeyword("func")) return parseFunction();
    errorAt(t, "expected 'module', 'dim', 'weight' or 'func', got ", describe(t));
  }

  void parseModuleAttrs() {
    const Token& kw = next();
    if (sawModuleAttrs_) errorAt(kw, "module attributes given twice");
    sawModuleAttrs_ = true;
    if (peek().kind != Tok::LBrace) errorAt(peek(), "expected '{' after 'module', got ", describe(peek()));
    module_->attrs = parseAttrDict();
  }

  void parseDim() {
    next();
    const Token& name = expect(Tok::DimName, "a dynamic dim name like ?seq");
    for (const auto& [n, max] : module_->dims())
      if (n == name.text) errorAt(name, "redefinition of ?", name.text);
    expect(Tok::LessEqual);
    const Token& bound = expectInt("the dim's upper bound");
    const int64_t max = parseInt(bound);
    if (max < 1) errorAt(bound, "the bound of ?", name.text, " must be >= 1, got ", max);
    module_->declareDim(name.text, max);
  }

  // ---- types ----
  TensorType parseType() {
    const Token& start = peek();
    if (!isKeyword("tensor") && !isKeyword("ternary"))
      errorAt(start, "bad type: expected 'tensor<...>' or 'ternary<...>', got ", describe(start));
    const bool ternary = next().text == "ternary";
    expect(Tok::Less, "'<' in the type");
    TensorType type;
    type.dtype = DType::Ternary;
    for (;;) {
      const Token& t = peek();
      if (t.kind == Tok::Int) {
        const int64_t n = parseInt(next());
        if (n < 0) errorAt(t, "bad type: negative dim ", n);
        type.dims.push_back(Dim::fixed(n));
      } else if (t.kind == Tok::DimName) {
        next();
        bool found = false;
        for (const auto& [n, max] : module_->dims())
          if (n == t.text) type.dims.push_back(Dim::dynamic(n, max)), found = true;
        if (!found) errorAt(t, "bad type: the dynamic dim ?", t.text, " is not declared (dim ?", t.text, " <= N)");
      } else if (t.kind == Tok::Ident && !ternary) {
        auto dt = dtypeFromName(t.text);
        if (!dt || *dt == DType::Ternary) errorAt(t, "bad type: unknown element type '", t.text, "'");
        next();
        type.dtype = *dt;
        expect(Tok::Greater, "'>' after the element type");
        return type;
      } else if (t.kind == Tok::Greater && ternary) {
        next();
        return type;
      } else {
        errorAt(t, "bad type: expected ", ternary ? "a dim or '>'" : "a dim or an element type",
                ", got ", describe(t));
      }
      if (ternary && peek().kind == Tok::Greater) {
        next();
        return type;
      }
      if (!isKeyword("x")) errorAt(peek(), "bad type: expected 'x' between dims, got ", describe(peek()));
      next();
    }
  }

  // ---- attributes ----
  AttributeList parseAttrDict() {
    expect(Tok::LBrace);
    AttributeList attrs;
    if (accept(Tok::RBrace)) return attrs;
    for (;;) {
      const Token& name = expect(Tok::Ident, "an attribute name");
      if (attrs.has(name.text)) errorAt(name, "bad attribute: '", name.text, "' given twice");
      expect(Tok::Equal, "'=' after the attribute name");
      attrs.set(name.text, parseAttrValue());
      if (accept(Tok::RBrace)) return attrs;
      expect(Tok::Comma, "',' or '}'");
    }
  }

  Attribute parseAttrValue() {
    const Token& t = peek();
    if (t.kind == Tok::Int) return parseInt(next());
    if (t.kind == Tok::String) return next().text;
    if (isKeyword("true") || isKeyword("false")) return next().text == "true";
    if (atNumber()) return parseReal<double>("a number");
    if (t.kind == Tok::LBracket) {
      next();
      std::vector<const Token*> items;
      bool anyFloat = false;
      if (!accept(Tok::RBracket)) {
        for (;;) {
          if (!atNumber()) errorAt(peek(), "bad attribute: expected a number in the list, got ", describe(peek()));
          anyFloat |= peek().kind != Tok::Int;
          items.push_back(&next());
          if (accept(Tok::RBracket)) break;
          expect(Tok::Comma, "',' or ']'");
        }
      }
      if (!anyFloat) {
        std::vector<int64_t> ints;
        for (const Token* i : items) ints.push_back(parseInt(*i));
        return ints;
      }
      std::vector<double> floats;
      for (const Token* i : items) floats.push_back(realFrom<double>(*i));
      return floats;
    }
    errorAt(t, "bad attribute value ", describe(t),
            ": expected an int, float, string, true/false or a list");
  }

  // ---- weights ----
  void parseWeight() {
    next();
    const Token& name = expect(Tok::AtName, "a weight name like @w");
    if (module_->weightValue(name.text)) errorAt(name, "redefinition of @", name.text);
    expect(Tok::Colon, "':' after the weight name");
    const Token& typeTok = peek();
    Weight w;
    w.name = name.text;
    w.type = parseType();
    if (!w.type.isStatic()) errorAt(typeTok, "bad type: weight @", w.name, " has a dynamic dim");
    if (w.isTernary()) {
      if (w.type.rank() != 2) errorAt(typeTok, "bad type: ternary weights are 2-D, got ", w.type.str());
      expectKeyword("layout");
      const Token& layout = expect(Tok::String, "the layout name");
      if (!isKnownTernaryLayout(layout.text))
        errorAt(layout, "unknown ternary layout \"", layout.text, "\" (known: \"", kLayoutHFBlocked,
                "\", \"", kLayoutI8, "\")");
      w.layout = layout.text;
      expectKeyword("scale");
      const Token& rule = expect(Tok::Ident, "the scale rule none, mul or div");
      if (rule.text == "none") w.scaleRule = ScaleRule::None;
      else if (rule.text == "mul") w.scaleRule = ScaleRule::Mul;
      else if (rule.text == "div") w.scaleRule = ScaleRule::Div;
      else errorAt(rule, "unknown scale rule '", rule.text, "' (none, mul or div)");
      if (w.scaleRule != ScaleRule::None) w.scale = parseReal<float>("the scale");
    } else if (isKeyword("layout") || isKeyword("scale")) {
      errorAt(peek(), "only ternary weights have a layout and a scale");
    }
    expect(Tok::Equal, "'=' before the weight's data");
    if (isKeyword("dense")) parseDense(w);
    else if (isKeyword("external")) parseExternal(w);
    else errorAt(peek(), "expected 'dense<[...]>' or 'external \"FILE\" offset N', got ", describe(peek()));
    module_->addWeight(std::move(w));
  }

  void parseDense(Weight& w) {
    const Token& kw = next();
    expect(Tok::Less, "'<' after 'dense'");
    expect(Tok::LBracket, "'[' after 'dense<'");
    std::vector<const Token*> items;
    if (!accept(Tok::RBracket)) {
      for (;;) {
        if (!atNumber()) errorAt(peek(), "expected a number in dense<[...]>, got ", describe(peek()));
        items.push_back(&next());
        if (accept(Tok::RBracket)) break;
        expect(Tok::Comma, "',' or ']'");
      }
    }
    expect(Tok::Greater, "'>' after the dense values");
    const int64_t n = w.numElements();
    if (int64_t(items.size()) != n)
      errorAt(kw, "wrong number of dense elements for @", w.name, ": ", w.type.str(), " has ", n,
              " elements, got ", items.size());
    std::vector<uint8_t> bytes;
    if (w.isTernary()) {
      std::vector<int8_t> values;
      for (const Token* t : items) values.push_back(int8_t(intElement(*t, -1, 1, "ternary")));
      const auto shape = w.type.staticShape();
      bytes = packTernary(w.layout, shape[0], shape[1], values);
    } else {
      const size_t size = dtypeSize(w.type.dtype);
      bytes.resize(size * items.size());
      for (size_t i = 0; i < items.size(); ++i) {
        uint8_t* dst = bytes.data() + i * size;
        const Token& t = *items[i];
        switch (w.type.dtype) {
          case DType::F32: {
            const float f = realFrom<float>(t);
            std::memcpy(dst, &f, 4);
            break;
          }
          case DType::BF16:
          case DType::F16: {
            const float f = realFrom<float>(t);
            const uint16_t h = w.type.dtype == DType::BF16 ? floatToBf16(f) : floatToF16(f);
            std::memcpy(dst, &h, 2);
            break;
          }
          case DType::F64: {
            const double d = realFrom<double>(t);
            std::memcpy(dst, &d, 8);
            break;
          }
          case DType::I8: *dst = uint8_t(int8_t(intElement(t, -128, 127, "i8"))); break;
          case DType::U8: *dst = uint8_t(intElement(t, 0, 255, "u8")); break;
          case DType::Bool: *dst = uint8_t(intElement(t, 0, 1, "bool")); break;
          case DType::I16: storeAs<int16_t>(dst, intElement(t, INT16_MIN, INT16_MAX, "i16")); break;
          case DType::U16: storeAs<uint16_t>(dst, intElement(t, 0, UINT16_MAX, "u16")); break;
          case DType::U32: storeAs<uint32_t>(dst, intElement(t, 0, UINT32_MAX, "u32")); break;
          case DType::U64: {
            uint64_t v = 0;
            auto [end, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
            if (t.kind != Tok::Int || ec != std::errc() || end != t.text.data() + t.text.size())
              errorAt(t, "expected a u64 element in [0, 18446744073709551615], got ", describe(t));
            std::memcpy(dst, &v, 8);
            break;
          }
          case DType::I32: {
            const int32_t v = int32_t(intElement(t, INT32_MIN, INT32_MAX, "i32"));
            std::memcpy(dst, &v, 4);
            break;
          }
          default: {
            const int64_t v = intElement(t, INT64_MIN, INT64_MAX, "i64");
            std::memcpy(dst, &v, 8);
          }
        }
      }
    }
    std::string layout = w.layout;
    const ScaleRule rule = w.scaleRule;
    const float scale = w.scale;
    w = makeOwnedWeight(w.name, w.type, std::move(bytes));
    w.layout = layout;
    w.scaleRule = rule;
    w.scale = scale;
  }

  template <typename T>
  static void storeAs(uint8_t* dst, int64_t v) {
    const T x = T(v);
    std::memcpy(dst, &x, sizeof(T));
  }

  int64_t intElement(const Token& t, int64_t lo, int64_t hi, std::string_view type) const {
    if (t.kind != Tok::Int) errorAt(t, "expected an integer ", type, " element, got ", describe(t));
    const int64_t v = parseInt(t);
    if (v < lo || v > hi) errorAt(t, "the ", type, " element ", v, " is out of range [", lo, ", ", hi, "]");
    return v;
  }

  void parseExternal(Weight& w) {
    next();
    const Token& path = expect(Tok::String, "the weight file's path");
    expectKeyword("offset");
    const Token& offTok = expectInt("the byte offset");
    const int64_t offset = parseInt(offTok);
    if (offset < 0) errorAt(offTok, "negative offset ", offset);
    const std::string resolved =
        path.text.empty() || path.text[0] == '/' || baseDir_.empty() ? path.text : baseDir_ + "/" + path.text;
    std::shared_ptr<MappedFile> file;
    auto it = files_.find(resolved);
    if (it != files_.end()) {
      file = it->second;
    } else {
      try {
        file = MappedFile::open(resolved);
      } catch (const Error& e) {
        errorAt(path, "missing weight file \"", path.text, "\" for @", w.name, ": ", e.what());
      }
      files_[resolved] = file;
    }
    size_t bytes = 0;
    try {
      bytes = w.expectedBytes();
    } catch (const Error& e) {
      errorAt(path, e.what());
    }
    if (uint64_t(offset) > file->size() || bytes > file->size() - uint64_t(offset))
      errorAt(offTok, "weight @", w.name, " needs ", bytes, " bytes at offset ", offset, " but \"",
              path.text, "\" has ", file->size(), " bytes");
    w.file = file;
    w.filePath = path.text;
    w.fileOffset = uint64_t(offset);
    w.data = file->data() + offset;
    w.byteSize = bytes;
  }

  // ---- functions ----
  void parseFunction() {
    next();
    const Token& name = expect(Tok::AtName, "a function name like @forward");
    if (module_->function(name.text)) errorAt(name, "redefinition of @", name.text);
    Function* f = module_->addFunction(name.text);
    expect(Tok::LParen, "'(' before the inputs");
    parseParams(f, false);
    expect(Tok::Arrow, "'->' before the output types");
    expect(Tok::LParen, "'(' before the output types");
    std::vector<std::pair<const Token*, TensorType>> outputTypes;
    if (!accept(Tok::RParen)) {
      for (;;) {
        const Token* at = &peek();
        outputTypes.emplace_back(at, parseType());
        if (accept(Tok::RParen)) break;
        expect(Tok::Comma, "',' or ')'");
      }
    }
    if (isKeyword("state")) {
      next();
      expect(Tok::LParen, "'(' after 'state'");
      parseParams(f, true);
    }
    expect(Tok::LBrace, "'{' before the function body");
    while (!isKeyword("return")) {
      if (peek().kind == Tok::RBrace || peek().kind == Tok::Eof)
        errorAt(peek(), "expected 'return' before the end of @", f->name());
      parseOp(f);
    }
    const Token& ret = next();
    std::vector<Value*> outputs;
    std::vector<const Token*> outputToks;
    if (peek().kind != Tok::RBrace) {
      for (;;) {
        outputToks.push_back(&peek());
        outputs.push_back(parseOperand(f));
        if (!accept(Tok::Comma)) break;
      }
    }
    if (outputs.size() != outputTypes.size())
      errorAt(ret, "return has ", outputs.size(), " values but @", f->name(), " declares ",
              outputTypes.size(), " outputs");
    for (size_t i = 0; i < outputs.size(); ++i)
      if (!sameType(outputs[i]->type, outputTypes[i].second))
        errorAt(*outputToks[i], "return value ", i, " ", outputs[i]->ref(), " is ",
                outputs[i]->type.str(), " but @", f->name(), " declares ", outputTypes[i].second.str());
    f->setOutputs(std::move(outputs));
    expect(Tok::RBrace, "'}' after the return values");
  }

  // "%a: type, %b: type)" (the '(' is consumed).
  void parseParams(Function* f, bool states) {
    if (accept(Tok::RParen)) return;
    for (;;) {
      const Token& name = expect(Tok::ValueName, states ? "a state like %k_cache" : "an input like %x");
      if (f->lookup(name.text)) errorAt(name, "redefinition of %", name.text);
      expect(Tok::Colon, "':' after the name");
      TensorType type = parseType();
      if (states) f->addState(name.text, std::move(type));
      else f->addInput(name.text, std::move(type));
      if (accept(Tok::RParen)) return;
      expect(Tok::Comma, "',' or ')'");
    }
  }

  Value* parseOperand(Function* f) {
    const Token& t = peek();
    if (t.kind == Tok::ValueName) {
      next();
      Value* v = f->lookup(t.text);
      if (!v) errorAt(t, "unknown value %", t.text);
      return v;
    }
    if (t.kind == Tok::AtName) {
      next();
      Value* v = module_->weightValue(t.text);
      if (!v) errorAt(t, "unknown weight @", t.text);
      return v;
    }
    errorAt(t, "expected a %value or @weight, got ", describe(t));
  }

  void parseOp(Function* f) {
    const Token& first = peek();
    std::vector<const Token*> names;
    for (;;) {
      const Token& name = expect(Tok::ValueName, "an op result like %x (or 'return')");
      if (f->lookup(name.text)) errorAt(name, "redefinition of %", name.text);
      for (const Token* n : names)
        if (n->text == name.text) errorAt(name, "redefinition of %", name.text);
      names.push_back(&name);
      if (!accept(Tok::Comma)) break;
    }
    expect(Tok::Equal, "'=' after the results");
    const Token& opcode = expect(Tok::Ident, "an opcode");
    if (!findOpDef(opcode.text)) errorAt(opcode, "unknown opcode '", opcode.text, "'");
    expect(Tok::LParen, "'(' after the opcode");
    std::vector<Value*> operands;
    if (!accept(Tok::RParen)) {
      for (;;) {
        operands.push_back(parseOperand(f));
        if (accept(Tok::RParen)) break;
        expect(Tok::Comma, "',' or ')'");
      }
    }
    AttributeList attrs;
    if (peek().kind == Tok::LBrace) attrs = parseAttrDict();
    expect(Tok::Colon, "':' before the result types");
    std::vector<std::pair<std::string, TensorType>> results;
    for (size_t i = 0; i < names.size(); ++i) {
      if (i) expect(Tok::Comma, "one result type per result");
      results.emplace_back(names[i]->text, parseType());
    }
    if (peek().kind == Tok::Comma) errorAt(peek(), "more result types than results");
    Op* op = f->addOp(opcode.text, std::move(operands), std::move(results), std::move(attrs));
    opPositions_[op] = first;
  }

  std::string file_, baseDir_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  std::unique_ptr<Module> module_ = std::make_unique<Module>();
  bool sawModuleAttrs_ = false;
  std::map<std::string, std::shared_ptr<MappedFile>> files_;
  std::map<const Op*, Token> opPositions_;
};

}  // namespace

std::unique_ptr<Module> parseModule(std::string_view text, const std::string& file,
                                    const std::string& baseDir) {
  return Parser(text, file, baseDir).run();
}

std::unique_ptr<Module> parseFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) fail(path, ": cannot read");
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "" : path.substr(0, slash == 0 ? 1 : slash);
  return parseModule(text.str(), path, dir);
}

}  // namespace bitnetc
