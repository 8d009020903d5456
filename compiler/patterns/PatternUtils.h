// Small helpers the rewriting passes (canonicalize, constant-fold, fuse-bitlinear) share: use
// counts, replacing uses, reading constants out of weights, fresh names.
#pragma once
#include <map>
#include <optional>
#include <string>

#include "compiler/ir/IR.h"

namespace bitnetc {

// How many times each value is read in f: as an operand (once per operand slot) or an output.
std::map<const Value*, int> countUses(const Function& f);

// Makes every op of f and every output read `to` instead of `from`.
void replaceAllUses(Function& f, const Value* from, Value* to);

// The op producing v if it is a result of an op with this opcode, else nullptr.
Op* producedBy(const Value* v, std::string_view opcode);

// True if every dim is a static 1 (a scalar, [1], [1, 1], ...): broadcasts like a scalar.
bool isScalarLike(const TensorType& t);

// The value of a float weight with one element (scalar-like type), else nullopt.
std::optional<float> scalarWeight(const Value* v);

// A value name not used in f yet: base, else base.1, base.2, ...
std::string freshValueName(const Function& f, const std::string& base);
// A weight name not used in m yet: base, else base.1, base.2, ...
std::string freshWeightName(const Module& m, const std::string& base);

// A number as remarks print it (shortest stream form: 0.25, 1e-05).
std::string numberText(double v);

}  // namespace bitnetc
