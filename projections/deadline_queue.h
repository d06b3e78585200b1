#pragma once
// The instants at which active keys end by time (expiry or grace end), earliest first, for the
// expiry sweeper. A binary min-heap of 12-byte entries; an entry is not removed when its key ends
// or its deadline moves but becomes stale, and the owner's `is_current(entry)` tells which are
// which. Stale entries are dropped when they reach the top, and the owner rebuilds the heap when
// they outnumber the rest.
//
// Not thread-safe.

#include <algorithm>
#include <functional>
#include <queue>
#include <vector>

#include "core/clock.h"
#include "projections/key_state.h"

namespace keyledger {

class DeadlineQueue {
 public:
  // 12 bytes (packed to 4-byte alignment): there is one per active key.
  struct __attribute__((packed, aligned(4))) Entry {
    TimeMs at = 0;
    KeyIndex key = 0;
    bool operator>(const Entry& o) const { return at != o.at ? at > o.at : key > o.key; }
    bool operator==(const Entry& o) const = default;
  };

  void Push(TimeMs at, KeyIndex key) {
    heap_.push_back({at, key});
    std::push_heap(heap_.begin(), heap_.end(), std::greater<>());
  }

  // Pops stale entries until the top is current, so that Earliest() is exact.
  template <typename IsCurrent>
  void DropStale(IsCurrent&& is_current) {
    while (!heap_.empty() && !is_current(heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), std::greater<>());
      heap_.pop_back();
    }
  }

  // The earliest deadline, or 0. REQUIRES: DropStale() since the last change.
  TimeMs Earliest() const { return heap_.empty() ? 0 : heap_.front().at; }

  // Up to `max` current entries due at `now`, earliest first (ties by key number). Visits the
  // heap best-first, so the cost follows the entries returned, not the size of the heap.
  template <typename IsCurrent>
  std::vector<KeyIndex> Due(TimeMs now, size_t max, IsCurrent&& is_current) const {
    std::vector<KeyIndex> due;
    auto later = [this](size_t a, size_t b) { return heap_[a] > heap_[b]; };
    std::priority_queue<size_t, std::vector<size_t>, decltype(later)> frontier(later);
    if (!heap_.empty() && heap_.front().at <= now) frontier.push(0);
    const Entry* last = nullptr;
    while (!frontier.empty() && due.size() < max) {
      const size_t pos = frontier.top();
      frontier.pop();
      const Entry& e = heap_[pos];
      if (is_current(e) && !(last && *last == e)) {
        due.push_back(e.key);
        last = &e;
      }
      for (size_t child : {2 * pos + 1, 2 * pos + 2}) {
        if (child < heap_.size() && heap_[child].at <= now) frontier.push(child);
      }
    }
    return due;
  }

  // Replaces the contents with `entries` (e.g. only the current ones).
  void Assign(std::vector<Entry> entries) {
    heap_ = std::move(entries);
    std::make_heap(heap_.begin(), heap_.end(), std::greater<>());
  }
  size_t size() const { return heap_.size(); }

 private:
  std::vector<Entry> heap_;
};
static_assert(sizeof(DeadlineQueue::Entry) == 12);

}  // namespace keyledger
