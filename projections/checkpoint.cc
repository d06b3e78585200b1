#include "projections/checkpoint.h"

#include <pthread.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <optional>
#include <stop_token>
#include <thread>
#include <vector>

#include "core/log.h"
#include "events/appender.h"
#include "events/chain_checkpoint.h"
#include "events/codec.h"
#include "projections/byte_codec.h"

namespace keyledger {
namespace {

constexpr std::string_view kRowPrefix = "projection_checkpoint/";
constexpr std::string_view kChunkPrefix = "projection_chunk/";
constexpr size_t kHeaderSize = 64;
// Small: a live ledger writes each in one of its writer's batches, which then carries ~64 KiB more.
constexpr size_t kChunkBytes = 64 << 10;

std::string RowKey(TimeMs ts, uint64_t seq) {
  return std::string(kRowPrefix) + EncodeSeq(static_cast<uint64_t>(ts)) + EncodeSeq(seq);
}

// The chunk rows of the checkpoint whose row key is `row_key`: its ts ‖ seq, then the chunk number.
std::string ChunkKey(std::string_view row_key, uint64_t chunk) {
  return std::string(kChunkPrefix) + std::string(row_key.substr(kRowPrefix.size())) + EncodeSeq(chunk);
}

std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  end.back() = static_cast<char>(end.back() + 1);
  return end;
}

struct Header {
  uint64_t seq = 0;
  Digest hash{};
  TimeMs ts = 0;
  uint64_t chunks = 0;
  uint64_t size = 0;
};

std::optional<Header> ParseHeader(std::string_view value) {
  if (value.size() != kHeaderSize) return std::nullopt;
  Header h;
  h.seq = DecodeSeq(value);
  std::memcpy(h.hash.data(), value.data() + 8, h.hash.size());
  h.ts = static_cast<TimeMs>(DecodeSeq(value.substr(40)));
  h.chunks = DecodeSeq(value.substr(48));
  h.size = DecodeSeq(value.substr(56));
  return h;
}

// Appends the chunks of the checkpoint at `row_key` to `bytes`, in order; an error if one is
// missing or out of order, or their sizes do not add up to the header's. Stops, without an error,
// once `stop` is requested or the decoder has abandoned `bytes`: it has failed and says why.
Status ReadChunks(const EventStore& store, std::string_view row_key, const Header& h, ArrivingBytes& bytes,
                  Sha256Stream& digest, const std::stop_token& stop) {
  uint64_t next = 0;
  bool complete = true;
  Status scanned = store.Scan(Cf::kMeta, ChunkKey(row_key, 0), ChunkKey(row_key, h.chunks),
                              [&](std::string_view key, std::string_view value) {
    complete = !stop.stop_requested() && DecodeSeq(key.substr(key.size() - 8)) == next++ && bytes.Append(value, stop);
    if (complete) digest.Update(value);
    return complete;
  });
  if (stop.stop_requested() || bytes.abandoned()) return Status::Ok();
  if (!scanned.ok()) return scanned;
  if (!complete || next != h.chunks || bytes.written() != h.size) {
    return Status::Internal("its chunks are incomplete");
  }
  return Status::Ok();
}

// The state of the checkpoint at `row_key`, decoded while a second thread reads its chunks: the
// decoding had waited for the whole read (a fifth of a start-up at a million keys). `digest` gets
// the SHA-256 of the serialized state, hashed on the reading thread (~0.1 s at a million keys,
// beside the decoding).
Result<LedgerState> LoadState(const EventStore& store, std::string_view row_key, const Header& h,
                              Digest& digest) {
  // The header's size is not covered by its hash: a damaged one must cost this checkpoint only.
  // Past a few MiB it allocates nothing (the bytes pass through a window of that size) unless
  // the system lacks memfd; it bounds what the decoder believes; ReadChunks checks it.
  std::optional<ArrivingBytes> buffer;
  try {
    buffer.emplace(h.size);
  } catch (const std::bad_alloc&) {
    return Status::Internal("its size, " + std::to_string(h.size) + " bytes, cannot be allocated");
  }
  ArrivingBytes& bytes = *buffer;
  Status read;
  Sha256Stream hashing;
  // On every way out, an exception from the decoder included, the reader is stopped and joined.
  std::jthread reader([&](std::stop_token stop) {
    pthread_setname_np(pthread_self(), "checkpoint-read");
    read = ReadChunks(store, row_key, h, bytes, hashing, stop);
    bytes.Close();
  });
  auto state = LedgerState::Deserialize(bytes);
  if (!state.ok()) reader.request_stop();  // the rest of a checkpoint that failed is not needed
  reader.join();
  if (!read.ok()) return read;
  digest = hashing.Finish();
  return state;
}

// Whether a chain checkpoint at `seq` signed by `key` carries `digest` as its projection digest.
bool Vouched(const EventStore& store, uint64_t seq, const Digest& digest, const PublicKey& key) {
  auto row = store.Get(Cf::kMeta, ChainCheckpointRow(seq));
  if (!row.ok() || !row->has_value()) return false;
  auto checkpoint = ChainCheckpoint::FromJson(**row);
  return checkpoint.ok() && checkpoint->seq == seq && checkpoint->VerifiedBy(key) &&
         checkpoint->projection_digest == digest;
}

// The checkpoint at `row_key` when its hash matches event `seq` of the log (and, with
// `vouched_by`, a checkpoint signed by that key carries its digest).
std::optional<LedgerState> Validated(const EventStore& store, std::string_view row_key,
                                     std::string_view value, const PublicKey* vouched_by) {
  const std::optional<Header> h = ParseHeader(value);
  if (!h) {
    log::Warn("projection checkpoint row of an unknown format; skipped");
    return std::nullopt;
  }
  const std::string at = " at seq " + std::to_string(h->seq);
  auto event_row = store.Get(Cf::kEvents, EncodeSeq(h->seq));
  if (!event_row.ok() || !event_row->has_value()) {
    log::Warn("projection checkpoint" + at + " is ahead of the log; skipped");
    return std::nullopt;
  }
  auto parts = SplitStoredValue(**event_row);
  if (!parts.ok() || parts->hash != h->hash) {
    log::Warn("projection checkpoint" + at + " does not match the log; skipped");
    return std::nullopt;
  }
  Digest digest{};
  auto state = LoadState(store, row_key, *h, digest);
  if (!state.ok() || state->applied_seq() != h->seq) {
    log::Warn("projection checkpoint" + at + ": " +
              (state.ok() ? std::string("seq differs") : state.status().message()) + "; skipped");
    return std::nullopt;
  }
  if (vouched_by && !Vouched(store, h->seq, digest, *vouched_by)) {
    log::Error("projection checkpoint" + at + " is not the one a signed checkpoint vouches for "
               "(altered, or signed by another key); skipped, the state is rebuilt from the log");
    return std::nullopt;
  }
  return std::move(state).value();
}

}  // namespace

