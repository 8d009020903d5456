// Helpers for the tokenizer tests: fixture paths and loading a fixture as editable JSON.
#pragma once
#include "runtime/tokenizer/Tokenizer.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace bitnetc::test {

inline std::string tokenizerFixture(const std::string& name) {
  return std::string(BITNETC_SOURCE_DIR) + "/test/unit/Inputs/tokenizer/" + name;
}

inline nlohmann::json loadFixtureJson(const std::string& name) {
  std::ifstream in(tokenizerFixture(name));
  std::stringstream text;
  text << in.rdbuf();
  return nlohmann::json::parse(text.str());
}

inline Tokenizer tokenizerFrom(const nlohmann::json& j) { return Tokenizer::fromJson(j.dump(), "test.json"); }

}  // namespace bitnetc::test
