#pragma once
// A streaming JSON writer. Output is always valid JSON: strings are escaped per RFC 8259 and any
// invalid UTF-8 in them is replaced by U+FFFD. Field order is exactly the call order, which makes
// it the canonical encoding of events (events/codec.h) as well as the HTTP bodies.
// Not thread-safe; one writer per document.

#include <boost/container/small_vector.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace keyledger {

class JsonWriter {
 public:
  // Most documents (events, <Key>, error bodies) fit: saves the string's regrowth steps.
  JsonWriter() { out_.reserve(512); }

  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  // In an object, every value is preceded by Key().
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Uint(uint64_t value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  // Inserts already-encoded JSON verbatim. REQUIRES: `json` is one valid JSON value.
  JsonWriter& Raw(std::string_view json);

  JsonWriter& Field(std::string_view key, std::string_view value);
  JsonWriter& Field(std::string_view key, const char* value) { return Field(key, std::string_view(value)); }
  JsonWriter& Field(std::string_view key, int64_t value) { return Key(key).Int(value); }
  JsonWriter& Field(std::string_view key, int value) { return Key(key).Int(value); }
  JsonWriter& Field(std::string_view key, uint64_t value) { return Key(key).Uint(value); }
  JsonWriter& Field(std::string_view key, bool value) { return Key(key).Bool(value); }
  // String, or null when empty.
  JsonWriter& NullableField(std::string_view key, std::string_view value) {
    return value.empty() ? Key(key).Null() : Field(key, value);
  }
  JsonWriter& StringArray(std::string_view key, const std::vector<std::string>& values);

  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

  static void AppendEscaped(std::string& out, std::string_view value);

 private:
  // Whether the value (or key) about to be written needs a comma before it; records that the
  // current scope is no longer empty.
  bool BeforeValue();
  void Punctuate(bool comma, char c);
  JsonWriter& AppendNumber(bool negative, uint64_t magnitude);

  std::string out_;
  // One flag per open object/array (bytes, not bits: faster); inline up to 16 deep, so that a
  // writer costs one allocation, its output.
  boost::container::small_vector<char, 16> first_in_scope_;
  bool after_key_ = false;
};

}  // namespace keyledger
