#pragma once
// CPU priority of background threads (flushes, compactions, checkpoint writing).
//
// On a core shared with an I/O thread, a background thread at normal priority takes whole
// scheduler slices (a 4 ms tick here) from the requests in flight: measured, it put verify p99 at
// 15-20 ms. At idle priority (Linux SCHED_IDLE) it runs when a core has nothing else to do and
// yields the moment a request thread wakes. It still always progresses: should it fall behind
// (RocksDB's memtables full), the writers wait for it, which frees the core for it.

namespace keyledger {

enum class BackgroundPriority {
  kNormal,  // as the request threads
  kIdle,    // only when a core is otherwise idle
};

// Puts the calling thread at `priority`. False (and the thread unchanged) where the system refuses.
bool SetThisThreadPriority(BackgroundPriority priority);

}  // namespace keyledger
