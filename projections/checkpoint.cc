#include "projections/checkpoint.h"

#include <cstring>
#include <vector>

#include "core/log.h"
#include "events/appender.h"
#include "events/codec.h"

namespace keyledger {
namespace {

constexpr std::string_view kRowPrefix = "projection_checkpoint/";
constexpr size_t kHeaderSize = 48;

std::string RowKey(TimeMs ts, uint64_t seq) {
  return std::string(kRowPrefix) + EncodeSeq(static_cast<uint64_t>(ts)) + EncodeSeq(seq);
}

std::string PrefixEnd() {
  std::string end(kRowPrefix);
  end.back() = static_cast<char>(end.back() + 1);
  return end;
}

// The checkpoint in `value` when its hash matches event `seq` of the log.
std::optional<LedgerState> Validated(const EventStore& store, std::string_view value) {
  if (value.size() < kHeaderSize) return std::nullopt;
  const uint64_t seq = DecodeSeq(value);
  Digest hash;
  std::memcpy(hash.data(), value.data() + 8, hash.size());
  auto event_row = store.Get(Cf::kEvents, EncodeSeq(seq));
  if (!event_row.ok() || !event_row->has_value()) {
    log::Warn("projection checkpoint at seq " + std::to_string(seq) + " is ahead of the log; skipped");
    return std::nullopt;
  }
  auto parts = SplitStoredValue(**event_row);
  if (!parts.ok() || parts->hash != hash) {
    log::Warn("projection checkpoint at seq " + std::to_string(seq) + " does not match the log; skipped");
    return std::nullopt;
  }
  auto state = LedgerState::Deserialize(value.substr(kHeaderSize));
  if (!state.ok()) {
    log::Warn(state.status().message() + "; skipped");
    return std::nullopt;
  }
  return std::move(state).value();
}

}  // namespace

Status SaveProjectionCheckpoint(EventStore& store, const LedgerState& state, const Digest& head_hash,
                                std::string_view serialized) {
  std::string value = EncodeSeq(state.applied_seq());
  value.append(AsBytes(head_hash));
  value.append(EncodeSeq(static_cast<uint64_t>(state.applied_ts())));
  value.append(serialized);
  rocksdb::WriteBatch batch;
  BatchRows rows = BatchRowsForStore(batch, store);
  rows.Put(Cf::kMeta, RowKey(state.applied_ts(), state.applied_seq()), value);

  std::vector<std::string> existing;
  Status listed = store.Scan(Cf::kMeta, kRowPrefix, PrefixEnd(), [&](std::string_view key, std::string_view) {
    existing.emplace_back(key);
    return true;
  });
  if (!listed.ok()) return listed;
  // With the new row there are existing.size() + 1 (unless it replaces one of the same key).
  const std::string new_key = RowKey(state.applied_ts(), state.applied_seq());
  size_t total = existing.size() + 1;
  for (const std::string& key : existing) {
    if (key == new_key) --total;
  }
  for (size_t i = 0; i < existing.size() && total > kKeptProjectionCheckpoints; ++i) {
    if (existing[i] == new_key) continue;
    rows.Delete(Cf::kMeta, existing[i]);
    --total;
  }
  return store.Write(batch, /*sync=*/false);
}

Result<std::optional<LedgerState>> LoadProjectionCheckpoint(const EventStore& store,
                                                            std::optional<TimeMs> at_or_before) {
  const std::string upper = at_or_before
                                ? std::string(kRowPrefix) + EncodeSeq(static_cast<uint64_t>(*at_or_before) + 1)
                                : PrefixEnd();
  std::optional<LedgerState> found;
  Status scanned = store.ScanReverse(Cf::kMeta, kRowPrefix, upper, [&](std::string_view, std::string_view value) {
    found = Validated(store, value);
    return !found.has_value();  // keep looking past checkpoints that do not match the log
  });
  if (!scanned.ok()) return scanned;
  return found;
}

Status ReplayInto(const EventStore& store, LedgerState& state, uint64_t to_seq,
                  std::optional<TimeMs> until_ts) {
  Status failure;
  uint64_t expected = state.applied_seq() + 1;
  std::optional<Digest> prev;
  if (state.applied_seq() > 0) {
    auto row = store.Get(Cf::kEvents, EncodeSeq(state.applied_seq()));
    if (!row.ok()) return row.status();
    if (row->has_value()) {
      auto parts = SplitStoredValue(**row);
      if (parts.ok()) prev = parts->hash;
    }
  } else {
    prev = Digest{};
  }
  if (to_seq != 0 && to_seq < expected) return Status::Ok();
  const std::string to = to_seq == 0 ? std::string() : EncodeSeq(to_seq + 1);
  Status scanned = store.Scan(Cf::kEvents, EncodeSeq(expected), to,
                              [&](std::string_view key, std::string_view value) {
    auto event = DecodeStoredValue(value);
    if (!event.ok()) {
      failure = Status::Internal("event " + std::to_string(DecodeSeq(key)) +
                                 " cannot be read: " + event.status().message());
      return false;
    }
    if (event->seq != expected || DecodeSeq(key) != expected) {
      failure = Status::Internal("the log has a gap or disorder at seq " + std::to_string(expected));
      return false;
    }
    if (prev && event->prev_hash != *prev) {
      failure = Status::Internal("the hash chain breaks at seq " + std::to_string(expected));
      return false;
    }
    if (until_ts && event->ts > *until_ts) return false;
    prev = event->hash;
    state.Apply(*event);
    ++expected;
    return true;
  });
  if (!scanned.ok()) return scanned;
  return failure;
}

}  // namespace keyledger
