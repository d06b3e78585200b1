#include "projections/expiry_sweeper.h"

#include <chrono>
#include <future>

#include "projections/ledger.h"

namespace keyledger {

void ExpirySweeper::Start() { thread_ = std::thread([this] { Run(); }); }

void ExpirySweeper::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ExpirySweeper::Run() {
  constexpr auto kPollInterval = std::chrono::milliseconds(250);
  constexpr int kPollsPerTick = 4;  // a tick a second lets time-based checkpoints run when idle
  std::unique_lock lock(mutex_);
  for (int polls = 1; !stopping_; ++polls) {
    wake_.wait_for(lock, kPollInterval, [this] { return stopping_; });
    if (stopping_) break;
    if (polls % kPollsPerTick == 0) ledger_.Tick();
    const TimeMs next = ledger_.NextDeadline();
    if (next == 0 || next > ledger_.clock().Now()) continue;
    lock.unlock();
    std::promise<void> swept;
    ledger_.SweepExpired([&](Status) { swept.set_value(); });
    swept.get_future().wait();
    lock.lock();
  }
}

}  // namespace keyledger
