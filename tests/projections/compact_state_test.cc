// The compact in-memory layout behind LedgerState: packed strings, the record index, the lazy
// deadline heap, and the property that matters most: a state restored from its serialization
// then fed more events is byte-for-byte the state that saw every event live.

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/token.h"
#include "projections/compact_storage.h"
#include "projections/deadline_queue.h"
#include "projections/ledger_state.h"
#include "projections/stable_vector.h"
#include "projections/usage_history.h"
#include "tests/projections/ledger_fixture.h"

namespace keyledger {
namespace {

using testing::kStartMs;

BOOST_AUTO_TEST_SUITE(CompactStateTest)

BOOST_AUTO_TEST_CASE(text_arena_returns_every_part_of_every_record) {
  TextArena arena;
  std::vector<const char*> records;
  std::vector<std::vector<std::string>> expected;
  for (int i = 0; i < 20000; ++i) {  // several 1 MiB blocks
    std::vector<std::string> parts = {"key_" + std::to_string(i), std::string(i % 300, 'x'), "",
                                      "ünï " + std::to_string(i * 7)};
    records.push_back(arena.Pack({parts[0], parts[1], parts[2], parts[3]}));
    expected.push_back(std::move(parts));
  }
  const std::string huge(3 << 20, 'h');  // larger than a block
  const char* big = arena.Pack({"a", huge, "z"});
  for (size_t r = 0; r < records.size(); ++r) {
    for (size_t p = 0; p < 4; ++p) BOOST_REQUIRE(TextArena::Part(records[r], p) == expected[r][p]);
  }
  BOOST_TEST(TextArena::Part(big, 1) == huge);
  BOOST_TEST(TextArena::Part(big, 2) == "z");
  // 4-byte references resolve to the same records, across blocks and around an oversized one.
  std::vector<TextArena::Ref> refs;
  for (int i = 0; i < 30000; ++i) {
    refs.push_back(arena.PackRef({"ref-" + std::to_string(i), i == 15000 ? huge : std::string(i % 100, 'y')}));
  }
  for (int i = 0; i < 30000; ++i) {
    BOOST_REQUIRE(TextArena::Part(arena.Resolve(refs[i]), 0) == "ref-" + std::to_string(i));
    BOOST_REQUIRE(TextArena::Part(arena.Resolve(refs[i]), 1).size() == (i == 15000 ? huge.size() : size_t(i % 100)));
  }
}

// Elements keep their addresses across growth (LedgerState holds references to records while it
// appends), every element is destroyed exactly once, and a move leaves the source empty.
BOOST_AUTO_TEST_CASE(stable_vector_never_moves_its_elements) {
  StableVector<std::string, 3> strings;  // chunks of 8: growth crosses many chunk boundaries
  std::vector<const std::string*> addresses;
  for (int i = 0; i < 100; ++i) {
    strings.push_back("element " + std::to_string(i) + std::string(20, 'x'));  // heap-allocated
    addresses.push_back(&strings[static_cast<size_t>(i)]);
  }
  BOOST_TEST(strings.size() == 100u);
  for (size_t i = 0; i < strings.size(); ++i) {
    BOOST_REQUIRE(&strings[i] == addresses[i]);
    BOOST_REQUIRE(strings[i] == "element " + std::to_string(i) + std::string(20, 'x'));
  }
  StableVector<std::string, 3> moved(std::move(strings));
  BOOST_TEST(strings.empty());
  BOOST_TEST(moved.size() == 100u);
  BOOST_TEST(&moved[99] == addresses[99]);
  strings.push_back("reused after the move");
  BOOST_TEST(strings[0] == "reused after the move");
  moved = std::move(strings);
  BOOST_TEST(moved.size() == 1u);
  BOOST_TEST(moved[0] == "reused after the move");

  auto counter = std::make_shared<int>(0);
  {
    StableVector<std::shared_ptr<int>, 2> shared;
    for (int i = 0; i < 10; ++i) shared.push_back(counter);
    BOOST_TEST(counter.use_count() == 11);
  }
  BOOST_TEST(counter.use_count() == 1);  // each copy destroyed once (ASan/valgrind: no leak)
}

// A snapshot keeps the elements as they were: the first change to a chunk it shares copies that
// chunk (with T::Clone() when T has one), and a chunk no snapshot holds any more changes in place.
struct Cloned {
  int value = 0;
  int clones = 0;  // how many copies led to this one
  Cloned() = default;
  explicit Cloned(int v) : value(v) {}
  Cloned(Cloned&&) = default;
  Cloned Clone() const {
    Cloned c(value);
    c.clones = clones + 1;
    return c;
  }
};

BOOST_AUTO_TEST_CASE(stable_vector_snapshots_never_see_later_changes) {
  StableVector<Cloned, 2> v;  // chunks of 4
  for (int i = 0; i < 10; ++i) v.push_back(Cloned(i));
  const Cloned* unshared = &v[5];
  v.Mutable(5).value = 50;  // no snapshot: in place
  BOOST_TEST(&v[5] == unshared);

  auto snapshot = std::make_unique<StableVector<Cloned, 2>::Snapshot>(v.TakeSnapshot());
  v.Mutable(5).value = 500;  // chunk 1 is copied, by Clone()
  v.push_back(Cloned(10));   // into chunk 2, shared: copied too
  v.push_back(Cloned(11));
  v.push_back(Cloned(12));   // a new chunk
  BOOST_TEST(&v[5] != unshared);
  BOOST_TEST(v[5].value == 500);
  BOOST_TEST(v[4].clones == 1);
  BOOST_TEST(v[0].clones == 0);  // chunk 0 was never changed: still shared, not copied
  BOOST_TEST(&v[0] == &(*snapshot)[0]);
  BOOST_TEST(v[9].clones == 1);
  BOOST_TEST(v[12].clones == 0);
  BOOST_TEST(v.size() == 13u);

  BOOST_TEST(snapshot->size() == 10u);
  BOOST_TEST(&(*snapshot)[5] == unshared);
  BOOST_TEST((*snapshot)[5].value == 50);
  for (size_t i = 0; i < snapshot->size(); ++i) {
    BOOST_TEST((*snapshot)[i].value == (i == 5 ? 50 : static_cast<int>(i)));
  }

  snapshot.reset();
  const Cloned* owned = &v[1];
  v.Mutable(1).value = 100;  // chunk 0 is this vector's alone again: in place
  BOOST_TEST(&v[1] == owned);
  BOOST_TEST(v[1].clones == 0);

  // A snapshot outlives its vector; types without Clone() are copied with their copy constructor.
  StableVector<std::string, 2>::Snapshot kept;
  {
    StableVector<std::string, 2> strings;
    for (int i = 0; i < 6; ++i) strings.push_back("string " + std::to_string(i) + std::string(20, 'x'));
    kept = strings.TakeSnapshot();
    strings.Mutable(0) = "changed";
    BOOST_TEST(strings[0] == "changed");
  }
  BOOST_TEST(kept.size() == 6u);
  BOOST_TEST(kept[0] == "string 0" + std::string(20, 'x'));
  BOOST_TEST(kept[5] == "string 5" + std::string(20, 'x'));
}

BOOST_AUTO_TEST_CASE(text_arena_snapshots_resolve_after_the_arena_is_gone) {
  std::vector<TextArena::Ref> refs;
  TextArena::Snapshot snapshot;
  {
    TextArena arena;
    for (int i = 0; i < 30000; ++i) refs.push_back(arena.PackRef({"part-" + std::to_string(i), std::string(60, 'y')}));
    snapshot = arena.TakeSnapshot();
    for (int i = 0; i < 30000; ++i) arena.PackRef({"after", std::string(60, 'z')});
  }
  for (int i = 0; i < 30000; ++i) {
    BOOST_REQUIRE(TextArena::Part(snapshot.Resolve(refs[i]), 0) == "part-" + std::to_string(i));
  }
}

BOOST_AUTO_TEST_CASE(record_index_finds_every_record_through_growth) {
  std::vector<std::string> keys;
  RecordIndex index;
  auto hash = [&](uint32_t n) { return std::hash<std::string>()(keys[n]); };
  for (uint32_t n = 0; n < 50000; ++n) {
    keys.push_back("id-" + std::to_string(n * 2654435761u));
    index.Insert(hash(n), n, hash);
  }
  BOOST_TEST(index.size() == keys.size());
  for (uint32_t n = 0; n < keys.size(); ++n) {
    const uint32_t found = index.Find(hash(n), [&](uint32_t m) { return keys[m] == keys[n]; });
    BOOST_REQUIRE(found == n);
  }
  const std::string absent = "not-there";
  BOOST_TEST(index.Find(std::hash<std::string>()(absent), [&](uint32_t m) { return keys[m] == absent; }) ==
             RecordIndex::kNone);
  index.Replace(hash(7), 7, 9);
  BOOST_TEST(index.Find(hash(7), [&](uint32_t m) { return m == 9; }) == 9u);
}

// The slot's hash tag only filters: keys whose hashes share their low bits and their tag (here:
// identical hashes) are still told apart by the equality test; keys in the same probe run with
// another tag (the hash's top bits) never reach it.
BOOST_AUTO_TEST_CASE(record_index_tells_apart_keys_with_colliding_hashes) {
  RecordIndex index;
  const std::vector<uint64_t> hashes = {42, 42, 42, 42 | (uint64_t{1} << 63), 42 | (uint64_t{1} << 62)};
  auto hash_of = [&](uint32_t n) { return hashes[n]; };
  for (uint32_t n = 0; n < hashes.size(); ++n) index.Insert(hashes[n], n, hash_of);
  for (uint32_t n = 0; n < hashes.size(); ++n) {
    size_t tests = 0;
    const uint32_t found = index.Find(hashes[n], [&](uint32_t m) {
      ++tests;
      BOOST_TEST(hashes[m] == hashes[n]);  // only same-tag candidates are ever compared
      return m == n;
    });
    BOOST_TEST(found == n);
    BOOST_TEST(tests == (hashes[n] == 42 ? n + 1 : 1u));
  }
  BOOST_TEST(index.FirstProbe(42) == 0u);
  BOOST_TEST(index.FirstProbe(42 | (uint64_t{1} << 63)) == RecordIndex::kNone);  // same slot, other tag
  BOOST_CHECK_THROW(index.Insert(7, RecordIndex::kMaxRecords, hash_of), std::length_error);
  BOOST_TEST(index.size() == hashes.size());
}

BOOST_AUTO_TEST_CASE(deadline_queue_returns_current_entries_earliest_first) {
  std::mt19937 rng(42);
  DeadlineQueue queue;
  std::vector<TimeMs> current(2000, 0);  // key → its current deadline (0: none)
  for (KeyIndex k = 0; k < current.size(); ++k) {
    current[k] = 1 + rng() % 500;
    queue.Push(current[k], k);
  }
  // Move some deadlines and end some keys: their old entries go stale.
  for (KeyIndex k = 0; k < current.size(); k += 3) {
    current[k] = 1 + rng() % 500;
    queue.Push(current[k], k);
  }
  for (KeyIndex k = 1; k < current.size(); k += 5) current[k] = 0;
  auto is_current = [&](const DeadlineQueue::Entry& e) { return current[e.key] == e.at; };
  queue.DropStale(is_current);

  std::vector<std::pair<TimeMs, KeyIndex>> want;
  for (KeyIndex k = 0; k < current.size(); ++k) {
    if (current[k] != 0 && current[k] <= 250) want.push_back({current[k], k});
  }
  std::sort(want.begin(), want.end());
  BOOST_TEST(queue.Earliest() == std::min_element(want.begin(), want.end())->first);
  const std::vector<KeyIndex> due = queue.Due(250, 100000, is_current);
  BOOST_REQUIRE(due.size() == want.size());
  for (size_t i = 0; i < due.size(); ++i) BOOST_REQUIRE(due[i] == want[i].second);
  const std::vector<KeyIndex> first = queue.Due(250, 10, is_current);
  BOOST_TEST((first == std::vector<KeyIndex>(due.begin(), due.begin() + 10)));
  BOOST_TEST(queue.Due(0, 10, is_current).empty());
}

BOOST_AUTO_TEST_CASE(usage_history_counts_like_a_list_of_hourly_buckets) {
  std::mt19937 rng(5);
  UsageHistory history;
  std::vector<UsageBucket> want;
  TimeMs ts = kStartMs;
  for (int i = 0; i < 20000; ++i) {
    ts += rng() % 4 == 0 ? rng() % (30 * kDayMs) : rng() % 1000;  // sometimes days later
    const bool valid = rng() % 5 != 0;
    const TimeMs hour = ts - ts % kHourMs;
    if (want.empty() || want.back().hour_start != hour) want.push_back({hour, 0, 0});
    ++want.back().count;
    if (!valid) ++want.back().rejected;
    history.Count(ts, valid);
    if (i % 997 == 0) {
      const std::vector<UsageBucket> got = history.Buckets();
      BOOST_REQUIRE(got.size() == want.size());
    }
  }
  const std::vector<UsageBucket> got = history.Buckets();
  BOOST_REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    BOOST_REQUIRE(got[i].hour_start == want[i].hour_start);
    BOOST_REQUIRE(got[i].count == want[i].count);
    BOOST_REQUIRE(got[i].rejected == want[i].rejected);
  }
  // Its bytes restore it exactly, and go on counting the same way.
  UsageHistory restored;
  BOOST_REQUIRE(UsageHistory::FromBytes(history.bytes(), restored));
  BOOST_TEST(restored.bytes() == history.bytes());
  history.Count(ts + 1, true);
  restored.Count(ts + 1, true);
  BOOST_TEST(restored.bytes() == history.bytes());
  // Truncated bytes are refused.
  const std::string bytes(history.bytes());
  UsageHistory bad;
  BOOST_TEST(!UsageHistory::FromBytes(bytes.substr(0, bytes.size() - 1), bad));
  BOOST_TEST(!UsageHistory::FromBytes(std::string(1, '\x80'), bad));
}

// Busy hours: a bucket's counts grow past one and two varint bytes while it is rewritten in place,
// and the history still reads back exactly, also after the next hour starts a bucket behind it.
BOOST_AUTO_TEST_CASE(usage_history_busy_hours_grow_their_bucket_in_place) {
  UsageHistory history;
  const TimeMs hour = kStartMs - kStartMs % kHourMs;
  for (uint64_t i = 0; i < 20000; ++i) history.Count(hour + static_cast<TimeMs>(i % kHourMs), i % 3 != 0);
  for (uint64_t i = 0; i < 70; ++i) history.Count(hour + kHourMs, false);
  const std::vector<UsageBucket> got = history.Buckets();
  BOOST_REQUIRE(got.size() == 2u);
  BOOST_TEST(got[0].hour_start == hour);
  BOOST_TEST(got[0].count == 20000u);
  BOOST_TEST(got[0].rejected == 6667u);
  BOOST_TEST(got[1].hour_start == hour + kHourMs);
  BOOST_TEST(got[1].count == 70u);
  BOOST_TEST(got[1].rejected == 70u);
}

// Random but valid event streams: workspaces, keys with and without expiry, rotations, revocations,
// expiries and uses (valid and rejected).
class RandomLog {
 public:
  explicit RandomLog(uint32_t seed) : rng_(seed) {}

