#include "core/thread_priority.h"

#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace keyledger {

bool SetThisThreadPriority(BackgroundPriority priority) { return SetThreadPriority(CurrentThreadId(), priority); }

bool SetThreadPriority(int tid, BackgroundPriority priority) {
  sched_param param{};
  param.sched_priority = 0;
  const int policy = priority == BackgroundPriority::kIdle    ? SCHED_IDLE
                     : priority == BackgroundPriority::kBatch ? SCHED_BATCH
                                                              : SCHED_OTHER;
  // Linux applies sched_setscheduler to the one thread `tid` names, not to its whole process.
  return sched_setscheduler(tid, policy, &param) == 0;
}

int CurrentThreadId() { return static_cast<int>(syscall(SYS_gettid)); }

std::optional<BackgroundPriority> ThreadPriority(int tid) {
  const int policy = sched_getscheduler(tid);
  if (policy < 0) return std::nullopt;
  if (policy == SCHED_IDLE) return BackgroundPriority::kIdle;
  if (policy == SCHED_BATCH) return BackgroundPriority::kBatch;
  return BackgroundPriority::kNormal;
}

}  // namespace keyledger
