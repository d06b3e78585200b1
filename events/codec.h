#pragma once
// Encoding of events, on disk and over HTTP.
//
// On-disk value of column family `events` (key: 8-byte big-endian seq):
//
//   byte 0       format version, 0x01
//   bytes 1..32  hash = SHA-256(prev_hash ‖ body), raw 32 bytes
//   bytes 33..   body: the canonical JSON of the event, UTF-8, exactly as EncodeBody writes it:
//                {"seq":N,"ts":"<RFC 3339 ms>","type":"key.created","workspace":"acme"|null,
//                 "key_id":"key_…"|null,"actor":"…"|null,"data":{…},"prev_hash":"<64 hex>"}
//                Field order is fixed, there is no insignificant white space, and `data` fields
//                are written in the order of the structs in events/event.h, absent optional
//                fields omitted. The body is what is hashed, so any change to it — one byte —
//                breaks the chain at that event.
//
// The HTTP `<Event>` object is the body with `"hash":"<64 hex>"` appended.

#include <string>
#include <string_view>

#include "core/status.h"
#include "events/event.h"

namespace keyledger {

inline constexpr uint8_t kEventFormatVersion = 1;
inline constexpr size_t kStoredHeaderSize = 1 + 32;

// REQUIRES: event.seq, ts and prev_hash set. Deterministic: the same event gives the same bytes.
std::string EncodeBody(const Event& event);
inline Digest ChainHash(const Digest& prev_hash, std::string_view body) {
  return Sha256(AsBytes(prev_hash), body);
}
std::string EncodeStoredValue(const Digest& hash, std::string_view body);

// Splits a stored value into (hash, body) without parsing. InvalidArgument when too short or of an
// unknown format version.
struct StoredParts {
  Digest hash;
  std::string_view body;
};
Result<StoredParts> SplitStoredValue(std::string_view value);

// Parses a body (and takes the hash from `hash`). Thread-safe (per-thread parser).
Result<Event> DecodeBody(std::string_view body, const Digest& hash);
Result<Event> DecodeStoredValue(std::string_view value);

// `<Event>` for HTTP and exports: the body with the hash appended.
std::string EventToApiJson(std::string_view body, const Digest& hash);

}  // namespace keyledger
