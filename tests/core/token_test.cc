#define BOOST_TEST_MODULE core
#include <boost/test/unit_test.hpp>

#include "core/token.h"

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "core/sha256.h"

namespace keyledger {
namespace {

constexpr std::string_view kVectorBody = "kl_0123456789ABCDEFGHIJKLMNOPQRSTUV";
constexpr std::string_view kVectorToken = "kl_0123456789ABCDEFGHIJKLMNOPQRSTUV0dYxzJ";
constexpr std::string_view kAlphabet =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

bool Accepted(std::string_view token) { return CheckToken(token).has_value(); }

std::string AcceptedPrefix(std::string_view token) {
  const auto prefix = CheckToken(token);
  return prefix ? std::string(*prefix) : std::string("<rejected>");
}

// A different base62 character than `c`.
char OtherBase62(char c) { return c == 'A' ? 'B' : 'A'; }

// Bit-at-a-time CRC-32 (reflected, polynomial 0xEDB88320): a reference independent of the table.
uint32_t ReferenceCrc32(std::string_view data) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char byte : data) {
    crc ^= byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

BOOST_AUTO_TEST_SUITE(TokenTest)

BOOST_AUTO_TEST_CASE(crc32_standard_check_value) {
  BOOST_TEST(Crc32("123456789") == 0xCBF43926u);
  BOOST_TEST(Crc32("") == 0u);
  BOOST_TEST(Crc32("a") == 0xE8B7BE43u);
}

BOOST_AUTO_TEST_CASE(crc32_matches_bitwise_reference) {
  std::string data;
  for (int i = 0; i < 300; ++i) {
    data.push_back(static_cast<char>((i * 37 + 11) & 0xFF));
    BOOST_TEST(Crc32(data) == ReferenceCrc32(data), "length " << data.size());
  }
}

BOOST_AUTO_TEST_CASE(api_md_test_vector) {
  BOOST_TEST(Crc32(kVectorBody) == 0x22d87425u);
  BOOST_TEST(ComposeToken("kl", "0123456789ABCDEFGHIJKLMNOPQRSTUV") == kVectorToken);
  BOOST_TEST(AcceptedPrefix(kVectorToken) == "kl");
}

BOOST_AUTO_TEST_CASE(base62_fixed_pads_and_is_big_endian) {
  BOOST_TEST(Base62Fixed(0, 6) == "000000");
  BOOST_TEST(Base62Fixed(9, 6) == "000009");
  BOOST_TEST(Base62Fixed(10, 6) == "00000A");
  BOOST_TEST(Base62Fixed(35, 6) == "00000Z");
  BOOST_TEST(Base62Fixed(36, 6) == "00000a");
  BOOST_TEST(Base62Fixed(61, 6) == "00000z");
  BOOST_TEST(Base62Fixed(62, 6) == "000010");
  BOOST_TEST(Base62Fixed(63, 6) == "000011");
  BOOST_TEST(Base62Fixed(62 * 62, 6) == "000100");
  // 123456789 = 8*62^4 + 22*62^3 + 0*62^2 + 46*62 + 33
  BOOST_TEST(Base62Fixed(123456789, 6) == "08M0kX");
  BOOST_TEST(Base62Fixed(0x22d87425u, 6) == "0dYxzJ");
  // 62^6 - 1 is the largest 6-digit value.
  BOOST_TEST(Base62Fixed(56800235583ull, 6) == "zzzzzz");
  // 2^32 - 1 = 4*62^5 + 42*62^4 + 41*62^3 + 15*62^2 + 12*62 + 3
  BOOST_TEST(Base62Fixed(0xFFFFFFFFu, 6) == "4gfFC3");
  BOOST_TEST(Base62Fixed(7, 1) == "7");
  BOOST_TEST(Base62Fixed(0, 3) == "000");
}

BOOST_AUTO_TEST_CASE(generated_token_shape_and_check) {
  for (std::string_view prefix : {"kl", "kla", "klo", "abcdefghij", "a1"}) {
    const std::string token = GenerateToken(prefix);
    BOOST_TEST(token.size() == prefix.size() + 1 + 32 + 6, token);
    BOOST_TEST(token.substr(0, prefix.size() + 1) == std::string(prefix) + "_", token);
    const std::string rest = token.substr(prefix.size() + 1);
    BOOST_TEST(rest.find_first_not_of(kAlphabet) == std::string::npos, token);
    BOOST_TEST(AcceptedPrefix(token) == prefix, token);
    // The last 6 characters are the base62 CRC-32 of everything before them.
    const std::string body = token.substr(0, token.size() - 6);
    BOOST_TEST(token.substr(token.size() - 6) == Base62Fixed(ReferenceCrc32(body), 6), token);
  }
}

BOOST_AUTO_TEST_CASE(check_token_returns_view_into_token) {
  const std::string token = GenerateToken("kla");
  const auto prefix = CheckToken(token);
  BOOST_REQUIRE(prefix.has_value());
  BOOST_TEST(*prefix == "kla");
  BOOST_TEST(static_cast<const void*>(prefix->data()) == static_cast<const void*>(token.data()));
}

BOOST_AUTO_TEST_CASE(rejects_any_changed_character_in_random_part) {
  const std::string token(kVectorToken);
  for (size_t i = 3; i < 3 + 32; ++i) {
    std::string bad = token;
    bad[i] = OtherBase62(bad[i]);
    BOOST_TEST(!Accepted(bad), bad);
  }
}

BOOST_AUTO_TEST_CASE(rejects_any_changed_checksum_character) {
  for (const std::string& token : {std::string(kVectorToken), GenerateToken("kl")}) {
    for (size_t i = token.size() - 6; i < token.size(); ++i) {
      std::string bad = token;
      bad[i] = OtherBase62(bad[i]);
      BOOST_TEST(!Accepted(bad), bad);
    }
  }
}

BOOST_AUTO_TEST_CASE(rejects_changed_prefix_with_stale_checksum) {
  std::string bad(kVectorToken);
  bad[1] = 'm';  // "km_...": still a valid prefix, but the checksum covered "kl_"
  BOOST_TEST(!Accepted(bad));
}

BOOST_AUTO_TEST_CASE(rejects_wrong_length) {
  const std::string token(kVectorToken);
  BOOST_TEST(!Accepted(token.substr(0, token.size() - 1)));
  BOOST_TEST(!Accepted(token + "0"));
  BOOST_TEST(!Accepted(token + token));
  // Correct checksums over a random part of 31 and 33 characters: only the length is wrong.
  BOOST_TEST(!Accepted(ComposeToken("kl", std::string(31, 'a'))));
  BOOST_TEST(!Accepted(ComposeToken("kl", std::string(33, 'a'))));
  BOOST_TEST(!Accepted(ComposeToken("kl", "")));
  BOOST_TEST(Accepted(ComposeToken("kl", std::string(32, 'a'))));
}

BOOST_AUTO_TEST_CASE(rejects_missing_or_misplaced_underscore) {
  std::string no_underscore(kVectorToken);
  no_underscore.erase(2, 1);
  BOOST_TEST(!Accepted(no_underscore));
  std::string replaced(kVectorToken);
  replaced[2] = 'x';
  BOOST_TEST(!Accepted(replaced));
  std::string dash(kVectorToken);
  dash[2] = '-';
  BOOST_TEST(!Accepted(dash));
  // A second underscore inside the random part, with a matching checksum.
  BOOST_TEST(!Accepted(ComposeToken("kl", "0123456789ABCDEF_HIJKLMNOPQRSTUV")));
}

BOOST_AUTO_TEST_CASE(rejects_bad_prefix_even_with_matching_checksum) {
  const std::string random_part(32, 'Q');
  BOOST_TEST(!Accepted(ComposeToken("KL", random_part)));           // uppercase
  BOOST_TEST(!Accepted(ComposeToken("kL", random_part)));           // uppercase later
  BOOST_TEST(!Accepted(ComposeToken("abcdefghijk", random_part)));  // 11 characters
  BOOST_TEST(!Accepted(ComposeToken("1kl", random_part)));          // starts with a digit
  BOOST_TEST(!Accepted(ComposeToken("k", random_part)));            // 1 character
  BOOST_TEST(!Accepted(ComposeToken("", random_part)));             // empty
  BOOST_TEST(!Accepted(ComposeToken("k-l", random_part)));          // not alphanumeric
  BOOST_TEST(AcceptedPrefix(ComposeToken("abcdefghij", random_part)) == "abcdefghij");
  BOOST_TEST(AcceptedPrefix(ComposeToken("k1", random_part)) == "k1");
}

BOOST_AUTO_TEST_CASE(rejects_non_base62_characters_even_with_matching_checksum) {
  const std::string good(32, 'Q');
  for (const char c : {'-', '+', '/', '=', ' ', '.', '\0', '\n', '\x80', '\xff', '~'}) {
    std::string random_part = good;
    random_part[17] = c;
    BOOST_TEST(!Accepted(ComposeToken("kl", random_part)), "char code " << int(c));
  }
  // A non-base62 character in the checksum position.
  std::string bad(kVectorToken);
  bad.back() = '-';
  BOOST_TEST(!Accepted(bad));
}

BOOST_AUTO_TEST_CASE(rejects_degenerate_inputs) {
  BOOST_TEST(!Accepted(""));
  BOOST_TEST(!Accepted("_"));
  BOOST_TEST(!Accepted("kl_"));
  BOOST_TEST(!Accepted("kl"));
  BOOST_TEST(!Accepted(std::string(kVectorToken) + "\n"));
  BOOST_TEST(!Accepted(" " + std::string(kVectorToken)));
  BOOST_TEST(!Accepted("Bearer " + std::string(kVectorToken)));
}

BOOST_AUTO_TEST_CASE(valid_token_prefix_boundaries) {
  for (std::string_view ok : {"kl", "ab", "a1", "kla", "klo", "z9", "abcdefghij", "a123456789"}) {
    BOOST_TEST(IsValidTokenPrefix(ok), ok);
  }
  for (std::string_view bad : {"", "a", "abcdefghijk", "Kl", "kL", "KL", "1a", "9z", "k_", "_k",
                               "k-l", "kl ", " kl", "k.l", "\xc3\xa9t"}) {
    BOOST_TEST(!IsValidTokenPrefix(bad), bad);
  }
}

BOOST_AUTO_TEST_CASE(contains_token_finds_a_token_anywhere_in_text) {
  const std::string vector(kVectorToken);
  BOOST_TEST(ContainsToken(vector));
  BOOST_TEST(ContainsToken("owner " + vector));
  BOOST_TEST(ContainsToken("x" + vector + "x"));  // glued to other characters
  BOOST_TEST(ContainsToken("Bearer " + vector + " and more"));
  BOOST_TEST(ContainsToken("a_b c_d " + vector));  // after underscores that start nothing
  for (std::string_view prefix : {"kla", "klo", "acme", "abcdefghij"}) {
    const std::string token = GenerateToken(prefix);
    BOOST_TEST(ContainsToken("name:" + token), token.substr(0, 12));
    BOOST_TEST(ContainsToken("9" + token));  // a digit before the prefix joins it: still found
  }
  // Not a token: a changed character, a cut one, a bad prefix, or no text at all.
  std::string changed = vector;
  changed[10] = OtherBase62(changed[10]);
  BOOST_TEST(!ContainsToken(changed));
  BOOST_TEST(!ContainsToken(vector.substr(0, vector.size() - 1)));
  BOOST_TEST(!ContainsToken(vector.substr(1)));  // "l_…": a one-letter prefix
  BOOST_TEST(!ContainsToken(""));
  BOOST_TEST(!ContainsToken("_"));
  BOOST_TEST(!ContainsToken("billing_service_reader_2026"));
  BOOST_TEST(!ContainsToken(std::string(200, '_')));
}

BOOST_AUTO_TEST_CASE(display_prefix_is_first_twelve_characters) {
  BOOST_TEST(DisplayPrefix(kVectorToken) == "kl_012345678");
  BOOST_TEST(DisplayPrefix("kla_ABCDEFGHIJKL") == "kla_ABCDEFGH");
  BOOST_TEST(DisplayPrefix("short") == "short");
  BOOST_TEST(DisplayPrefix("") == "");
}

BOOST_AUTO_TEST_CASE(token_digest_is_sha256_of_token) {
  // sha256 of the API.md test-vector token, computed with Python's hashlib.
  BOOST_TEST(ToHex(TokenDigest(kVectorToken)) ==
             "844cf81affe2a7e69bf9cc843e325e34c8dc78f195229ba26b9cfd64824b0041");
}

BOOST_AUTO_TEST_CASE(thousand_generated_tokens_are_distinct_and_valid) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string token = GenerateToken("kl");
    BOOST_TEST(Accepted(token), token);
    seen.insert(token);
  }
  BOOST_TEST(seen.size() == 1000u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger
