#include "core/thread_priority.h"

#include <errno.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <thread>

namespace keyledger {

bool SetThisThreadPriority(BackgroundPriority priority) { return SetThreadPriority(CurrentThreadId(), priority); }

bool SetThreadPriority(int tid, BackgroundPriority priority) {
  sched_param param{};
  param.sched_priority = 0;
  const int policy = priority == BackgroundPriority::kIdle    ? SCHED_IDLE
                     : priority == BackgroundPriority::kBatch ? SCHED_BATCH
                                                              : SCHED_OTHER;
  const int nice = priority == BackgroundPriority::kLow ? kLowNice : 0;
  // Linux applies sched_setscheduler and setpriority(PRIO_PROCESS) to the one thread `tid` names,
  // not to its whole process. The nice value first: leaving SCHED_IDLE needs one the thread may
  // hold (RLIMIT_NICE), and a lowered one may always be held.
  // SCHED_IDLE ignores the nice value, so going idle leaves it (raising it back needs the same
  // privilege as leaving SCHED_IDLE does).
  if (nice > 0 && setpriority(PRIO_PROCESS, static_cast<id_t>(tid), nice) != 0) return false;
  if (sched_setscheduler(tid, policy, &param) != 0) return false;
  if (nice > 0 || priority == BackgroundPriority::kIdle) return true;
  return setpriority(PRIO_PROCESS, static_cast<id_t>(tid), 0) == 0;
}

int CurrentThreadId() { return static_cast<int>(syscall(SYS_gettid)); }

std::chrono::nanoseconds ThisThreadCpuTime() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec);
}

bool CanLeaveIdlePriority() {
  bool raised = false;
  std::thread probe([&] {
    raised = SetThisThreadPriority(BackgroundPriority::kIdle) && SetThisThreadPriority(BackgroundPriority::kNormal);
  });
  probe.join();
  return raised;
}

std::optional<BackgroundPriority> ThreadPriority(int tid) {
  const int policy = sched_getscheduler(tid);
  if (policy < 0) return std::nullopt;
  if (policy == SCHED_IDLE) return BackgroundPriority::kIdle;
  if (policy == SCHED_BATCH) return BackgroundPriority::kBatch;
  errno = 0;
  const int nice = getpriority(PRIO_PROCESS, static_cast<id_t>(tid));
  if (nice == -1 && errno != 0) return std::nullopt;
  return nice > 0 ? BackgroundPriority::kLow : BackgroundPriority::kNormal;
}

}  // namespace keyledger