  Event Next() {
    Event e;
    e.seq = ++seq_;
    ts_ += rng_() % 5000;
    e.ts = ts_;
    e.actor = "actor-" + std::to_string(rng_() % 3);
    const uint32_t roll = rng_() % 100;
    if (workspaces_.empty() || roll < 2) {
      e.workspace = "ws-" + std::to_string(workspaces_.size());
      workspaces_.push_back(e.workspace);
      e.data = WorkspaceCreated{"Workspace " + e.workspace, rng_() % 2 ? Plan::kPro : Plan::kFree, 365};
    } else if (keys_.empty() || roll < 20) {
      e.workspace = workspaces_[rng_() % workspaces_.size()];
      e.key_id = "key_" + std::to_string(seq_) + "_" + std::to_string(rng_());
      KeyCreated k;
      k.name = "svc " + std::to_string(rng_() % 1000);
      k.prefix = "kl_" + std::to_string(seq_);
      k.digest = Sha256(e.key_id);
      k.owner = rng_() % 2 ? "ops@example.com" : "";
      k.description = rng_() % 4 == 0 ? "made by the random log" : "";
      if (rng_() % 2) {
        k.preset = Preset::kReadOnly;
        k.abilities = {"*:read"};
      } else {
        k.abilities = {"invoices:read", "orders:write"};
      }
      if (rng_() % 5 == 0) k.metadata = {{"team", "pay"}};
      if (rng_() % 7 == 0) {
        k.idempotency_key = "idem-" + std::to_string(rng_() % 10);
        k.request_digest = Sha256(k.name);
      }
      k.expires_at = rng_() % 3 == 0 ? 0 : ts_ + (1 + rng_() % 200) * kSecondMs;
      e.data = std::move(k);
      keys_.push_back({e.key_id, e.workspace});
    } else {
      const auto& [key, ws] = keys_[rng_() % keys_.size()];
      e.key_id = key;
      e.workspace = ws;
      if (roll < 24) {
        e.data = KeyRotated{keys_.back().first, ts_ + static_cast<TimeMs>(rng_() % 100) * kSecondMs};
      } else if (roll < 27) {
        e.data = KeyRevoked{"reason " + std::to_string(rng_() % 5)};
      } else if (roll < 30) {
        e.data = KeyExpired{"expired"};
      } else {
        e.data = KeyUsed{rng_() % 4 == 0 ? UseOutcome::kForbidden : UseOutcome::kValid, "invoices:read",
                         "10.0.0." + std::to_string(rng_() % 255)};
      }
    }
    return e;
  }

