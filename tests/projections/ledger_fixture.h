#pragma once
// Shared set-up for the projections tests: a real RocksDB store in a fresh directory under /tmp, a
// ManualClock, and a Ledger opened with a known operator token. Commands are asynchronous (their
// callbacks run on the appender thread); the wrappers here wait for the callback and hand back its
// value, with a bounded wait so that a lost callback fails the test instead of hanging it.

#include <rocksdb/write_batch.h>
#include <simdjson.h>
#include <stdlib.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "core/token.h"
#include "events/appender.h"
#include "events/codec.h"
#include "events/event.h"
#include "events/store.h"
#include "projections/checkpoint.h"
#include "projections/ledger.h"
#include "projections/ledger_state.h"
#include "projections/principal.h"

// Checks a Result's or Status's code, naming both codes and the message when they differ.
#define CHECK_CODE(result, expected)                                                                 \
  BOOST_TEST(::keyledger::testing::CodeName((result).status().code()) ==                           \
                 ::keyledger::testing::CodeName(expected),                                         \
             "message: " << (result).status().message())
#define CHECK_STATUS(status, expected)                                                               \
  BOOST_TEST(::keyledger::testing::CodeName((status).code()) == ::keyledger::testing::CodeName(expected), \
             "message: " << (status).message())

namespace keyledger::testing {

// 2026-03-02T10:00:00.000Z: on an hour boundary, so usage buckets are easy to predict.
inline constexpr TimeMs kStartMs = 1772445600000;
inline constexpr std::chrono::seconds kCallbackTimeout{60};

// A well-formed operator token with a fixed random part: the Ledger installs it on an empty log.
inline const std::string& KnownOperatorToken() {
  static const std::string token = ComposeToken(kOperatorTokenPrefix, "0perat0rT0kenF0rTheTestsOnly0000");
  return token;
}

inline std::string_view CodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "kOk";
    case StatusCode::kInvalidArgument: return "kInvalidArgument";
    case StatusCode::kUnauthorized: return "kUnauthorized";
    case StatusCode::kUpgradeRequired: return "kUpgradeRequired";
    case StatusCode::kForbidden: return "kForbidden";
    case StatusCode::kNotFound: return "kNotFound";
    case StatusCode::kConflict: return "kConflict";
    case StatusCode::kUnavailable: return "kUnavailable";
    case StatusCode::kInternal: return "kInternal";
  }
  return "?";
}

