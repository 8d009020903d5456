// Prints a module in the .bir text form of docs/IR.md. The output parses back to the same module
// and prints again byte-identically: floats in shortest round-trip form, owned weights as
// dense<[...]> (logical values; exact for bf16/f16/ternary), file-backed ones as external.
#pragma once
#include <ostream>
#include <string>
#include <string_view>

#include "compiler/ir/IR.h"

namespace bitnetc {

void printModule(const Module& module, std::ostream& out);
std::string printModule(const Module& module);

// Pieces, shared with messages and passes (e.g. CSE keys on printed attributes).
std::string formatFloatAttr(double v);  // shortest round-trip, always with '.', 'e', inf or nan
std::string formatFloat(float v);       // shortest round-trip of an f32 (no forced ".0")
std::string quoteString(std::string_view s);
std::string printAttribute(const Attribute& a);
std::string printAttributes(const AttributeList& attrs);  // "{a = 1, b = [2, 3]}"; "" when empty

}  // namespace bitnetc
