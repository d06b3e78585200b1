// The central invariant under real concurrency: in log order, no key.used with outcome valid comes
// after that key's end (revocation, expiry by time, rotation end), and every VALID answer a caller
// received is backed by exactly one valid key.used event before that end.

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "projections/ledger.h"
#include "tests/projections/ledger_fixture.h"

namespace keyledger {
namespace {

using testing::KeyInput;
using testing::kStartMs;
using testing::LedgerEnv;

constexpr int kVerifierThreads = 4;
constexpr int kAnswersAfterEnd = 20;  // each verifier keeps going this long after it sees the end
constexpr int kMaxCallsPerThread = 200000;
constexpr auto kDeadline = std::chrono::seconds(120);

// Threads that verify one token in a loop until each has seen `end_code` kAnswersAfterEnd times.
// No Boost.Test assertion runs on these threads: they count, and the test checks afterwards.
class Verifiers {
 public:
  Verifiers(LedgerEnv& env, std::string token, VerifyCode end_code)
      : env_(env), token_(std::move(token)), end_code_(end_code) {
    for (int i = 0; i < kVerifierThreads; ++i) threads_.emplace_back([this] { Run(); });
  }
  ~Verifiers() { Join(); }

  void Join() {
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  // Waits until at least `n` answers arrived, or the deadline passed.
  bool WaitForAnswers(uint64_t n) const {
    const auto until = std::chrono::steady_clock::now() + kDeadline;
    while (answers.load() < n) {
      if (std::chrono::steady_clock::now() > until || finished.load() == kVerifierThreads) return false;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return true;
  }

  std::atomic<uint64_t> answers{0};
  std::atomic<uint64_t> valid{0};
  std::atomic<uint64_t> ended{0};
  std::atomic<uint64_t> unexpected{0};
  std::atomic<uint64_t> errors{0};
  std::atomic<uint64_t> valid_after_end_seen{0};  // per thread: VALID after it already saw the end
  std::atomic<int> finished{0};
  std::atomic<int> threads_that_saw_end{0};

 private:
  void Run() {
    const auto until = std::chrono::steady_clock::now() + kDeadline;
    int seen_end = 0;
    try {
      for (int i = 0; i < kMaxCallsPerThread && seen_end < kAnswersAfterEnd; ++i) {
        if (std::chrono::steady_clock::now() > until) break;
        auto r = env_.Verify(token_, "invoices:read");
        if (!r.ok()) {
          ++errors;
          break;
        }
        ++answers;
        if (r->code == VerifyCode::kValid) {
          ++valid;
          if (seen_end > 0) ++valid_after_end_seen;
        } else if (r->code == end_code_) {
          ++ended;
          ++seen_end;
        } else {
          ++unexpected;
        }
      }
    } catch (...) {
      ++errors;
    }
    if (seen_end > 0) ++threads_that_saw_end;
    ++finished;
  }

  LedgerEnv& env_;
  const std::string token_;
  const VerifyCode end_code_;
  std::vector<std::thread> threads_;
};

struct UseTally {
  uint64_t uses = 0;
  uint64_t valid = 0;
  uint64_t valid_after_end = 0;       // valid uses after the key's end event in log order
  uint64_t valid_at_or_past_deadline = 0;
  uint64_t rejected_before_end = 0;   // for revocation: non-valid outcomes before the revoke
  uint64_t end_seq = 0;               // the first key.revoked / key.expired / key.rotated(grace 0)
};

// Walks the whole log (EventStore::Scan over Cf::kEvents) for `key_id`. `deadline` (0: none) is
// the instant from which no use may be valid.
UseTally TallyUses(const EventStore& store, const std::string& key_id, TimeMs deadline) {
  UseTally t;
  for (const Event& e : testing::ReadLog(store)) {
    if (e.key_id != key_id) continue;
    switch (e.type()) {
      case EventType::kKeyRevoked:
      case EventType::kKeyExpired:
        if (t.end_seq == 0) t.end_seq = e.seq;
        break;
      case EventType::kKeyRotated:
        if (t.end_seq == 0 && std::get<KeyRotated>(e.data).grace_until <= e.ts) t.end_seq = e.seq;
        break;
      case EventType::kKeyUsed: {
        ++t.uses;
        const bool valid = std::get<KeyUsed>(e.data).outcome == UseOutcome::kValid;
        if (!valid) {
          if (t.end_seq == 0) ++t.rejected_before_end;
          break;
        }
        ++t.valid;
        if (t.end_seq != 0) ++t.valid_after_end;
        if (deadline != 0 && e.ts >= deadline) ++t.valid_at_or_past_deadline;
        break;
      }
      default:
        break;
    }
  }
  return t;
}

void CheckVerifiersAgainstLog(const Verifiers& v, const UseTally& t) {
  BOOST_TEST(v.errors.load() == 0u);
  BOOST_TEST(v.unexpected.load() == 0u);
  BOOST_TEST(v.threads_that_saw_end.load() == kVerifierThreads);
  BOOST_TEST(v.valid.load() > 0u, "the end came before any verify: the test proved nothing");
  BOOST_TEST(v.ended.load() >= uint64_t{kVerifierThreads * kAnswersAfterEnd});
  BOOST_TEST(v.valid_after_end_seen.load() == 0u);
  BOOST_TEST(t.end_seq != 0u);
  BOOST_TEST(t.valid_after_end == 0u);
  BOOST_TEST(t.valid == v.valid.load());  // every VALID answer has its valid event, and no more
  BOOST_TEST(t.uses == v.answers.load());
}

BOOST_AUTO_TEST_SUITE(LedgerVerifyTest)

BOOST_AUTO_TEST_CASE(no_valid_use_after_a_concurrent_revoke) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme");
  auto key = env.MustCreateKey(acme.admin, "acme", KeyInput("hot key"));

  Verifiers verifiers(env, key.token, VerifyCode::kRevoked);
  std::atomic<bool> revoked_ok{false};
  std::thread revoker([&] {
    if (!verifiers.WaitForAnswers(400)) return;
    try {
      revoked_ok = env.Revoke(acme.admin, "acme", key.key.id, "rotating secrets").ok();
    } catch (...) {
    }
  });
  revoker.join();
  verifiers.Join();
  BOOST_REQUIRE(revoked_ok.load());

  const UseTally t = TallyUses(*env.store, key.key.id, 0);
  CheckVerifiersAgainstLog(verifiers, t);
  BOOST_TEST(t.rejected_before_end == 0u);
  const KeyState view = env.MustGetKey(acme.admin, "acme", key.key.id);
  BOOST_TEST(view.usage_count == verifiers.valid.load());
  BOOST_TEST(view.rejected_count == verifiers.ended.load());
}

BOOST_AUTO_TEST_CASE(no_valid_use_after_expiry_while_the_clock_moves) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme");
  CreateKeyInput in = KeyInput("short lived");
  const TimeMs expires_at = kStartMs + 10 * 60 * kSecondMs;
  in.expires_at = expires_at;
  auto key = env.MustCreateKey(acme.admin, "acme", in);

