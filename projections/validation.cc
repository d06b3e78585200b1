#include "projections/validation.h"

#include "core/token.h"
#include "core/utf8.h"

#include <set>
#include <string>

namespace keyledger {
namespace {

// The code point of the well-formed sequence of `len` bytes at s[i].
char32_t CodePointAt(std::string_view s, size_t i, size_t len) {
  const auto b = [&](size_t k) { return static_cast<char32_t>(static_cast<unsigned char>(s[k])); };
  switch (len) {
    case 1: return b(i);
    case 2: return (b(i) & 0x1F) << 6 | (b(i + 1) & 0x3F);
    case 3: return (b(i) & 0x0F) << 12 | (b(i + 1) & 0x3F) << 6 | (b(i + 2) & 0x3F);
    default:
      return (b(i) & 0x07) << 18 | (b(i + 1) & 0x3F) << 12 | (b(i + 2) & 0x3F) << 6 |
             (b(i + 3) & 0x3F);
  }
}

// C0 and C1 controls, DEL, and the bidirectional embeddings, overrides and isolates, which
// would let a name display in another order than it is stored ("Trojan Source").
bool IsControl(char32_t c) {
  return c < 0x20 || (c >= 0x7F && c <= 0x9F) || (c >= 0x202A && c <= 0x202E) ||
         (c >= 0x2066 && c <= 0x2069);
}

// Spaces and characters that show as nothing: a name made only of them looks empty.
bool IsBlank(char32_t c) {
  return c == ' ' || c == 0xA0 || c == 0xAD || c == 0x115F || c == 0x1160 || c == 0x1680 ||
         c == 0x180E || (c >= 0x2000 && c <= 0x200F) || c == 0x2028 || c == 0x2029 ||
         c == 0x202F || (c >= 0x205F && c <= 0x2064) || c == 0x3000 || c == 0x3164 ||
         c == 0xFEFF;
}

// Whether `pred` holds for every code point of well-formed UTF-8 `s` (true when empty).
template <typename Pred>
bool AllCodePoints(std::string_view s, Pred pred) {
  for (size_t i = 0; i < s.size();) {
    const size_t len = Utf8SequenceLength(s, i);
    if (!pred(CodePointAt(s, i, len))) return false;
    i += len;
  }
  return true;
}

// Whether well-formed UTF-8 `s` holds a control (IsControl), line breaks and tabs excepted when
// `allow_layout`.
bool HasControl(std::string_view s, bool allow_layout) {
  return !AllCodePoints(s, [allow_layout](char32_t c) {
    return !IsControl(c) || (allow_layout && (c == '\t' || c == '\n' || c == '\r'));
  });
}

}  // namespace

size_t CharCount(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

bool IsValidWorkspaceId(std::string_view id) {
  if (id.size() < 2 || id.size() > 63) return false;
  const auto ok = [](char c, bool first) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (!first && c == '-');
  };
  if (!ok(id[0], true)) return false;
  for (char c : id.substr(1)) {
    if (!ok(c, false)) return false;
  }
  return true;
}

Status CheckText(std::string_view value, std::string_view field, size_t min_chars, size_t max_chars) {
  if (!IsValidUtf8(value)) return Status::Invalid("Text must be valid UTF-8.", std::string(field));
  const size_t n = CharCount(value);
  if (n < min_chars || n > max_chars) {
    std::string message(field);
    message[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(message[0])));
    if (min_chars > 0) {
      message += " must be " + std::to_string(min_chars) + " to " + std::to_string(max_chars) +
                 " characters.";
    } else {
      message += " must be at most " + std::to_string(max_chars) + " characters.";
    }
    return Status::Invalid(std::move(message), std::string(field));
  }
  if (HasControl(value, false)) {
    return Status::Invalid("Control characters are not allowed here.", std::string(field));
  }
  if (min_chars > 0 && AllCodePoints(value, IsBlank)) {
    return Status::Invalid("Text must not be only spaces or invisible characters.",
                           std::string(field));
  }
  // The log keeps everything for good: a token pasted here could never be taken out of it.
  if (ContainsToken(value)) {
    return Status::Invalid("Text must not contain an API token.", std::string(field));
  }
  return Status::Ok();
}

Status CheckMetadata(const Metadata& metadata) {
  if (metadata.size() > kMaxMetadataEntries) {
    return Status::Invalid("At most 50 metadata entries are allowed.", "metadata");
  }
  std::set<std::string_view> seen;
  for (const auto& [k, v] : metadata) {
    if (!IsValidUtf8(k) || !IsValidUtf8(v)) {
      return Status::Invalid("Metadata must be valid UTF-8.", "metadata");
    }
    if (k.empty() || CharCount(k) > kMaxMetadataKeyChars || CharCount(v) > kMaxMetadataValueChars) {
      return Status::Invalid("Metadata keys must be 1 to 64 characters and values at most 500.",
                             "metadata");
    }
    if (!seen.insert(k).second) return Status::Invalid("Metadata keys must be unique.", "metadata");
    // Reviewers read metadata in terminals and spreadsheets (audit --format csv, review): an
    // escape sequence or a bidi override there could rewrite what they see.
    if (HasControl(k, false) || HasControl(v, true)) {
      return Status::Invalid("Metadata must not contain control characters (values may hold tabs and line breaks).",
                             "metadata");
    }
    if (ContainsToken(k) || ContainsToken(v)) {
      return Status::Invalid("Metadata must not contain an API token.", "metadata");
    }
  }
  return Status::Ok();
}

Status CheckMaxExpiryDays(std::optional<int64_t> days) {
  if (days && (*days < 1 || *days > kMaxMaxExpiryDays)) {
    return Status::Invalid("max_expiry_days must be 1 to 3650.", "max_expiry_days");
  }
  return Status::Ok();
}

Status CheckIdempotencyKey(std::string_view key) {
  if (key.empty() || key.size() > 255) {
    return Status::Invalid("Idempotency-Key must be 1 to 255 characters.", "Idempotency-Key");
  }
  for (unsigned char c : key) {
    if (c < 0x21 || c > 0x7E) {
      return Status::Invalid("Idempotency-Key must be printable ASCII without spaces.",
                             "Idempotency-Key");
    }
  }
  // Stored in the created key's event, for good.
  if (ContainsToken(key)) {
    return Status::Invalid("Idempotency-Key must not contain an API token.", "Idempotency-Key");
  }
  return Status::Ok();
}

}  // namespace keyledger