// A directory under /tmp, removed with everything in it when the object goes.
class TempDir {
 public:
  TempDir() {
    std::string pattern = "/tmp/keyledger-projections-XXXXXX";
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Calls `start` with a callback and waits for that callback's value.
template <typename T, typename Start>
Result<T> Await(Start&& start) {
  auto promise = std::make_shared<std::promise<Result<T>>>();
  auto future = promise->get_future();
  start([promise](Result<T> r) { promise->set_value(std::move(r)); });
  if (future.wait_for(kCallbackTimeout) != std::future_status::ready) {
    throw std::runtime_error("a ledger callback never ran");
  }
  return future.get();
}

inline LedgerOptions TestOptions() {
  LedgerOptions options;
  options.bootstrap_token = KnownOperatorToken();
  options.start_sweeper = false;  // tests drive SweepExpired() themselves
  options.checkpoint_events_per_key = 0;  // tests set checkpoint_every_events exactly
  options.checkpoint_min_interval_ms = 0;   // and need no time to pass
  options.background_checkpoints = false;  // tests read the rows right after the trigger
  return options;
}

inline CreateKeyInput KeyInput(std::string name, Preset preset = Preset::kFullAccess) {
  CreateKeyInput in;
  in.name = std::move(name);
  in.preset = preset;
  return in;
}

inline CreateKeyInput KeyInputWithAbilities(std::string name, std::vector<std::string> abilities) {
  CreateKeyInput in;
  in.name = std::move(name);
  in.abilities = std::move(abilities);
  return in;
}

inline Digest DigestOf(std::string_view text) { return Sha256(text); }

// A workspace with one admin and one auditor key.
struct WorkspaceActors {
  std::string id;
  Principal admin;
  std::string admin_token;
  std::string admin_key_id;
  Principal auditor;
  std::string auditor_token;
  std::string auditor_key_id;
};

// An event as the HTTP `<Event>` JSON shows it (Audit and Events answer in that form).
struct ApiEvent {
  uint64_t seq = 0;
  std::string ts;
  std::string type;
  std::string workspace;
  std::string key_id;
  std::string actor;
  std::string hash;
};

inline ApiEvent ParseApiEvent(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(json);
  ApiEvent e;
  e.seq = uint64_t(doc["seq"]);
  e.ts = std::string(std::string_view(doc["ts"]));
  e.type = std::string(std::string_view(doc["type"]));
  const auto text = [&](const char* field) {
    simdjson::dom::element v = doc[field];
    return v.is_null() ? std::string() : std::string(std::string_view(v));
  };
  e.workspace = text("workspace");
  e.key_id = text("key_id");
  e.actor = text("actor");
  e.hash = text("hash");
  return e;
}

inline std::vector<ApiEvent> ParseApiEvents(const std::vector<std::string>& events) {
  std::vector<ApiEvent> out;
  for (const std::string& json : events) out.push_back(ParseApiEvent(json));
  return out;
}

// Every event in the log, decoded, in log order.
inline std::vector<Event> ReadLog(const EventStore& store) {
  std::vector<Event> events;
  Status failure;
  Status scanned = store.Scan(Cf::kEvents, EncodeSeq(0), "", [&](std::string_view, std::string_view value) {
    auto event = DecodeStoredValue(value);
    if (!event.ok()) {
      failure = event.status();
      return false;
    }
    events.push_back(std::move(event).value());
    return true;
  });
  BOOST_REQUIRE_MESSAGE(scanned.ok(), scanned.message());
  BOOST_REQUIRE_MESSAGE(failure.ok(), failure.message());
  return events;
}

// The state a fresh LedgerState reaches from every event from seq 1.
inline LedgerState RebuildFromLog(const EventStore& store, uint64_t to_seq = 0) {
  LedgerState state;
  Status s = ReplayInto(store, state, to_seq);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.message());
  return state;
}

// Holds the ledger's read thread until `released` is ready, so that what is handed to it waits;
// returns once the thread is held. Both waits are bounded, so that a test that never releases it
// fails instead of hanging.
inline void ParkReadThread(Ledger& ledger, std::shared_future<void> released) {
  constexpr auto kPatience = std::chrono::seconds(10);
  std::promise<void> entered;
  ledger.RunLongRead([&entered, released, kPatience] {
    entered.set_value();
    released.wait_for(kPatience);
    return std::function<void()>();
  });
  BOOST_TEST_REQUIRE((entered.get_future().wait_for(kPatience) == std::future_status::ready));
}

// Writes a raw event at `seq` into the log, bypassing the appender.
inline void PutRawEvent(EventStore& store, uint64_t seq, const Digest& prev_hash) {
  Event e;
  e.seq = seq;
  e.ts = kStartMs + 10 * kDayMs;
  e.workspace = "acme";
  e.actor = "intruder";
  e.data = WorkspaceUpdated{Plan::kFree};
  e.prev_hash = prev_hash;
  const std::string body = EncodeBody(e);
  rocksdb::WriteBatch batch;
  BatchRowsForStore(batch, store).Put(Cf::kEvents, EncodeSeq(seq), EncodeStoredValue(ChainHash(prev_hash, body), body));
  Status s = store.Write(batch, true);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.message());
}

// Appends events straight through an Appender, bypassing the Ledger's rules: for facts no command
// produces (revoking an admin key) and for planting events. REQUIRES: no Ledger is open on `store`.
class NullSink final : public EventSink {
 public:
  void Apply(const Event&, std::string_view, BatchRows&) override {}
};

inline Status AppendRaw(EventStore& store, const Clock& clock, std::vector<PendingEvent> events) {
  NullSink sink;
  Appender appender(store, sink, clock);
  if (Status s = appender.Start(); !s.ok()) return s;
  std::promise<Status> written;
  AppendRequest request;
  auto shared = std::make_shared<std::vector<PendingEvent>>(std::move(events));
  request.prepare = [shared](AppendContext&) -> Result<std::vector<PendingEvent>> { return *shared; };
  request.done = [&](const Status& s, uint64_t, uint64_t) { written.set_value(s); };
  appender.Submit(std::move(request));
  Status s = written.get_future().get();
  appender.Stop();
  return s;
}

