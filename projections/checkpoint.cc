#include "projections/checkpoint.h"

#include <cstring>

#include "core/log.h"
#include "events/appender.h"
#include "events/codec.h"

namespace keyledger {
namespace {
constexpr std::string_view kCheckpointRow = "projection_checkpoint";
}

Status SaveProjectionCheckpoint(EventStore& store, const LedgerState& state, const Digest& head_hash) {
  std::string value = EncodeSeq(state.applied_seq());
  value.append(AsBytes(head_hash));
  value.append(state.Serialize());
  rocksdb::WriteBatch batch;
  BatchRowsForStore(batch, store).Put(Cf::kMeta, kCheckpointRow, value);
  return store.Write(batch, /*sync=*/false);
}

Result<std::optional<LedgerState>> LoadProjectionCheckpoint(const EventStore& store) {
  auto row = store.Get(Cf::kMeta, kCheckpointRow);
  if (!row.ok()) return row.status();
  if (!row->has_value()) return std::optional<LedgerState>();
  const std::string& value = **row;
  if (value.size() < 40) return std::optional<LedgerState>();
  const uint64_t seq = DecodeSeq(value);
  Digest hash;
  std::memcpy(hash.data(), value.data() + 8, hash.size());
  auto event_row = store.Get(Cf::kEvents, EncodeSeq(seq));
  if (!event_row.ok()) return event_row.status();
  if (!event_row->has_value()) {
    log::Warn("the projection checkpoint is ahead of the log; rebuilding from the log");
    return std::optional<LedgerState>();
  }
  auto parts = SplitStoredValue(**event_row);
  if (!parts.ok() || parts->hash != hash) {
    log::Warn("the projection checkpoint does not match the log; rebuilding from the log");
    return std::optional<LedgerState>();
  }
  auto state = LedgerState::Deserialize(std::string_view(value).substr(40));
  if (!state.ok()) {
    log::Warn(state.status().message() + "; rebuilding from the log");
    return std::optional<LedgerState>();
  }
  return std::optional<LedgerState>(std::move(state).value());
}

Status ReplayInto(const EventStore& store, LedgerState& state, uint64_t to_seq) {
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
    prev = event->hash;
    state.Apply(*event);
    ++expected;
    return true;
  });
  if (!scanned.ok()) return scanned;
  return failure;
}

}  // namespace keyledger
