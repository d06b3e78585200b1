#include "core/thread_priority.h"

#include <pthread.h>
#include <sched.h>

namespace keyledger {

bool SetThisThreadPriority(BackgroundPriority priority) {
  sched_param param{};
  param.sched_priority = 0;
  const int policy = priority == BackgroundPriority::kIdle ? SCHED_IDLE : SCHED_OTHER;
  return pthread_setschedparam(pthread_self(), policy, &param) == 0;
}

}  // namespace keyledger
