#include "events/chain_verifier.h"

#include <algorithm>
#include <map>

#include "events/chain_checkpoint.h"
#include "events/codec.h"

namespace keyledger {
namespace {

std::string Seq(uint64_t seq) { return std::to_string(seq); }

}  // namespace

Result<ChainReport> VerifyChain(const EventStore& store, const ChainVerifyOptions& options) {
  ChainReport report;
  auto checkpoints = ReadChainCheckpoints(store);
  if (!checkpoints.ok()) return checkpoints.status();
  std::map<uint64_t, Digest> hash_at;  // hashes of the events that checkpoints vouch for
  for (const auto& c : *checkpoints) {
    if (c.checkpoint.ok()) hash_at.emplace(c.checkpoint->seq, Digest{});
  }
  for (const ChainCheckpoint& c : options.held_checkpoints) hash_at.emplace(c.seq, Digest{});

  uint64_t expected = 1;
  Digest prev{};
  bool chain_broken = false;
  auto find = [&](uint64_t seq, std::string what) {
    report.findings.push_back({seq, std::move(what)});
    chain_broken = true;
  };
  Status scanned = store.ScanBulk(Cf::kEvents, "", "", [&](std::string_view key, std::string_view value) {
    if (key.size() != 8) {
      find(expected, "a row in the event log has a malformed key after seq " + Seq(expected - 1) + ".");
      return false;
    }
    const uint64_t seq = DecodeSeq(key);
    if (seq != expected) {
      find(expected, "event " + Seq(expected) + " is missing: the log jumps from seq " +
                         Seq(expected - 1) + " to " + Seq(seq) + ".");
      return false;
    }
    auto parts = SplitStoredValue(value);
    auto event = parts.ok() ? DecodeBody(parts->body, parts->hash) : Result<Event>(parts.status());
    if (!event.ok()) {
      find(seq, "event " + Seq(seq) + " cannot be read (" + event.status().message() + "): it was altered.");
      return false;
    }
    if (event->seq != seq) {
      find(seq, "the row for seq " + Seq(seq) + " holds event " + Seq(event->seq) +
                    ": events were moved or swapped.");
      return false;
    }
    if (ChainHash(event->prev_hash, parts->body) != parts->hash) {
      find(seq, "event " + Seq(seq) + " was altered: its contents no longer match its hash.");
      return false;
    }
    if (event->prev_hash != prev) {
      const uint64_t culprit = seq - 1;
      find(culprit, "event " + Seq(seq) + " does not link to event " + Seq(culprit) + ": event " +
                        Seq(culprit) + " was altered and re-hashed, or the link of event " + Seq(seq) + " was.");
      return false;
    }
    if (auto it = hash_at.find(seq); it != hash_at.end()) it->second = parts->hash;
    prev = parts->hash;
    report.events = seq;
    report.head_seq = seq;
    report.head_hash = parts->hash;
    report.head_ts = event->ts;
    ++expected;
    if (options.progress && seq % options.progress_every == 0) options.progress(seq);
    return true;
  });
  if (!scanned.ok()) return scanned;

  std::optional<PublicKey> key = options.trusted_key;
  // `name` says where the checkpoint was found ("the checkpoint at seq N", or held outside the log).
  const auto check = [&](const ChainCheckpoint& c, const std::string& name) {
    ++report.checkpoints;
    if (!key) key = c.public_key;  // without a trusted key, the first checkpoint's key binds the rest
    if (c.public_key != *key) {
      report.findings.push_back({c.seq, name + " is signed by another key (" + PublicKeyToHex(c.public_key) +
                                            "): it is forged."});
    } else if (!c.VerifiedBy(*key)) {
      report.findings.push_back({c.seq, name + " has an invalid signature: it is forged or altered."});
    } else if (c.seq > report.head_seq) {
      // Past a break the events are not vouched for by the chain; the break is the finding.
      if (!chain_broken) {
        report.findings.push_back({report.head_seq + 1,
                                   "the log ends at seq " + Seq(report.head_seq) + " but " + name +
                                       " vouches for seq " + Seq(c.seq) + ": events " +
                                       Seq(report.head_seq + 1) + " to " + Seq(c.seq) + " were removed."});
      }
    } else if (hash_at[c.seq] != c.hash) {
      report.findings.push_back({c.seq, "event " + Seq(c.seq) + " differs from what " + name +
                                            " vouches for: history up to it was rewritten."});
    } else {
      report.last_checkpoint_seq = std::max(report.last_checkpoint_seq, c.seq);
    }
  };
  for (const auto& stored : *checkpoints) {
    if (!stored.checkpoint.ok()) {
      report.findings.push_back({stored.row_seq, "the checkpoint row for seq " + Seq(stored.row_seq) +
                                                     " is malformed: it was altered."});
    } else if (stored.checkpoint->seq != stored.row_seq) {
      ++report.checkpoints;
      report.findings.push_back({stored.row_seq, "the checkpoint row for seq " + Seq(stored.row_seq) +
                                                     " holds a checkpoint for seq " +
                                                     Seq(stored.checkpoint->seq) + "."});
    } else {
      check(*stored.checkpoint, "the signed checkpoint at seq " + Seq(stored.row_seq));
    }
  }
  for (const ChainCheckpoint& c : options.held_checkpoints) {
    check(c, "the signed checkpoint held outside the log at seq " + Seq(c.seq));
  }
  std::stable_sort(report.findings.begin(), report.findings.end(),
                   [](const ChainFinding& a, const ChainFinding& b) { return a.seq < b.seq; });
  return report;
}

}  // namespace keyledger