class LedgerEnv {
 public:
  explicit LedgerEnv(LedgerOptions options = TestOptions()) : clock(kStartMs), options_(std::move(options)) {
    OpenStore();
    OpenLedger();
  }
  ~LedgerEnv() {
    ledger.reset();
    store.reset();
  }
  LedgerEnv(const LedgerEnv&) = delete;
  LedgerEnv& operator=(const LedgerEnv&) = delete;

  void OpenStore() {
    auto opened = EventStore::Open(dir.path(), StoreOptions{});
    BOOST_REQUIRE_MESSAGE(opened.ok(), opened.status().message());
    store = std::move(opened).value();
  }
  void OpenLedger() {
    ledger = std::make_unique<Ledger>(*store, clock, options_);
    Status s = ledger->Open();
    BOOST_REQUIRE_MESSAGE(s.ok(), s.message());
    if (!options_.bootstrap_token.empty()) {
      auto p = ledger->Authenticate(options_.bootstrap_token, "ops");
      BOOST_REQUIRE_MESSAGE(p.ok(), "the bootstrap operator token does not authenticate");
      op = *p;
    }
  }
  // Close() and a new Ledger on the same store.
  void ReopenLedger() {
    ledger.reset();
    OpenLedger();
  }
  // As after a restart of the process: a new store and a new Ledger on the same directory.
  void ReopenAll() {
    ledger.reset();
    store.reset();
    OpenStore();
    OpenLedger();
  }
  void CloseLedger() { ledger.reset(); }
  void set_options(LedgerOptions options) { options_ = std::move(options); }

  // --- synchronous commands ---
  Result<WorkspaceState> CreateWorkspace(const Principal& p, std::string id, std::optional<Plan> plan,
                                         std::string name = {}) {
    return Await<WorkspaceState>([&](Callback<WorkspaceState> cb) {
      ledger->CreateWorkspace(p, WorkspaceInput{std::move(id), std::move(name), plan, std::nullopt}, std::move(cb));
    });
  }
  Result<WorkspaceState> UpdatePlan(const Principal& p, std::string ws, Plan plan) {
    return Await<WorkspaceState>(
        [&](Callback<WorkspaceState> cb) { ledger->UpdateWorkspace(p, std::move(ws), WorkspaceUpdate{plan, std::nullopt}, std::move(cb)); });
  }
  Result<CreatedKey> CreateAdminKey(const Principal& p, std::string ws, std::string name, std::string role) {
    return Await<CreatedKey>([&](Callback<CreatedKey> cb) {
      ledger->CreateAdminKey(p, std::move(ws), std::move(name), std::move(role), std::move(cb));
    });
  }
  Result<CreatedKey> CreateApiKey(const Principal& p, std::string ws, CreateKeyInput in) {
    return Await<CreatedKey>(
        [&](Callback<CreatedKey> cb) { ledger->CreateApiKey(p, std::move(ws), std::move(in), std::move(cb)); });
  }
  Result<CreatedKey> Rotate(const Principal& p, std::string ws, std::string key_id, RotateKeyInput in = {}) {
    return Await<CreatedKey>([&](Callback<CreatedKey> cb) {
      ledger->RotateKey(p, std::move(ws), std::move(key_id), std::move(in), std::move(cb));
    });
  }
  Result<CreatedKey> RotateWithGrace(const Principal& p, std::string ws, std::string key_id, int64_t grace) {
    RotateKeyInput in;
    in.grace_seconds = grace;
    return Rotate(p, std::move(ws), std::move(key_id), std::move(in));
  }
  Result<KeyState> Revoke(const Principal& p, std::string ws, std::string key_id, std::string reason = {}) {
    return Await<KeyState>([&](Callback<KeyState> cb) {
      ledger->RevokeKey(p, std::move(ws), std::move(key_id), std::move(reason), std::move(cb));
    });
  }
  Result<VerifyResult> Verify(std::string_view token, std::string ability = {}, std::string ip = {}) {
    return Await<VerifyResult>([&](Callback<VerifyResult> cb) {
      ledger->Verify(VerifyInput{token, std::move(ability), std::move(ip)}, std::move(cb));
    });
  }
  // The verify code, failing the test when Verify itself failed.
  VerifyCode VerifyCodeOf(std::string_view token, std::string ability = {}) {
    auto r = Verify(token, std::move(ability));
    BOOST_REQUIRE_MESSAGE(r.ok(), "Verify failed: " << r.status().message());
    return r->code;
  }
  Status Sweep() {
    auto r = Await<bool>([&](Callback<bool> cb) {
      ledger->SweepExpired([cb = std::move(cb)](Status s) {
        if (s.ok()) {
          cb(true);
        } else {
          cb(std::move(s));
        }
      });
    });
    return r.status();
  }