 private:
  std::mt19937 rng_;
  uint64_t seq_ = 0;
  TimeMs ts_ = kStartMs;
  std::vector<std::string> workspaces_;
  std::vector<std::pair<std::string, std::string>> keys_;
};

// A frozen state serializes as the state did when it was frozen, on another thread while the live
// one applies creations, uses, rotations, revocations and expiries (every kind of record change);
// and the live state, whose changed chunks were copied, ends exactly like one never frozen.
BOOST_AUTO_TEST_CASE(a_frozen_state_keeps_its_moment_while_the_live_one_moves_on) {
  for (uint32_t seed : {4u, 5u}) {
    RandomLog log(seed);
    std::vector<Event> events;
    for (int i = 0; i < 20000; ++i) events.push_back(log.Next());
    LedgerState live, never_frozen;
    for (int i = 0; i < 10000; ++i) {
      live.Apply(events[i]);
      never_frozen.Apply(events[i]);
    }
    BOOST_REQUIRE_MESSAGE(live.key_count() > KeyRecords::kChunkSize, live.key_count() << " keys");  // two chunks, the last partly filled
    const std::string at_freeze = live.Serialize();
    const FrozenLedgerState frozen = live.Freeze();
    BOOST_TEST(frozen.applied_seq() == 10000u);

    std::atomic<bool> applying{true};
    int serialized = 0, differed = 0;
    std::thread reader([&] {
      do {
        ++serialized;
        if (frozen.Serialize() != at_freeze) ++differed;
      } while (applying.load());
    });
    for (int i = 10000; i < 20000; ++i) {
      live.Apply(events[i]);
      never_frozen.Apply(events[i]);
    }
    applying.store(false);
    reader.join();
    BOOST_TEST(serialized > 0);
    BOOST_TEST(differed == 0, "seed " << seed);
    BOOST_TEST(frozen.Serialize() == at_freeze);
    BOOST_TEST(live.Serialize() == never_frozen.Serialize(), "seed " << seed);
    BOOST_TEST(live.Serialize() != at_freeze);
  }
}

// A checkpoint streams the frozen state: the same bytes in pieces of the size asked (the last
// shorter), the key records let go of as they are written (the live state then changes them in
// place: a record's address stays), and an emit that fails stops it.
BOOST_AUTO_TEST_CASE(a_frozen_state_serializes_in_pieces_and_lets_go_as_it_goes) {
  RandomLog log(6);
  LedgerState live;
  for (int i = 0; i < 10000; ++i) live.Apply(log.Next());
  BOOST_REQUIRE(live.key_count() > KeyRecords::kChunkSize);
  const std::string whole = live.Serialize();
  auto use_of_first_key = [&] {
    Event e = log.Next();
    e.key_id = std::string(live.IdOf(live.Record(0)));
    e.workspace = live.WorkspaceOf(live.Record(0));
    e.data = KeyUsed{UseOutcome::kValid, "invoices:read", "10.0.0.1"};
    return e;
  };

  const KeyRecord* before = &live.Record(0);
  FrozenLedgerState held = live.Freeze();
  live.Apply(use_of_first_key());
  BOOST_TEST(&live.Record(0) != before);  // the frozen state holds its chunk: copied
  BOOST_TEST(held.Serialize() == whole);

  const std::string now = live.Serialize();
  FrozenLedgerState streamed = live.Freeze();
  const KeyRecord* shared = &live.Record(0);
  std::vector<std::string> pieces;
  size_t emitted_bytes = 0;
  const KeyRecord* during = nullptr;
  BOOST_TEST(std::move(streamed).SerializeInPieces(1000, [&](std::string_view piece) {
    pieces.emplace_back(piece);
    emitted_bytes += piece.size();
    // Nine tenths in, the first chunk of records (the first 1024 keys) is written, the last not
    // yet: a use of key 0 now changes it in place.
    if (!during && emitted_bytes >= now.size() * 9 / 10) {
      live.Apply(use_of_first_key());
      during = &live.Record(0);
    }
    return true;
  }));
  BOOST_TEST(during == shared);
  std::string joined;
  for (size_t i = 0; i < pieces.size(); ++i) {
    BOOST_TEST((i + 1 == pieces.size() ? pieces[i].size() <= 1000u : pieces[i].size() == 1000u));
    joined += pieces[i];
  }
  BOOST_TEST(pieces.size() == (now.size() + 999) / 1000);
  BOOST_TEST(joined == now);

  int emitted = 0;
  BOOST_TEST(!live.Freeze().SerializeInPieces(1000, [&](std::string_view) { return ++emitted < 3; }));
  BOOST_TEST(emitted == 3);
}

BOOST_AUTO_TEST_CASE(a_restored_state_continues_exactly_like_the_live_one) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    RandomLog log(seed);
    LedgerState live;
    std::vector<Event> events;
    for (int i = 0; i < 3000; ++i) events.push_back(log.Next());
    for (int i = 0; i < 1500; ++i) live.Apply(events[i]);
    auto restored = LedgerState::Deserialize(live.Serialize());
    BOOST_REQUIRE_MESSAGE(restored.ok(), restored.status().message());
    for (int i = 1500; i < 3000; ++i) {
      live.Apply(events[i]);
      restored->Apply(events[i]);
    }
    BOOST_TEST(restored->Serialize() == live.Serialize(), "seed " << seed);
    const TimeMs end = events.back().ts + 300 * kSecondMs;
    BOOST_TEST((restored->DueForExpiry(end, 100000) == live.DueForExpiry(end, 100000)));
    BOOST_TEST(restored->NextDeadline() == live.NextDeadline());

