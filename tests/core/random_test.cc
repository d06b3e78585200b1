#include <boost/test/unit_test.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include "core/random.h"

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace keyledger {
namespace {

constexpr std::string_view kAlphabet =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

bool AllBase62(std::string_view s) { return s.find_first_not_of(kAlphabet) == std::string_view::npos; }

BOOST_AUTO_TEST_SUITE(RandomTest)

BOOST_AUTO_TEST_CASE(random_base62_has_requested_length_and_alphabet) {
  // Lengths around the 64-byte internal refill boundary included.
  for (size_t n : {0, 1, 2, 20, 32, 63, 64, 65, 128, 129, 1000}) {
    const std::string s = RandomBase62(n);
    BOOST_TEST(s.size() == n);
    BOOST_TEST(AllBase62(s), s);
  }
}

BOOST_AUTO_TEST_CASE(random_base62_uses_every_digit_without_modulo_bias) {
  // 62 * 5000 draws: each digit expects 5000 (sd ~70). A `byte % 62` bias would push digits
  // 0-7 to ~6050, far outside the +-500 band (~7 sd).
  constexpr int kPerDigit = 5000;
  const std::string s = RandomBase62(62 * kPerDigit);
  std::map<char, int> counts;
  for (char c : s) ++counts[c];
  BOOST_TEST(counts.size() == 62u);
  for (char c : kAlphabet) {
    BOOST_TEST(counts[c] > kPerDigit - 500, c << ": " << counts[c]);
    BOOST_TEST(counts[c] < kPerDigit + 500, c << ": " << counts[c]);
  }
}

BOOST_AUTO_TEST_CASE(random_base62_calls_differ) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) seen.insert(RandomBase62(20));
  BOOST_TEST(seen.size() == 100u);
}

BOOST_AUTO_TEST_CASE(random_bytes_fills_the_buffer) {
  // Two 64-byte draws being identical, or the whole buffer staying zero, has probability 2^-512.
  std::array<unsigned char, 64> a{}, b{};
  RandomBytes(a.data(), a.size());
  RandomBytes(b.data(), b.size());
  BOOST_TEST((a != b));
  BOOST_TEST((a != std::array<unsigned char, 64>{}));
  RandomBytes(a.data(), 0);  // a no-op, must not throw
}

BOOST_AUTO_TEST_CASE(new_id_format) {
  const std::string id = NewId("key_");
  BOOST_TEST(id.size() == 4u + 20u, id);
  BOOST_TEST(id.substr(0, 4) == "key_", id);
  BOOST_TEST(AllBase62(id.substr(4)), id);
  BOOST_TEST(NewId("").size() == 20u);
  BOOST_TEST((NewId("key_") != NewId("key_")));
}

