#include "http/json_input.h"

#include "core/token.h"

namespace keyledger::http {
namespace {

Status TypeError(std::string_view field, const char* what) {
  return Status::Invalid(std::string(field) + " must be " + what + ".", std::string(field));
}

// JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool IsJsonNumber(std::string_view t) {
  size_t i = 0;
  const auto digits = [&] {
    const size_t start = i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
    return i > start;
  };
  if (i < t.size() && t[i] == '-') ++i;
  if (i < t.size() && t[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < t.size() && t[i] == '.' && (++i, !digits())) return false;
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == t.size();
}

// The top-level field whose number the DOM parser could not read (beyond 64 bits, or a float
// beyond a double), found with the on-demand parser, which reads numbers only when asked; empty
// when the number lies deeper, inside an array or object.
std::string FieldWithUnreadableNumber(std::string_view body) {
  simdjson::ondemand::parser parser;
  const simdjson::padded_string padded(body);
  simdjson::ondemand::document doc;
  simdjson::ondemand::object object;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS || doc.get_object().get(object) != simdjson::SUCCESS) {
    return "";
  }
  for (auto field : object) {
    std::string_view key;
    simdjson::ondemand::value value;
    simdjson::ondemand::json_type type;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS || field.value().get(value) != simdjson::SUCCESS ||
        value.type().get(type) != simdjson::SUCCESS) {
      return "";
    }
    simdjson::ondemand::number number;
    if (type == simdjson::ondemand::json_type::number && value.get_number().get(number) != simdjson::SUCCESS) {
      // Only a well-formed number (`01` or `1.` is malformed JSON, not a large number).
      const std::string_view token = value.raw_json_token();
      return IsJsonNumber(token.substr(0, token.find_last_not_of(" \t\r\n") + 1)) ? std::string(key) : "";
    }
  }
  return "";
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
  if (const auto error = parser.parse(body.data(), body.size()).get(root); error != simdjson::SUCCESS) {
    if (error == simdjson::NUMBER_ERROR || error == simdjson::NUMBER_OUT_OF_RANGE) {
      if (std::string field = FieldWithUnreadableNumber(body); !field.empty()) {
        return Status::Invalid(field + " holds a number too large to read.", field);
      }
    }
    return Status::Invalid("The request body is not valid JSON.");
  }
  simdjson::dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) {
    return Status::Invalid("The request body must be a JSON object.");
  }
  // A field given twice is refused: which of the two counts is a parser's choice (simdjson's
  // lookup takes the first), and a proxy or client library in front may have read the other.
  uint64_t seen = 0;  // bit i: known[i]
  for (auto [key, value] : object) {
    size_t i = 0;
    for (std::string_view k : known) {
      if (k == key) break;
      ++i;
    }
    if (i == known.size()) {
      // An error never echoes a token, even one a client sent as a field's name.
      if (ContainsToken(key)) return Status::Invalid("Unknown field (its name is not shown: it holds a token).");
      return Status::Invalid("Unknown field \"" + std::string(key) + "\".", std::string(key));
    }
    if (i < 64 && (seen >> i & 1) != 0) {
      return Status::Invalid("Field \"" + std::string(key) + "\" is given more than once.", std::string(key));
    }
    seen |= i < 64 ? uint64_t{1} << i : 0;
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

Status JsonInput::StringMap(std::string_view field, std::optional<Metadata>& out) const {
  simdjson::dom::element e;
  if (object_.at_key(field).get(e) != simdjson::SUCCESS || e.is_null()) return Status::Ok();
  simdjson::dom::object map;
  if (e.get_object().get(map) != simdjson::SUCCESS) {
    return TypeError(field, "an object of string values");
  }
  Metadata entries;
  for (auto [key, value] : map) {
    std::string_view s;
    if (value.get_string().get(s) != simdjson::SUCCESS) {
      return TypeError(field, "an object of string values");
    }
    entries.emplace_back(std::string(key), std::string(s));
  }
  out = std::move(entries);
  return Status::Ok();
}

}  // namespace keyledger::http
