#include "http/json_input.h"

namespace keyledger::http {
namespace {

Status TypeError(std::string_view field, const char* what) {
  return Status::Invalid(std::string(field) + " must be " + what + ".", std::string(field));
}

}  // namespace

Result<JsonInput> JsonInput::Parse(std::string_view body, std::initializer_list<std::string_view> known,
                                   bool allow_empty) {
  thread_local simdjson::dom::parser parser;
  if (body.empty()) {
    if (!allow_empty) return Status::Invalid("The request body must be a JSON object.");
    body = "{}";
  }
  simdjson::dom::element root;
  if (parser.parse(body.data(), body.size()).get(root) != simdjson::SUCCESS) {
    return Status::Invalid("The request body is not valid JSON.");
  }
  simdjson::dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) {
    return Status::Invalid("The request body must be a JSON object.");
  }
  for (auto [key, value] : object) {
    bool found = false;
    for (std::string_view k : known) found = found || k == key;
    if (!found) {
      return Status::Invalid("Unknown field \"" + std::string(key) + "\".", std::string(key));
    }
  }
  return JsonInput(object);
}

Status JsonInput::String(std::string_view field, std::optional<std::string>& out) const {
  simdjson::dom::element e;
  if (object_.at_key(field).get(e) != simdjson::SUCCESS || e.is_null()) return Status::Ok();
  std::string_view s;
  if (e.get_string().get(s) != simdjson::SUCCESS) return TypeError(field, "a string");
  out = std::string(s);
  return Status::Ok();
}

Status JsonInput::Int(std::string_view field, std::optional<int64_t>& out) const {
  simdjson::dom::element e;
  if (object_.at_key(field).get(e) != simdjson::SUCCESS || e.is_null()) return Status::Ok();
  int64_t v;
  if (e.get_int64().get(v) != simdjson::SUCCESS) return TypeError(field, "an integer");
  out = v;
  return Status::Ok();
}

Status JsonInput::StringArray(std::string_view field, std::optional<std::vector<std::string>>& out) const {
  simdjson::dom::element e;
  if (object_.at_key(field).get(e) != simdjson::SUCCESS || e.is_null()) return Status::Ok();
  simdjson::dom::array array;
  if (e.get_array().get(array) != simdjson::SUCCESS) return TypeError(field, "an array of strings");
  std::vector<std::string> values;
  for (simdjson::dom::element item : array) {
    std::string_view s;
    if (item.get_string().get(s) != simdjson::SUCCESS) return TypeError(field, "an array of strings");
    values.emplace_back(s);
  }
  out = std::move(values);
  return Status::Ok();
}

Status JsonInput::StringMap(std::string_view field, Metadata& out) const {
  simdjson::dom::element e;
  if (object_.at_key(field).get(e) != simdjson::SUCCESS || e.is_null()) return Status::Ok();
  simdjson::dom::object map;
  if (e.get_object().get(map) != simdjson::SUCCESS) {
    return TypeError(field, "an object of string values");
  }
  for (auto [key, value] : map) {
    std::string_view s;
    if (value.get_string().get(s) != simdjson::SUCCESS) {
      return TypeError(field, "an object of string values");
    }
    out.emplace_back(std::string(key), std::string(s));
  }
  return Status::Ok();
}

}  // namespace keyledger::http
