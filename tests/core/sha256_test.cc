#include <boost/test/unit_test.hpp>

#include "core/sha256.h"

#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <vector>

namespace keyledger {
namespace {

// FIPS 180-2 / NIST CAVP vectors.
constexpr std::string_view kEmptyHex =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr std::string_view kAbcHex =
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr std::string_view k448Bits = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
constexpr std::string_view k448BitsHex =
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
constexpr std::string_view k896Bits =
    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsm"
    "nopqrstnopqrstu";
constexpr std::string_view k896BitsHex =
    "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1";
constexpr std::string_view kMillionAHex =
    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";

std::string Hex(std::string_view data) { return ToHex(Sha256(data)); }

BOOST_AUTO_TEST_SUITE(Sha256Test)

BOOST_AUTO_TEST_CASE(nist_vectors) {
  BOOST_TEST(Hex("") == kEmptyHex);
  BOOST_TEST(Hex("abc") == kAbcHex);
  BOOST_TEST(Hex(k448Bits) == k448BitsHex);
  BOOST_TEST(Hex(k896Bits) == k896BitsHex);
  BOOST_TEST(Hex(std::string(1000000, 'a')) == kMillionAHex);
}

BOOST_AUTO_TEST_CASE(binary_input_with_nul_bytes) {
  // sha256 of the three bytes 00 01 00, not of an empty C string.
  BOOST_TEST(Hex(std::string_view("\0\1\0", 3)) != kEmptyHex);
  BOOST_TEST(Hex(std::string_view("\0\1\0", 3)) != Hex(std::string_view("\0\1", 2)));
}

BOOST_AUTO_TEST_CASE(two_part_equals_one_part_over_concatenation) {
  for (size_t split = 0; split <= k448Bits.size(); ++split) {
    BOOST_TEST(ToHex(Sha256(k448Bits.substr(0, split), k448Bits.substr(split))) == k448BitsHex,
               "split at " << split);
  }
  BOOST_TEST(ToHex(Sha256("", "")) == kEmptyHex);
  BOOST_TEST(ToHex(Sha256("abc", "")) == kAbcHex);
  BOOST_TEST(ToHex(Sha256("", "abc")) == kAbcHex);
  BOOST_TEST(ToHex(Sha256("ab", "c")) == kAbcHex);
  BOOST_TEST(ToHex(Sha256("a", "bc")) == kAbcHex);
}

BOOST_AUTO_TEST_CASE(a_stream_of_pieces_digests_their_concatenation) {
  Sha256Stream empty;
  BOOST_TEST(ToHex(empty.Finish()) == kEmptyHex);
  for (size_t piece : {1u, 7u, 64u, 1000u}) {
    Sha256Stream stream;
    const std::string million(1000000, 'a');
    for (size_t at = 0; at < million.size(); at += piece) stream.Update(std::string_view(million).substr(at, piece));
    BOOST_TEST(ToHex(stream.Finish()) == kMillionAHex, "pieces of " << piece);
  }
  Sha256Stream first;
  first.Update("ab");
  Sha256Stream moved(std::move(first));
  moved.Update("c");
  BOOST_TEST(ToHex(moved.Finish()) == kAbcHex);
}

BOOST_AUTO_TEST_CASE(to_hex_is_lowercase_and_byte_ordered) {
  Digest d{};
  for (size_t i = 0; i < d.size(); ++i) d[i] = static_cast<uint8_t>(i * 8 + 7);
  BOOST_TEST(ToHex(d) ==
             "070f171f272f373f474f575f676f777f878f979fa7afb7bfc7cfd7dfe7eff7ff");
  BOOST_TEST(ToHex(Digest{}) == std::string(64, '0'));
  Digest ff;
  ff.fill(0xFF);
  BOOST_TEST(ToHex(ff) == std::string(64, 'f'));
}

BOOST_AUTO_TEST_CASE(from_hex_round_trip) {
  const auto abc = DigestFromHex(kAbcHex);
  BOOST_REQUIRE(abc.has_value());
  BOOST_TEST((*abc == Sha256("abc")));
  BOOST_TEST((*abc)[0] == 0xBA);
  BOOST_TEST((*abc)[31] == 0xAD);

  Digest d{};
  for (size_t i = 0; i < d.size(); ++i) d[i] = static_cast<uint8_t>(255 - i * 3);
  const auto back = DigestFromHex(ToHex(d));
  BOOST_REQUIRE(back.has_value());
  BOOST_TEST((*back == d));

  // Uppercase hex digits are hex digits too.
  const auto upper = DigestFromHex(
      "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD");
  BOOST_REQUIRE(upper.has_value());
  BOOST_TEST((*upper == Sha256("abc")));
}

BOOST_AUTO_TEST_CASE(from_hex_rejections) {
  const std::string good(kAbcHex);
  BOOST_TEST(!DigestFromHex(good.substr(0, 63)).has_value());
  BOOST_TEST(!DigestFromHex(good + "0").has_value());
  BOOST_TEST(!DigestFromHex(good + good).has_value());
  BOOST_TEST(!DigestFromHex("").has_value());
  for (const char c : {'g', 'G', 'x', ' ', '-', '\0', ':', '@', '`', '/'}) {
    for (size_t pos : {0, 1, 30, 63}) {
      std::string bad = good;
      bad[pos] = c;
      BOOST_TEST(!DigestFromHex(bad).has_value(), "char code " << int(c) << " at " << pos);
    }
  }
  BOOST_TEST(!DigestFromHex("0x" + good.substr(2)).has_value());
}

BOOST_AUTO_TEST_CASE(as_bytes_views_the_digest) {
  const Digest d = Sha256("abc");
  const std::string_view bytes = AsBytes(d);
  BOOST_TEST(bytes.size() == 32u);
  BOOST_TEST(static_cast<unsigned char>(bytes[0]) == 0xBA);
  BOOST_TEST(static_cast<unsigned char>(bytes[31]) == 0xAD);
}

BOOST_AUTO_TEST_CASE(digest_hash_works_in_unordered_set) {
  std::unordered_set<Digest, DigestHash> set;
  set.insert(Sha256("abc"));
  set.insert(Sha256(""));
  set.insert(Sha256("abc"));
  BOOST_TEST(set.size() == 2u);
  BOOST_TEST(set.count(*DigestFromHex(kAbcHex)) == 1u);
  BOOST_TEST(DigestHash{}(Sha256("abc")) == DigestHash{}(*DigestFromHex(kAbcHex)));
}

BOOST_AUTO_TEST_CASE(concurrent_hashing_gives_correct_digests) {
  const std::string million_a(1000000, 'a');
  constexpr int kThreads = 8;
  std::vector<int> failures(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        // Interleave inputs differently per thread so contexts are mid-use at different points.
        switch ((i + t) % 5) {
          case 0: failures[t] += Hex("") != kEmptyHex; break;
          case 1: failures[t] += Hex("abc") != kAbcHex; break;
          case 2: failures[t] += Hex(k448Bits) != k448BitsHex; break;
          case 3: failures[t] += ToHex(Sha256(k896Bits.substr(0, t * 7),
                                              k896Bits.substr(t * 7))) != k896BitsHex;
            break;
          case 4: failures[t] += Hex(k896Bits) != k896BitsHex; break;
        }
        if (i % 500 == t) failures[t] += Hex(million_a) != kMillionAHex;
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) BOOST_TEST(failures[t] == 0, "thread " << t);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger
