#include "projections/validation.h"

#include "core/utf8.h"

#include <set>
#include <string>

namespace keyledger {

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
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7F) {
      return Status::Invalid("Control characters are not allowed here.", std::string(field));
    }
  }
  if (min_chars > 0 && value.find_first_not_of(' ') == std::string_view::npos) {
    return Status::Invalid("Text must not be only spaces.", std::string(field));
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
  return Status::Ok();
}

}  // namespace keyledger
