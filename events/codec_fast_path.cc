#include "events/codec_fast_path.h"

#include <cstring>

#include "core/ascii.h"
#include "core/hex.h"
#include "core/time_format.h"

namespace keyledger {
namespace {

// Reads a canonical body left to right; every step fails on anything unexpected.
class Cursor {
 public:
  explicit Cursor(std::string_view in) : in_(in) {}

  // Short literals compile to a few loads; GCC calls memcmp for the longer ones, which measured
  // no slower (BM_DecodeUsed) than comparing them in inlined 8-byte words.
  template <size_t N>
  bool Literal(const char (&text)[N]) {
    constexpr size_t n = N - 1;
    if (in_.size() < n || std::memcmp(in_.data(), text, n) != 0) return false;
    in_.remove_prefix(n);
    return true;
  }
  // A JSON number as EncodeBody writes a seq: digits, no leading zero, within 64 bits.
  bool Uint(uint64_t& out) {
    size_t n = 0;
    uint64_t v = 0;
    while (n < in_.size() && in_[n] >= '0' && in_[n] <= '9') {
      const uint64_t digit = static_cast<uint64_t>(in_[n] - '0');
      if (v > (UINT64_MAX - digit) / 10) return false;
      v = v * 10 + digit;
      ++n;
    }
    if (n == 0 || (n > 1 && in_[0] == '0')) return false;
    in_.remove_prefix(n);
    out = v;
    return true;
  }
  // A quoted string of printable ASCII without escapes (else the general decoder handles it).
  bool PlainString(std::string_view& out) {
    if (in_.empty() || in_[0] != '"') return false;
    // Up to the closing quote, every byte printable ASCII and no backslash.
    const size_t end = 1 + PlainAsciiPrefix(in_.substr(1));
    if (end == in_.size() || in_[end] != '"') return false;
    out = in_.substr(1, end - 1);
    in_.remove_prefix(end + 1);
    return true;
  }
  // null (read as empty) or a plain string.
  bool NullableString(std::string_view& out) {
    if (Literal("null")) {
      out = {};
      return true;
    }
    return PlainString(out);
  }
  bool at_end() const { return in_.empty(); }

 private:
  std::string_view in_;
};

}  // namespace

bool DecodeCanonicalKeyUsed(std::string_view body, Event& out) {
  Cursor c(body);
  uint64_t seq = 0;
  std::string_view ts, workspace, key_id, actor, outcome, ability, source_ip, hex;
  if (!c.Literal("{\"seq\":") || !c.Uint(seq) || !c.Literal(",\"ts\":") || !c.PlainString(ts) ||
      !c.Literal(",\"type\":\"key.used\",\"workspace\":") || !c.NullableString(workspace) ||
      !c.Literal(",\"key_id\":") || !c.NullableString(key_id) || !c.Literal(",\"actor\":") ||
      !c.NullableString(actor) || !c.Literal(",\"data\":{\"outcome\":") || !c.PlainString(outcome)) {
    return false;
  }
  if (c.Literal(",\"ability\":") && !c.PlainString(ability)) return false;
  if (c.Literal(",\"source_ip\":") && !c.PlainString(source_ip)) return false;
  if (!c.Literal("},\"prev_hash\":") || !c.PlainString(hex) || !c.Literal("}") || !c.at_end()) return false;
  // A log's events mostly share their minute with the one before (see Rfc3339StreamParser).
  thread_local Rfc3339StreamParser times;
  const std::optional<TimeMs> time = times.Parse(ts);
  const std::optional<UseOutcome> parsed_outcome = ParseUseOutcome(outcome);
  Digest prev_hash;
  if (!time || !parsed_outcome || hex.size() != 64 || !HexToBytesInto(hex, prev_hash.data())) {
    return false;
  }
  // Assigned in place: a reused `out` keeps its strings' buffers.
  out.seq = seq;
  out.ts = *time;
  out.workspace.assign(workspace);
  out.key_id.assign(key_id);
  out.actor.assign(actor);
  out.prev_hash = prev_hash;
  KeyUsed* used = std::get_if<KeyUsed>(&out.data);
  if (!used) used = &out.data.emplace<KeyUsed>();
  used->outcome = *parsed_outcome;
  used->ability.assign(ability);
  used->source_ip.assign(source_ip);
  return true;
}

}  // namespace keyledger
