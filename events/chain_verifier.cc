#include "events/chain_verifier.h"

#include <algorithm>
#include <map>
#include <optional>
#include <utility>

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
  if (!scanned.ok()) {
    // A table or log block that fails its checksum: the events from there on cannot be read, which
    // is a finding about the files, not a failure of the walk.
    if (scanned.message().find("Corruption") == std::string::npos) return scanned;
    find(expected, "the events from seq " + Seq(expected) + " on cannot be read (" + scanned.message() +
                       "): the database's files were altered or damaged.");
  }

  // Every checkpoint, the log's and those held outside it, in the order of the seqs they vouch
  // for (at one seq, the older key first: the head a key change re-signs), so that the order of
  // the keys that signed them can be checked.
  struct Vouching {
    const ChainCheckpoint* checkpoint;
    std::string name;  // where it was found, for the findings
    size_t key_index;  // in options.trusted_keys; their count when none of them
  };
  std::vector<Vouching> vouchings;
  const auto key_index = [&](const PublicKey& key) {
    const auto& keys = options.trusted_keys;
    return static_cast<size_t>(std::find(keys.begin(), keys.end(), key) - keys.begin());
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
      vouchings.push_back({&*stored.checkpoint, "the signed checkpoint at seq " + Seq(stored.row_seq),
                           key_index(stored.checkpoint->public_key)});
    }
  }
  for (const ChainCheckpoint& c : options.held_checkpoints) {
    vouchings.push_back({&c, "the signed checkpoint held outside the log at seq " + Seq(c.seq), key_index(c.public_key)});
  }
  std::stable_sort(vouchings.begin(), vouchings.end(), [](const Vouching& a, const Vouching& b) {
    return std::pair(a.checkpoint->seq, a.key_index) < std::pair(b.checkpoint->seq, b.key_index);
  });

  const bool keys_trusted = !options.trusted_keys.empty();
  std::optional<PublicKey> bound_key;  // without trusted keys, the first checkpoint's key binds the rest
  const Vouching* newest_signer = nullptr;  // the checkpoint that brought in the newest key used so far
  for (const Vouching& v : vouchings) {
    const ChainCheckpoint& c = *v.checkpoint;
    ++report.checkpoints;
    if (!bound_key) bound_key = c.public_key;
    const bool signer_known = keys_trusted ? v.key_index < options.trusted_keys.size() : c.public_key == *bound_key;
    if (!signer_known) {
      report.findings.push_back(
          {c.seq, v.name + " is signed by another key (" + PublicKeyToHex(c.public_key) +
                      "): it is forged, unless the service's key was changed (serve --new-signing-key) "
                      "and that key was not passed: pass every key the service used, oldest first, "
                      "with --public-key."});
      continue;
    }
    if (!c.VerifiedBy(c.public_key)) {
      report.findings.push_back({c.seq, v.name + " has an invalid signature: it is forged or altered."});
      continue;
    }
    if (keys_trusted && newest_signer && v.key_index < newest_signer->key_index) {
      report.findings.push_back(
          {c.seq, v.name + " is signed by trusted key " + Seq(v.key_index + 1) + " (" + PublicKeyToHex(c.public_key) +
                      "), which key " + Seq(newest_signer->key_index + 1) + " had replaced by " + newest_signer->name +
                      ": a replaced key cannot vouch for later history (or the keys were not passed "
                      "oldest first)."});
      continue;
    }
    if (keys_trusted && (!newest_signer || v.key_index > newest_signer->key_index)) newest_signer = &v;
    if (c.seq > report.head_seq) {
      // Past a break the events are not vouched for by the chain; the break is the finding.
      if (!chain_broken) {
        report.findings.push_back({report.head_seq + 1,
                                   "the log ends at seq " + Seq(report.head_seq) + " but " + v.name +
                                       " vouches for seq " + Seq(c.seq) + ": events " +
                                       Seq(report.head_seq + 1) + " to " + Seq(c.seq) + " were removed."});
      }
    } else if (hash_at[c.seq] != c.hash) {
      report.findings.push_back({c.seq, "event " + Seq(c.seq) + " differs from what " + v.name +
                                            " vouches for: history up to it was rewritten."});
    } else {
      report.last_checkpoint_seq = std::max(report.last_checkpoint_seq, c.seq);
    }
  }
  std::stable_sort(report.findings.begin(), report.findings.end(),
                   [](const ChainFinding& a, const ChainFinding& b) { return a.seq < b.seq; });
  return report;
}

}  // namespace keyledger
