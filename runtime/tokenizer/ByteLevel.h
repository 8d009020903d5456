// GPT-2's reversible byte <-> printable character map used by the ByteLevel pre-tokenizer
// (bytes -> characters before BPE) and the ByteLevel decoder (characters -> bytes).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bitnetc::bytelevel {

// Code point that byte b is written as: printable Latin-1 bytes map to themselves, the other
// 68 bytes to U+0100.. in byte order (so ' ' is U+0120 'Ġ', '\n' is U+010A 'Ċ').
char32_t charForByte(uint8_t b);

// The UTF-8 encoding of charForByte(b).
const std::string& utf8ForByte(uint8_t b);

// Appends the byte-level form of `text` (each byte replaced by its character) to `out`.
void encode(std::string_view text, std::string& out);

// The bytes a byte-level token stands for, or nullopt if one of its characters is not in the
// map (the Rust ByteLevel decoder then keeps the token's own UTF-8 bytes).
std::optional<std::string> decodeToken(std::string_view token);

// Position of byte b in GPT-2's byte-token order ('!' is 0, 'Ġ' is 220): the ids of the 256
// base tokens in GPT-2 style vocabularies. Used by tests and fixtures.
int byteOrderIndex(uint8_t b);

}  // namespace bitnetc::bytelevel
