#include "compiler/ir/Attribute.h"

#include "compiler/support/Error.h"

namespace bitnetc {

void AttributeList::set(std::string name, Attribute value) {
  for (auto& [key, existing] : entries_) {
    if (key == name) {
      existing = std::move(value);
      return;
    }
  }
  entries_.emplace_back(std::move(name), std::move(value));
}

const Attribute* AttributeList::find(std::string_view name) const {
  for (const auto& [key, value] : entries_)
    if (key == name) return &value;
  return nullptr;
}

std::string attributeTypeName(const Attribute& a) {
  static const char* names[] = {"int", "float", "string", "bool", "int list", "float list"};
  return names[a.index()];
}

namespace {
template <typename T>
const T& getAs(const AttributeList& list, std::string_view name, const char* wanted) {
  const Attribute* a = list.find(name);
  if (!a) fail("missing attribute '", name, "'");
  if (const T* v = std::get_if<T>(a)) return *v;
  fail("attribute '", name, "' is a ", attributeTypeName(*a), ", expected a ", wanted);
}
}  // namespace

int64_t AttributeList::getInt(std::string_view name) const {
  return getAs<int64_t>(*this, name, "int");
}
double AttributeList::getFloat(std::string_view name) const {
  const Attribute* a = find(name);
  if (a && std::holds_alternative<int64_t>(*a)) return double(std::get<int64_t>(*a));
  return getAs<double>(*this, name, "float");
}
const std::string& AttributeList::getString(std::string_view name) const {
  return getAs<std::string>(*this, name, "string");
}
bool AttributeList::getBool(std::string_view name) const { return getAs<bool>(*this, name, "bool"); }
const std::vector<int64_t>& AttributeList::getInts(std::string_view name) const {
  return getAs<std::vector<int64_t>>(*this, name, "int list");
}
const std::vector<double>& AttributeList::getFloats(std::string_view name) const {
  return getAs<std::vector<double>>(*this, name, "float list");
}
int64_t AttributeList::getInt(std::string_view name, int64_t fallback) const {
  return has(name) ? getInt(name) : fallback;
}
double AttributeList::getFloat(std::string_view name, double fallback) const {
  return has(name) ? getFloat(name) : fallback;
}
bool AttributeList::getBool(std::string_view name, bool fallback) const {
  return has(name) ? getBool(name) : fallback;
}

}  // namespace bitnetc
