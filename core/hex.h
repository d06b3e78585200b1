#pragma once
// Lower-case hex encoding of bytes, and its strict inverse.

#include <optional>
#include <string>
#include <string_view>

namespace keyledger {

std::string BytesToHex(std::string_view bytes);
// The same digits into out[0 .. 2·bytes.size()), without allocating.
void BytesToHexInto(std::string_view bytes, char* out);
// nullopt unless `hex` is an even number of hex digits (either case).
std::optional<std::string> HexToBytes(std::string_view hex);
// Decodes `hex` into out[0 .. hex.size()/2); false (out partly written) unless `hex` is an even
// number of hex digits. Sixteen digits per step where SSE2 is available: replay decodes a
// 64-digit hash per event.
bool HexToBytesInto(std::string_view hex, unsigned char* out);

}  // namespace keyledger
