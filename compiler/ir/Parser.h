// Parses the .bir text form of docs/IR.md into a verified module. Errors are
// "FILE:LINE:COL: message" (unknown opcode, unknown value, redefinition, bad type, bad attribute,
// unterminated string, missing weight file, wrong number of dense elements, ...); the verifier's
// errors about an op carry the op's position too.
#pragma once
#include <memory>
#include <string>
#include <string_view>

#include "compiler/ir/IR.h"

namespace bitnetc {

// `file` names the source in messages; relative `external` paths resolve against `baseDir`
// (the current directory when empty).
std::unique_ptr<Module> parseModule(std::string_view text, const std::string& file,
                                    const std::string& baseDir = "");
// Reads and parses a .bir file; relative external paths resolve against its directory.
std::unique_ptr<Module> parseFile(const std::string& path);

}  // namespace bitnetc
