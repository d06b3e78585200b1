#pragma once
// Appends key.expired for keys whose expiry or rotation grace has passed, within about a quarter
// of a second of the deadline. Verification never waits for it: it checks the time itself
// (KeyState::EffectiveStatus); the sweeper only makes the log say what already holds.
// It also ticks the ledger once a second, so time-based checkpoints happen while idle.

#include <condition_variable>
#include <mutex>
#include <thread>

namespace keyledger {

class Ledger;

class ExpirySweeper {
 public:
  explicit ExpirySweeper(Ledger& ledger) : ledger_(ledger) {}
  ~ExpirySweeper() { Stop(); }
  void Start();
  void Stop();  // idempotent

 private:
  void Run();

  Ledger& ledger_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // GUARDED_BY(mutex_)
  std::thread thread_;
};

}  // namespace keyledger
