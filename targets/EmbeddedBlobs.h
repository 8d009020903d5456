// Files bitnetc carries inside its own binary (cmake/Bitcode.cmake, bitnetc_embed_files): the
// runtime and kernel bitcode per target arch ("runtime_x86_64", "kernels_aarch64", ...) and the
// host tokenizer archive ("tokenizer_shim_x86_64"). No install tree to find at run time.
#pragma once
#include <optional>
#include <string_view>

namespace bitnetc::target {

std::optional<std::string_view> embeddedBlob(std::string_view name);

}  // namespace bitnetc::target