CheckpointSnapshot TakeCheckpointSnapshot(const LedgerState& state, const Digest& head_hash) {
  return CheckpointSnapshot{state.applied_seq(), state.applied_ts(), head_hash, state.Freeze()};
}

Status WriteRows(EventStore& store, const RowsWriter& writer, const std::function<void(BatchRows&)>& fill) {
  if (writer) return writer(fill);
  rocksdb::WriteBatch batch;
  BatchRows rows = BatchRowsForStore(batch, store);
  fill(rows);
  return store.Write(batch, /*sync=*/false);
}

Result<Digest> SaveProjectionCheckpoint(EventStore& store, CheckpointSnapshot snapshot,
                                        const RowsWriter& writer) {
  const std::string row_key = RowKey(snapshot.ts, snapshot.seq);

  // Older checkpoints beyond the newest kKeptProjectionCheckpoints go, chunks and all.
  std::vector<std::string> existing;  // header row keys, oldest first
  Status listed = store.Scan(Cf::kMeta, kRowPrefix, PrefixEnd(kRowPrefix),
                             [&](std::string_view key, std::string_view value) {
    if (key != row_key) existing.emplace_back(key);
    return true;
  });
  if (!listed.ok()) return listed;

  // One write per chunk, as the serialization makes them: RocksDB has one write queue, and a
  // write of the whole state (~170 MB at a million keys) would hold every verify written
  // meanwhile behind it. The header goes last, in a write of its own: the log is written in order,
  // so a header that survives a crash has all its chunks. Chunks a crash left without a header
  // are removed with the old checkpoints below.
  Sha256Stream digest;
  uint64_t chunks = 0;
  uint64_t size = 0;
  Status written;
  const bool serialized = std::move(snapshot.state).SerializeInPieces(kChunkBytes, [&](std::string_view piece) {
    digest.Update(piece);
    size += piece.size();
    written = WriteRows(store, writer, [&](BatchRows& rows) { rows.Put(Cf::kMeta, ChunkKey(row_key, chunks), piece); });
    ++chunks;
    return written.ok();
  });
  if (!serialized) return written;

  std::string header = EncodeSeq(snapshot.seq);
  header.append(AsBytes(snapshot.head_hash));
  header.append(EncodeSeq(static_cast<uint64_t>(snapshot.ts)));
  header.append(EncodeSeq(chunks));
  header.append(EncodeSeq(size));
  const size_t excess = existing.size() + 1 > kKeptProjectionCheckpoints
                            ? existing.size() + 1 - kKeptProjectionCheckpoints
                            : 0;
  // Every chunk row older than the oldest checkpoint kept: the deleted checkpoints' and any a
  // crash orphaned. Chunk keys sort by ts ‖ seq, as headers do.
  const std::string& oldest_kept =
      excess < existing.size() ? std::min(existing[excess], row_key) : row_key;
  written = WriteRows(store, writer, [&](BatchRows& rows) {
    rows.Put(Cf::kMeta, row_key, header);
    for (size_t i = 0; i < excess; ++i) rows.Delete(Cf::kMeta, existing[i]);
    rows.DeleteRange(Cf::kMeta, kChunkPrefix, ChunkKey(oldest_kept, 0));
  });
  if (!written.ok()) return written;
  return digest.Finish();
}

Result<std::optional<LedgerState>> LoadProjectionCheckpoint(const EventStore& store,
                                                            std::optional<TimeMs> at_or_before,
                                                            const PublicKey* vouched_by) {
  const std::string upper = at_or_before
                                ? std::string(kRowPrefix) + EncodeSeq(static_cast<uint64_t>(*at_or_before) + 1)
                                : PrefixEnd(kRowPrefix);
  std::optional<LedgerState> found;
  Status scanned = store.ScanReverse(Cf::kMeta, kRowPrefix, upper, [&](std::string_view key, std::string_view value) {
    found = Validated(store, key, value, vouched_by);
    return !found.has_value();  // keep looking past checkpoints that do not match the log
  });
  if (!scanned.ok()) return scanned;
  return found;
}

}  // namespace keyledger