    // The deadline index agrees with a brute-force scan of the keys.
    std::vector<std::pair<TimeMs, std::string>> want;
    for (KeyIndex k = 0; k < live.key_count(); ++k) {
      const KeyRecord& r = live.Record(k);
      if (r.status == KeyStatus::kActive && r.Deadline() != 0 && r.Deadline() <= end) {
        want.push_back({r.Deadline(), std::string(live.IdOf(r))});
      }
    }
    std::stable_sort(want.begin(), want.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<std::string> want_ids;
    for (const auto& [at, id] : want) want_ids.push_back(id);
    BOOST_TEST((live.DueForExpiry(end, 100000) == want_ids));
  }
}

BOOST_AUTO_TEST_CASE(key_copies_carry_every_field_of_the_record) {
  RandomLog log(7);
  LedgerState state;
  for (int i = 0; i < 2000; ++i) state.Apply(log.Next());
  std::set<std::string> ids;
  for (KeyIndex k = 0; k < state.key_count(); ++k) {
    const KeyState key = state.Key(k);
    const KeyRecord& r = state.Record(k);
    BOOST_REQUIRE(key.id == state.IdOf(r));
    BOOST_REQUIRE(ids.insert(key.id).second);
    BOOST_REQUIRE(state.IndexOfKey(key.id) == std::optional<KeyIndex>(k));
    BOOST_REQUIRE(state.IndexOfDigest(key.digest) == std::optional<KeyIndex>(k));
    BOOST_REQUIRE(key.workspace == state.WorkspaceOf(r));
    BOOST_REQUIRE((key.abilities.list() == state.AbilitiesOf(r).list()));
    BOOST_REQUIRE(key.usage_count == r.usage_count);
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger
