// Hex decoding, sixteen digits at a time where SSE2 is available: every byte value at every
// position of a string long enough for several steps and a tail must be told apart exactly.

#include <boost/test/unit_test.hpp>

#include <cctype>
#include <random>
#include <string>

#include "core/hex.h"

namespace keyledger {
namespace {

bool IsHexDigit(int c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

BOOST_AUTO_TEST_SUITE(hex)

BOOST_AUTO_TEST_CASE(bytes_survive_the_round_trip_at_every_length) {
  std::mt19937 random(7);
  for (size_t length = 0; length <= 40; ++length) {
    std::string bytes(length, '\0');
    for (char& b : bytes) b = static_cast<char>(random());
    const std::string hex = BytesToHex(bytes);
    BOOST_TEST(hex.size() == 2 * length);
    BOOST_TEST(HexToBytes(hex).value_or("<rejected>") == bytes);
    std::string upper = hex;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    BOOST_TEST(HexToBytes(upper).value_or("<rejected>") == bytes);
  }
  BOOST_TEST(HexToBytes("00ff7F80a5").value_or("") == std::string("\x00\xff\x7f\x80\xa5", 5));
}

BOOST_AUTO_TEST_CASE(every_byte_value_at_every_position_is_accepted_only_if_a_digit) {
  const std::string base = "0123456789abcdefABCDEF0123456789abcdef0123456789ABCDEFabcdef0123456789";  // 70
  for (size_t at = 0; at < base.size(); ++at) {
    for (int c = 0; c < 256; ++c) {
      std::string hex = base;
      hex[at] = static_cast<char>(c);
      const auto decoded = HexToBytes(hex);
      BOOST_REQUIRE_MESSAGE(decoded.has_value() == IsHexDigit(c), "byte " << c << " at " << at);
      if (decoded) {
        const int nibble = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
        const auto byte = static_cast<unsigned char>((*decoded)[at / 2]);
        BOOST_REQUIRE_EQUAL(at % 2 == 0 ? byte >> 4 : byte & 0xF, nibble);
      }
    }
  }
  BOOST_TEST(!HexToBytes("abc").has_value());  // odd
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger
