#pragma once
// A fast path for decoding the commonest event, key.used, when its body is byte for byte what
// EncodeBody writes (fixed field order, no white space) and its strings are plain printable ASCII.
// Replay decodes millions of these; a general JSON parse costs several times more. Anything else,
// including every malformed body, is left to the general decoder, so both paths accept exactly
// the same bodies and produce the same events.

#include <string_view>

#include "events/event.h"

namespace keyledger {

// True when `body` was decoded into `out` (everything but out.hash); false to fall back, with
// `out` in an unspecified state. Assigns in place, so a reused `out` allocates nothing.
bool DecodeCanonicalKeyUsed(std::string_view body, Event& out);

}  // namespace keyledger
