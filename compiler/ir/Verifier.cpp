#include "compiler/ir/Verifier.h"

#include <set>

#include "compiler/ir/Lexer.h"
#include "compiler/ir/OpDefs.h"
#include "compiler/support/Error.h"

namespace bitnetc {

namespace {

// Names must print as one token after their sigil.
void checkName(const std::string& name, const std::string& what) {
  bool ok = !name.empty();
  for (char c : name) ok = ok && isNameChar(c);
  if (!ok) fail("verifier: ", what, " has the name \"", name, "\" (allowed: letters, digits, _ . $)");
}

void checkDims(const Module& m, const TensorType& type, const std::string& where) {
  for (const Dim& d : type.dims) {
    if (!d.isDynamic()) {
      if (d.size < 0) fail("verifier: ", where, " has a negative dim in ", type.str());
      continue;
    }
    int64_t bound = -1;
    for (const auto& [name, max] : m.dims())
      if (name == d.name) bound = max;
    if (bound < 0) fail("verifier: ", where, " uses the undeclared dynamic dim ?", d.name);
    if (d.max != bound)
      fail("verifier: ", where, " uses ?", d.name, " with the bound ", d.max,
           " but the module declares ?", d.name, " <= ", bound);
  }
}

void checkWeight(const Weight& w) {
  const std::string where = "weight @" + w.name;
  checkName(w.name, where);
  if (!w.type.isStatic()) fail("verifier: ", where, " has the dynamic type ", w.type.str());
  if (w.isTernary()) {
    if (w.type.rank() != 2) fail("verifier: ", where, " is ", w.type.str(), ", expected 2-D");
    if (!isKnownTernaryLayout(w.layout))
      fail("verifier: ", where, " has the unknown ternary layout \"", w.layout, "\"");
  } else if (!w.layout.empty() || w.scaleRule != ScaleRule::None) {
    fail("verifier: ", where, " of type ", w.type.str(), " has a ternary layout or scale");
  }
  const size_t expected = w.expectedBytes();
  if (w.byteSize != expected)
    fail("verifier: ", where, " of type ", w.type.str(),
         w.isTernary() ? " in layout \"" + w.layout + "\"" : std::string(), " holds ", w.byteSize,
         " bytes, expected ", expected);
  if (expected > 0 && !w.data) fail("verifier: ", where, " has no data");
}

void checkFunction(const Module& m, const Function& f, const OpLocator& locate) {
  const std::string fn = "@" + f.name();
  checkName(f.name(), "function " + fn);
  std::set<const Value*> defined;
  for (const Value* v : f.inputs()) {
    checkName(v->name, fn + ": an input");
    checkDims(m, v->type, fn + ": input %" + v->name);
    if (v->type.dtype == DType::Ternary) fail("verifier: ", fn, ": input %", v->name, " is ternary");
    defined.insert(v);
  }
  for (const Value* v : f.states()) {
    checkName(v->name, fn + ": a state");
    checkDims(m, v->type, fn + ": state %" + v->name);
    if (!v->type.isStatic() || v->type.dtype == DType::Ternary)
      fail("verifier: ", fn, ": state %", v->name, " is ", v->type.str(), ", expected a static tensor type");
    defined.insert(v);
  }
  auto isDefined = [&](const Value* v) {
    if (!v) return false;
    if (v->isWeight()) return m.weightValue(v->name) == v;
    return defined.count(v) > 0 && f.lookup(v->name) == v;
  };
  for (const auto& op : f.ops()) {
    const std::string where = fn + ": " + op->describe();
    auto failAt = [&](const std::string& message) {
      fail(locate ? locate(*op) : std::string(), "verifier: ", where, ": ", message);
    };
    for (size_t i = 0; i < op->operands.size(); ++i) {
      const Value* v = op->operands[i];
      if (!isDefined(v))
        failAt("operand " + std::to_string(i) + " " + (v ? v->ref() : std::string("(null)")) +
               " is not defined before this op");
    }
    for (const Value* r : op->results) {
      checkName(r->name, where + ": a result");
      if (r->producer != op.get()) failAt("result %" + r->name + " does not point back to its op");
      try {
        checkDims(m, r->type, where);
      } catch (const Error& e) {
        fail(locate ? locate(*op) : std::string(), e.what());
      }
    }
    try {
      checkOp(*op);
    } catch (const Error& e) {
      failAt(e.what());
    }
    for (const Value* r : op->results) defined.insert(r);
  }
  for (size_t i = 0; i < f.outputs().size(); ++i) {
    const Value* v = f.outputs()[i];
    if (!isDefined(v))
      fail("verifier: ", fn, ": output ", i, " ", v ? v->ref() : std::string("(null)"),
           " is not defined in the function");
  }
}

}  // namespace

void verify(const Module& module, const OpLocator& locate) {
  for (const auto& [name, max] : module.dims()) {
    checkName(name, "dim ?" + name);
    if (max < 1) fail("verifier: dim ?", name, " has the bound ", max, ", expected >= 1");
  }
  for (const auto& w : module.weights()) checkWeight(*w);
  for (const auto& f : module.functions()) checkFunction(module, *f, locate);
}

}  // namespace bitnetc
