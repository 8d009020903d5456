// Streaming reader for tokenizer.json: builds the JSON tree for everything except the model's
// vocab and merges (hundreds of thousands of entries in Llama 3), which go straight into
// BpeTables. Halves loading time and memory compared with a full nlohmann tree.
#pragma once
#include "runtime/tokenizer/BpeModel.h"

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace bitnetc {

// Throws Error naming `name` if the text is not valid JSON.
nlohmann::json parseTokenizerJson(std::string_view text, const std::string& name, BpeTables& tables);

}  // namespace bitnetc