// Random characters come from a per-thread pool of CSPRNG bytes: a forked child must not carry on
// from its parent's pool, or parent and child would issue the same tokens.
BOOST_AUTO_TEST_CASE(a_forked_child_never_repeats_its_parents_random_characters) {
  (void)RandomBase62(8);  // the pool now holds unused bytes that a fork would copy
  int fds[2];
  BOOST_REQUIRE(pipe(fds) == 0);
  const pid_t child = fork();
  BOOST_REQUIRE(child >= 0);
  if (child == 0) {
    const std::string mine = RandomBase62(32);
    const ssize_t n = write(fds[1], mine.data(), mine.size());
    _exit(n == static_cast<ssize_t>(mine.size()) ? 0 : 1);
  }
  close(fds[1]);
  const std::string parents = RandomBase62(32);
  std::string childs(32, '\0');
  size_t got = 0;
  while (got < childs.size()) {
    const ssize_t n = read(fds[0], childs.data() + got, childs.size() - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  close(fds[0]);
  int status = 0;
  BOOST_REQUIRE(waitpid(child, &status, 0) == child);
  BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  BOOST_REQUIRE(got == childs.size());
  BOOST_TEST(parents != childs);
}

BOOST_AUTO_TEST_CASE(time_ordered_ids_sort_as_their_times_do) {
  TimeOrderedIds ids("key_");
  const std::string id = ids.Next(1'764'000'000'000);
  BOOST_TEST(id.size() == 4u + 20u, id);
  BOOST_TEST(id.substr(0, 4) == "key_", id);
  BOOST_TEST(AllBase62(id.substr(4)), id);
  // Later times sort later, across digit carries, whatever the random tails are; each source
  // starts afresh, as after a restart.
  const int64_t times[] = {0, 1, 61, 62, 63, 3843, 3844, 1'764'000'000'000, 1'764'000'000'001,
                           1'764'000'003'844, 4'102'444'800'000 /* 2100-01-01 */};
  for (size_t i = 1; i < std::size(times); ++i) {
    for (int draw = 0; draw < 20; ++draw) {
      const std::string earlier = TimeOrderedIds("key_").Next(times[i - 1]);
      const std::string later = TimeOrderedIds("key_").Next(times[i]);
      BOOST_TEST(earlier < later, earlier << " !< " << later);
      BOOST_TEST(earlier.substr(4, 8) < later.substr(4, 8), earlier << " " << later);
    }
  }
  BOOST_TEST(TimeOrderedIds("").Next(-5).substr(0, 8) == "00000000");  // before the epoch: as 0
}

BOOST_AUTO_TEST_CASE(time_ordered_ids_of_one_source_increase_within_a_millisecond) {
  TimeOrderedIds ids("key_");
  std::string previous = ids.Next(1'764'000'000'000);
  for (int i = 0; i < 10'000; ++i) {
    const std::string next = ids.Next(1'764'000'000'000);
    BOOST_TEST_REQUIRE(previous < next, previous << " !< " << next);
    BOOST_TEST_REQUIRE(next.substr(0, 12) == previous.substr(0, 12));  // the same time digits
    BOOST_TEST_REQUIRE(AllBase62(next.substr(4)), next);
    previous = next;
  }
  // The clock steps back: the ids keep increasing, under the latest time seen.
  const std::string after_step_back = ids.Next(1'763'000'000'000);
  BOOST_TEST(previous < after_step_back);
  BOOST_TEST(after_step_back.substr(0, 12) == previous.substr(0, 12));
  // A new millisecond draws afresh.
  BOOST_TEST(previous < ids.Next(1'764'000'000'001));
}

BOOST_AUTO_TEST_CASE(time_ordered_ids_are_not_a_counter) {
  // Within a millisecond each id adds a random step to the one before: the differences between
  // consecutive ids vary (a counter would give 1 every time).
  TimeOrderedIds ids("");
  auto value = [](const std::string& id) {
    unsigned __int128 v = 0;
    for (char c : id.substr(8)) v = v * 62 + static_cast<unsigned>(kAlphabet.find(c));
    return v;
  };
  unsigned __int128 previous = value(ids.Next(5));
  std::set<uint64_t> steps;
  for (int i = 0; i < 100; ++i) {
    const unsigned __int128 next = value(ids.Next(5));
    BOOST_TEST_REQUIRE((next > previous));
    steps.insert(static_cast<uint64_t>(next - previous));
    previous = next;
  }
  BOOST_TEST(steps.size() > 90u);
}

BOOST_AUTO_TEST_CASE(time_ordered_ids_are_safe_to_draw_from_many_threads) {
  TimeOrderedIds ids("key_");
  std::vector<std::vector<std::string>> drawn(4);
  std::vector<std::thread> threads;
  for (auto& mine : drawn) {
    threads.emplace_back([&ids, &mine] {
      for (int i = 0; i < 2'000; ++i) mine.push_back(ids.Next(1'764'000'000'000));
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> all;
  for (const auto& mine : drawn) {
    // Each thread's ids increase, and no id repeats across threads.
    BOOST_TEST(std::is_sorted(mine.begin(), mine.end()));
    all.insert(mine.begin(), mine.end());
  }
  BOOST_TEST(all.size() == 4u * 2'000u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger
