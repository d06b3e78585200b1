#include "core/json_writer.h"


#include "core/ascii.h"
#include "core/utf8.h"

namespace keyledger {

namespace {

bool IsPlain(std::string_view text) { return PlainAsciiPrefix(text) == text.size(); }

// The general case: runs of plain ASCII copied at once, escapes and invalid UTF-8 in between.
void AppendEscapedSlow(std::string& out, std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t i = 0;
  while (i < value.size()) {
    const size_t run = i + PlainAsciiPrefix(value.substr(i));
    if (run > i) {
      out.append(value.data() + i, run - i);
      i = run;
      continue;
    }
    const unsigned char c = static_cast<unsigned char>(value[i]);
    if (c >= 0x80) {
      const size_t len = Utf8SequenceLength(value, i);
      if (len == 0) {
        out.append("\xEF\xBF\xBD");  // U+FFFD
        ++i;
      } else {
        out.append(value.substr(i, len));
        i += len;
      }
      continue;
    }
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      case '\b': out.append("\\b"); break;
      case '\f': out.append("\\f"); break;
      default: {
        const char escape[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out.append(escape, sizeof escape);
      }
    }
    ++i;
  }
  out.push_back('"');
}

// Appends `count` bytes to `out` with one capacity check and returns where they start; the caller
// overwrites them all.
char* Extend(std::string& out, size_t count) {
  const size_t old = out.size();
  out.append(count, '"');
  return out.data() + old;
}

char* Copy(char* at, std::string_view text) {
  __builtin_memcpy(at, text.data(), text.size());
  return at + text.size();
}

// Writes [,]"key": over bytes from Extend (its quotes are in place) and returns what follows.
char* PutKey(char* at, bool comma, std::string_view key) {
  if (comma) *at++ = ',';
  at = Copy(at + 1, key) + 1;
  *at++ = ':';
  return at;
}

}  // namespace

// Nearly every key and value is plain ASCII (names, ids, enum names, timestamps, hex): a separator
// and a quoted string then go in as one append, where the general path costs a capacity check and
// a call per punctuation byte (they were ~40% of the instructions of encoding an event).
void JsonWriter::AppendEscaped(std::string& out, std::string_view value) {
  if (!IsPlain(value)) return AppendEscapedSlow(out, value);
  char* p = Extend(out, value.size() + 2);
  Copy(p + 1, value);  // both quotes are already in place
}

bool JsonWriter::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return false;
  }
  if (first_in_scope_.empty()) return false;
  const bool comma = !first_in_scope_.back();
  first_in_scope_.back() = false;
  return comma;
}

void JsonWriter::Punctuate(bool comma, char c) {
  const char both[] = {',', c};
  out_.append(comma ? both : both + 1, comma ? 2 : 1);
}

JsonWriter& JsonWriter::BeginObject() {
  Punctuate(BeforeValue(), '{');
  first_in_scope_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::EndObject() {
  out_.push_back('}');
  first_in_scope_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::BeginArray() {
  Punctuate(BeforeValue(), '[');
  first_in_scope_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::EndArray() {
  out_.push_back(']');
  first_in_scope_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::Key(std::string_view key) {
  const bool comma = BeforeValue();
  if (IsPlain(key)) {
    PutKey(Extend(out_, comma + key.size() + 3), comma, key);
  } else {
    if (comma) out_.push_back(',');
    AppendEscapedSlow(out_, key);
    out_.push_back(':');
  }
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::String(std::string_view value) {
  if (BeforeValue()) out_.push_back(',');
  AppendEscaped(out_, value);
  return *this;
}

JsonWriter& JsonWriter::Field(std::string_view key, std::string_view value) {
  if (!IsPlain(key) || !IsPlain(value)) return Key(key).String(value);
  const bool comma = BeforeValue();
  // [,]"key":"value"
  char* p = PutKey(Extend(out_, comma + key.size() + value.size() + 5), comma, key);
  Copy(p + 1, value);
  return *this;
}

JsonWriter& JsonWriter::AppendNumber(bool negative, uint64_t magnitude) {
  char buf[24];
  char* end = buf + sizeof buf;
  char* p = end;
  do {
    *--p = static_cast<char>('0' + magnitude % 10);
    magnitude /= 10;
  } while (magnitude != 0);
  if (negative) *--p = '-';
  if (BeforeValue()) *--p = ',';
  out_.append(p, static_cast<size_t>(end - p));
  return *this;
}

JsonWriter& JsonWriter::Int(int64_t value) {
  // The magnitude of INT64_MIN does not fit an int64_t; computed in unsigned arithmetic it does.
  const uint64_t magnitude = value < 0 ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
  return AppendNumber(value < 0, magnitude);
}

JsonWriter& JsonWriter::Uint(uint64_t value) { return AppendNumber(false, value); }

JsonWriter& JsonWriter::Bool(bool value) { return Raw(value ? "true" : "false"); }

JsonWriter& JsonWriter::Null() { return Raw("null"); }

JsonWriter& JsonWriter::Raw(std::string_view json) {
  if (BeforeValue()) {
    char* p = Extend(out_, json.size() + 1);
    *p = ',';
    Copy(p + 1, json);
  } else {
    out_.append(json);
  }
  return *this;
}

JsonWriter& JsonWriter::StringArray(std::string_view key, const std::vector<std::string>& values) {
  Key(key).BeginArray();
  for (const auto& v : values) String(v);
  return EndArray();
}

}  // namespace keyledger
