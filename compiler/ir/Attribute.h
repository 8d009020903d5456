// Typed op attributes: integers, floats, strings, booleans and lists of integers or floats.
// Printed so that they parse back to the same value (floats in shortest round-trip form).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace bitnetc {

using Attribute = std::variant<int64_t, double, std::string, bool, std::vector<int64_t>,
                               std::vector<double>>;

// Attributes keep their insertion order, so printing is deterministic and round-trips.
class AttributeList {
 public:
  void set(std::string name, Attribute value);
  const Attribute* find(std::string_view name) const;
  bool has(std::string_view name) const { return find(name) != nullptr; }
  // Typed getters throw an Error naming the attribute when it is missing or of another type.
  int64_t getInt(std::string_view name) const;
  double getFloat(std::string_view name) const;  // accepts an integer attribute too
  const std::string& getString(std::string_view name) const;
  bool getBool(std::string_view name) const;
  const std::vector<int64_t>& getInts(std::string_view name) const;
  const std::vector<double>& getFloats(std::string_view name) const;
  // With a default when absent (still throws on a wrong type).
  int64_t getInt(std::string_view name, int64_t fallback) const;
  double getFloat(std::string_view name, double fallback) const;
  bool getBool(std::string_view name, bool fallback) const;

  const std::vector<std::pair<std::string, Attribute>>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }
  bool operator==(const AttributeList&) const = default;

 private:
  std::vector<std::pair<std::string, Attribute>> entries_;
};

std::string attributeTypeName(const Attribute& a);  // "int", "float", "string", ...

}  // namespace bitnetc
