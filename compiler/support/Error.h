// One error type for the whole compiler: a message that names the file, tensor, op or value
// at fault. Tools catch it at main() and print "error: <message>" with a non-zero exit.
#pragma once
#include <stdexcept>
#include <string>

namespace bitnetc {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Builds a message from pieces: fail("tensor '", name, "' has ", n, " dims").
template <typename... Parts>
[[noreturn]] void fail(const Parts&... parts);

}  // namespace bitnetc

#include <sstream>
namespace bitnetc {
template <typename... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  throw Error(out.str());
}
}  // namespace bitnetc