  // --- set-up helpers that fail the test on error ---
  WorkspaceActors MustSetUpWorkspace(const std::string& id, Plan plan = Plan::kPro, std::string name = {}) {
    auto ws = CreateWorkspace(op, id, plan, std::move(name));
    BOOST_REQUIRE_MESSAGE(ws.ok(), "CreateWorkspace " << id << ": " << ws.status().message());
    WorkspaceActors actors;
    actors.id = id;
    auto admin = CreateAdminKey(op, id, "dashboard", "admin");
    BOOST_REQUIRE_MESSAGE(admin.ok(), admin.status().message());
    actors.admin_token = admin->token;
    actors.admin_key_id = admin->key.id;
    auto admin_p = ledger->Authenticate(admin->token, "");
    BOOST_REQUIRE(admin_p.ok());
    actors.admin = *admin_p;
    auto auditor = CreateAdminKey(op, id, "reviewer", "auditor");
    BOOST_REQUIRE_MESSAGE(auditor.ok(), auditor.status().message());
    actors.auditor_token = auditor->token;
    actors.auditor_key_id = auditor->key.id;
    auto auditor_p = ledger->Authenticate(auditor->token, "");
    BOOST_REQUIRE(auditor_p.ok());
    actors.auditor = *auditor_p;
    return actors;
  }
  CreatedKey MustCreateKey(const Principal& admin, const std::string& ws, CreateKeyInput in) {
    auto created = CreateApiKey(admin, ws, std::move(in));
    BOOST_REQUIRE_MESSAGE(created.ok(), "CreateApiKey: " << created.status().message());
    return std::move(created).value();
  }
  // `count` keys named prefix0, prefix1, ... created concurrently (group-committed, so thousands
  // take well under a second); their ids in name order.
  std::vector<std::string> MustCreateKeys(const Principal& admin, const std::string& ws, size_t count,
                                          const std::string& prefix = "key ") {
    struct Answers {  // shared with the callbacks: a failed wait must not leave them dangling
      std::mutex mutex;
      std::condition_variable all_done;
      std::vector<std::string> ids;
      size_t answered = 0;
      std::string failure;
    };
    auto answers = std::make_shared<Answers>();
    answers->ids.resize(count);
    for (size_t i = 0; i < count; ++i) {
      ledger->CreateApiKey(admin, ws, KeyInput(prefix + std::to_string(i)), [answers, i, count](Result<CreatedKey> r) {
        std::lock_guard lock(answers->mutex);
        if (r.ok()) {
          answers->ids[i] = r->key.id;
        } else if (answers->failure.empty()) {
          answers->failure = r.status().message();
        }
        if (++answers->answered == count) answers->all_done.notify_all();
      });
    }
    std::unique_lock lock(answers->mutex);
    const bool all = answers->all_done.wait_for(lock, std::chrono::seconds(60),
                                                [&] { return answers->answered == count; });
    BOOST_REQUIRE_MESSAGE(all, "only " << answers->answered << " of " << count << " creations were answered");
    BOOST_REQUIRE_MESSAGE(answers->failure.empty(), "CreateApiKey: " << answers->failure);
    return answers->ids;
  }
  KeyState MustGetKey(const Principal& p, const std::string& ws, const std::string& id) {
    auto key = ledger->GetKey(p, ws, id);
    BOOST_REQUIRE_MESSAGE(key.ok(), "GetKey: " << key.status().message());
    return std::move(key).value();
  }

  std::vector<Event> Log() const { return ReadLog(*store); }

  TempDir dir;
  ManualClock clock;
  std::unique_ptr<EventStore> store;
  std::unique_ptr<Ledger> ledger;
  Principal op;  // the operator, authenticated with actor "ops"

 private:
  LedgerOptions options_;
};

// Events of the log that concern `key_id`, in log order.
inline std::vector<Event> EventsForKey(const std::vector<Event>& log, const std::string& key_id) {
  std::vector<Event> out;
  for (const Event& e : log) {
    if (e.key_id == key_id) out.push_back(e);
  }
  return out;
}

inline size_t CountType(const std::vector<Event>& log, EventType type) {
  size_t n = 0;
  for (const Event& e : log) n += e.type() == type;
  return n;
}

}  // namespace keyledger::testing
