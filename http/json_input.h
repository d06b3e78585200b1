#pragma once
// Strict reading of JSON request bodies: the body must be one object, every field must be known
// to the route and of the right type; otherwise an InvalidArgument names the field.
//
// Values are read with a per-thread simdjson parser: read everything you need before the handler
// returns or parses another body on the same thread.

#include <simdjson.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "events/event.h"

namespace keyledger::http {

class JsonInput {
 public:
  // An empty body reads as {} when `allow_empty`.
  static Result<JsonInput> Parse(std::string_view body, std::initializer_list<std::string_view> known,
                                 bool allow_empty = false);

  Status String(std::string_view field, std::optional<std::string>& out) const;
  Status Int(std::string_view field, std::optional<int64_t>& out) const;
  Status StringArray(std::string_view field, std::optional<std::vector<std::string>>& out) const;
  Status StringMap(std::string_view field, std::optional<Metadata>& out) const;

 private:
  explicit JsonInput(simdjson::dom::object object) : object_(object) {}
  simdjson::dom::object object_;
};

}  // namespace keyledger::http