  Verifiers verifiers(env, key.token, VerifyCode::kExpired);
  std::atomic<bool> stop_sweeping{false};
  std::atomic<uint64_t> sweep_failures{0};
  // Time runs forward in small steps while verifies are in flight...
  std::thread clock_mover([&] {
    uint64_t seen = 0;
    while (env.clock.Now() < expires_at + 60 * kSecondMs) {
      if (!verifiers.WaitForAnswers(seen + 3)) break;
      seen = verifiers.answers.load();
      env.clock.Advance(7 * kSecondMs);
    }
  });
  // ...and the sweep races with them, so key.expired lands among the uses.
  std::thread sweeper([&] {
    while (!stop_sweeping.load()) {
      try {
        if (!env.Sweep().ok()) ++sweep_failures;
      } catch (...) {
        ++sweep_failures;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  clock_mover.join();
  verifiers.Join();
  stop_sweeping = true;
  sweeper.join();
  BOOST_TEST(sweep_failures.load() == 0u);
  BOOST_REQUIRE(env.clock.Now() >= expires_at);

  const UseTally t = TallyUses(*env.store, key.key.id, expires_at);
  CheckVerifiersAgainstLog(verifiers, t);
  BOOST_TEST(t.valid_at_or_past_deadline == 0u);
  const auto log = env.Log();
  size_t expired_events = 0;
  for (const Event& e : log) {
    if (e.key_id == key.key.id && e.type() == EventType::kKeyExpired) {
      ++expired_events;
      BOOST_TEST(std::get<KeyExpired>(e.data).reason == "expired");
      BOOST_TEST(e.ts >= expires_at);
    }
  }
  BOOST_TEST(expired_events == 1u);
}

BOOST_AUTO_TEST_CASE(no_valid_use_of_the_old_key_after_a_concurrent_rotation_without_grace) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme");
  auto key = env.MustCreateKey(acme.admin, "acme", KeyInput("rotating"));

  Verifiers verifiers(env, key.token, VerifyCode::kExpired);
  std::string new_token;
  std::thread rotator([&] {
    if (!verifiers.WaitForAnswers(400)) return;
    try {
      auto r = env.RotateWithGrace(acme.admin, "acme", key.key.id, 0);
      if (r.ok()) new_token = r->token;
    } catch (...) {
    }
  });
  rotator.join();
  verifiers.Join();
  BOOST_REQUIRE(!new_token.empty());

  const UseTally t = TallyUses(*env.store, key.key.id, 0);
  CheckVerifiersAgainstLog(verifiers, t);
  BOOST_TEST((env.VerifyCodeOf(new_token, "invoices:read") == VerifyCode::kValid));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger
