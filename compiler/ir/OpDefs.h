// The op registry: for every opcode of docs/IR.md its operand and result counts, its typed
// attributes and a type rule. The type rule computes the result types an op must have from its
// operands and attributes (throwing an Error naming the operand at fault), so the verifier, the
// parser and the frontends all check ops the same way.
#pragma once
#include <string_view>
#include <vector>

#include "compiler/ir/IR.h"

namespace bitnetc {

enum class AttrKind : uint8_t { Int, Float, String, Bool, Ints, Floats };
std::string_view attrKindName(AttrKind k);  // "int", "float", ... as attributeTypeName()

struct AttrDef {
  std::string_view name;
  AttrKind kind;
  bool required;
};

struct OpDef {
  std::string_view opcode;
  int numOperands;  // -1: variadic, at least one (concat)
  int numResults;
  std::vector<AttrDef> attrs;
  // Operand indices that must be function states (the op may write them: attention's KV cache).
  std::vector<unsigned> stateOperands;
  // The result types the op must have, given its operands and attributes (counts and attributes
  // are already checked when this runs). Throws an Error without a prefix, e.g.
  // "operand 1 @w is tensor<8 x f32>, expected ...".
  std::vector<TensorType> (*inferResults)(const Op& op);
  // More operands the op may take, up to this count (0: exactly numOperands): bitlinear's
  // optional residual.
  int maxOperands = 0;
};

const std::vector<OpDef>& allOpDefs();
const OpDef* findOpDef(std::string_view opcode);  // nullptr if unknown
const OpDef& getOpDef(std::string_view opcode);   // throws "unknown opcode 'x'"

// Checks one op: opcode known, operand/result counts, attributes (unknown, missing, wrong kind),
// state operands, operand types and the declared result types against the inferred ones.
// Throws an Error without a prefix (the verifier adds function and op).
void checkOp(const Op& op);

// Dims are equal when both static with the same size or both dynamic with the same name.
bool sameDim(const Dim& a, const Dim& b);
bool sameType(const TensorType& a, const TensorType& b);

}  // namespace bitnetc
