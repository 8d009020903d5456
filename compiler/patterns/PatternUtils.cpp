#include "compiler/patterns/PatternUtils.h"

#include <sstream>

namespace bitnetc {

std::map<const Value*, int> countUses(const Function& f) {
  std::map<const Value*, int> uses;
  for (const auto& op : f.ops())
    for (const Value* v : op->operands) ++uses[v];
  for (const Value* v : f.outputs()) ++uses[v];
  return uses;
}

void replaceAllUses(Function& f, const Value* from, Value* to) {
  for (const auto& op : f.ops())
    for (Value*& v : op->operands)
      if (v == from) v = to;
  std::vector<Value*> outputs = f.outputs();
  bool changed = false;
  for (Value*& v : outputs)
    if (v == from) v = to, changed = true;
  if (changed) f.setOutputs(std::move(outputs));
}

Op* producedBy(const Value* v, std::string_view opcode) {
  if (!v || v->kind != Value::Kind::Result || !v->producer) return nullptr;
  return v->producer->opcode == opcode ? v->producer : nullptr;
}

bool isScalarLike(const TensorType& t) {
  for (const Dim& d : t.dims)
    if (d.isDynamic() || d.size != 1) return false;
  return true;
}

std::optional<float> scalarWeight(const Value* v) {
  if (!v || !v->isWeight() || !v->weight || !isFloat(v->type.dtype) || !isScalarLike(v->type)) return std::nullopt;
  return v->weight->floatAt(0);
}

std::string freshValueName(const Function& f, const std::string& base) {
  if (!f.lookup(base)) return base;
  for (int i = 1;; ++i) {
    std::string name = base + "." + std::to_string(i);
    if (!f.lookup(name)) return name;
  }
}

std::string freshWeightName(const Module& m, const std::string& base) {
  if (!m.weightValue(base)) return base;
  for (int i = 1;; ++i) {
    std::string name = base + "." + std::to_string(i);
    if (!m.weightValue(name)) return name;
  }
}

std::string numberText(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

}  // namespace bitnetc
