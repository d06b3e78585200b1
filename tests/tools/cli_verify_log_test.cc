// `keyledger verify-log`: an intact log, the choice of trusted key, and every kind of tampering an
// attacker with write access to the RocksDB files could do, each named by its first affected seq.

#include <boost/test/unit_test.hpp>

#include "tests/tools/cli_fixture.h"

namespace keyledger::cli_testing {
namespace {

RunResult VerifyLog(const HistoryCopy& copy, bool with_public_key = true) {
  std::vector<std::string> args = {"verify-log", "--data", copy.data_dir()};
  if (with_public_key) {
    args.push_back("--public-key");
    args.push_back(copy.public_key_file());
  }
  return RunCli(args);
}

void ExpectBrokenAt(const RunResult& r, uint64_t seq) {
  BOOST_TEST(r.exit_code == 1, r);
  BOOST_TEST(FirstBrokenSeq(r.out) == seq, r);
}

// The body of event `seq` with one letter of `word` (its last) changed.
std::string EditedBody(RawDb& db, uint64_t seq, std::string_view word) {
  const std::string stored = db.GetEvent(seq);
  std::string body = stored.substr(kStoredHeaderSize);
  const size_t at = body.find(word);
  BOOST_REQUIRE_MESSAGE(at != std::string::npos, "event " << seq << " has no " << word);
  char& letter = body[at + word.size() - 1];
  letter = letter == 'x' ? 'y' : 'x';
  return body;
}

BOOST_AUTO_TEST_SUITE(cli_verify_log)

BOOST_AUTO_TEST_CASE(intact_log_prints_the_head_and_exits_0_quietly) {
  HistoryCopy copy;
  const History& h = copy.history();
  RunResult r = VerifyLog(copy);
  BOOST_TEST(r.exit_code == 0, r);
  BOOST_TEST(HeadSeq(r.out) == h.head_seq, r);
  BOOST_TEST(Contains(r.out, "events verified: " + std::to_string(h.head_seq) + "\n"), r);
  BOOST_TEST(Contains(r.out, "signed checkpoints verified: 2 (newest at seq " + std::to_string(h.head_seq) + ")"), r);
  BOOST_TEST(Contains(r.out, "trusted key: " + PublicKeyToHex(h.signing_key->public_key()) +
                                 " (from --public-key " + copy.public_key_file()),
             r);
  BOOST_TEST(Contains(r.out, "OK: the log is intact."), r);
  BOOST_TEST(!Contains(r.out, "FIRST BROKEN SEQ"), r);
  BOOST_TEST(r.err.empty(), "no progress output when stderr is not a terminal: " << r);
}

BOOST_AUTO_TEST_CASE(trusted_key_comes_from_the_data_directory_or_is_none_and_says_so) {
  HistoryCopy copy;
  RunResult none = VerifyLog(copy, false);
  BOOST_TEST(none.exit_code == 0, none);
  BOOST_TEST(Contains(none.out, "trusted key: none"), none);
  BOOST_TEST(Contains(none.out, "consistent with itself"), none);

  WriteFile(copy.data_dir() + "/signing_key.pub", PublicKeyToHex(copy.history().signing_key->public_key()));
  RunResult in_dir = VerifyLog(copy, false);
  BOOST_TEST(in_dir.exit_code == 0, in_dir);
  BOOST_TEST(Contains(in_dir.out, "(from " + copy.data_dir() + "/signing_key.pub"), in_dir);
}

BOOST_AUTO_TEST_CASE(a_pem_public_key_is_accepted) {
  HistoryCopy copy;
  WriteFile(copy.public_key_file(), PublicKeyToPem(copy.history().signing_key->public_key()));
  RunResult r = VerifyLog(copy);
  BOOST_TEST(r.exit_code == 0, r);
}

// A --public-key that is missing or not a key is the caller's mistake: exit 2, with the file named.
BOOST_AUTO_TEST_CASE(a_bad_public_key_file_is_bad_usage) {
  HistoryCopy copy;
  WriteFile(copy.public_key_file(), "not a key\n");
  RunResult garbage = VerifyLog(copy);
  BOOST_TEST(garbage.exit_code == 2, garbage);
  BOOST_TEST(Contains(garbage.err, "--public-key " + copy.public_key_file()), garbage);
  BOOST_TEST(garbage.out.empty(), garbage);

  RunResult missing = RunCli({"verify-log", "--data", copy.data_dir(), "--public-key", copy.Path("absent.pub")});
  BOOST_TEST(missing.exit_code == 2, missing);
  BOOST_TEST(Contains(missing.err, "absent.pub"), missing);
}

// After a deliberate change of key (serve --new-signing-key) the log holds checkpoints signed by
// two keys: the reviewer passes both, oldest first, and a replaced key cannot vouch for history
// after the change.
BOOST_AUTO_TEST_CASE(a_changed_signing_key_is_verified_with_every_key_oldest_first) {
  auto newer = SigningKey::Generate();
  BOOST_REQUIRE(newer.ok());
  const auto verify_with = [](const HistoryCopy& copy, const std::vector<std::string>& key_files) {
    std::vector<std::string> args = {"verify-log", "--data", copy.data_dir()};
    for (const std::string& file : key_files) {
      args.push_back("--public-key");
      args.push_back(file);
    }
    return RunCli(args);
  };
  const History& h = TheHistory();
  const std::string old_hex = PublicKeyToHex(h.signing_key->public_key());
  const std::string new_hex = PublicKeyToHex(newer->public_key());

  HistoryCopy changed;  // mid signed by the old key, the head by the new one
  PutSignedCheckpoint(*OpenStore(changed.data_dir()), *newer, h.head_seq);
  const std::string old_pub = changed.public_key_file(), new_pub = changed.Path("new_key.pub");
  WriteFile(new_pub, new_hex + "\n");

  RunResult both = verify_with(changed, {old_pub, new_pub});
  BOOST_TEST(both.exit_code == 0, both);
  BOOST_TEST(Contains(both.out, "signed checkpoints verified: 2 (newest at seq " + std::to_string(h.head_seq) + ")"), both);
  BOOST_TEST(Contains(both.out, "trusted keys, in the order the service used them:\n  1: " + old_hex +
                                    " (from --public-key " + old_pub + ")\n  2: " + new_hex),
             both);

  RunResult old_only = verify_with(changed, {old_pub});
  ExpectBrokenAt(old_only, h.head_seq);
  BOOST_TEST(Contains(old_only.out, "is signed by another key (" + new_hex + ")"), old_only);
  BOOST_TEST(Contains(old_only.out, "pass every key the service used, oldest first"), old_only);
  ExpectBrokenAt(verify_with(changed, {new_pub}), h.mid_seq);
  ExpectBrokenAt(verify_with(changed, {}), h.head_seq);  // untrusted: the first key binds the rest

  // Passed the other way round, the old key (now key 2) signed mid and the new one (key 1) the
  // head after it: a replaced key vouching for later history, as a leaked old key would.
  RunResult reversed = verify_with(changed, {new_pub, old_pub});
  ExpectBrokenAt(reversed, h.head_seq);
  BOOST_TEST(Contains(reversed.out, "is signed by trusted key 1 (" + new_hex + "), which key 2 had replaced by "
                                    "the signed checkpoint at seq " + std::to_string(h.mid_seq)),
             reversed);

  // One key twice: its place in the order is ambiguous.
  RunResult twice = verify_with(changed, {old_pub, new_pub, old_pub});
  BOOST_TEST(twice.exit_code == 2, twice);
  BOOST_TEST(Contains(twice.err, "--public-key " + old_pub + " is the key --public-key " + old_pub + " holds"), twice);
}

BOOST_AUTO_TEST_CASE(a_bad_signing_key_pub_in_the_data_directory_fails_the_check) {
  HistoryCopy copy;
  WriteFile(copy.data_dir() + "/signing_key.pub", "garbage");
  RunResult r = VerifyLog(copy, false);
  BOOST_TEST(r.exit_code == 1, r);
  BOOST_TEST(Contains(r.err, "signing_key.pub"), r);
}

// A byte changed inside a table file fails that block's checksum: the events from there on cannot
// be read, and that is a finding (FIRST BROKEN SEQ), not a bare RocksDB error.
BOOST_AUTO_TEST_CASE(a_damaged_table_file_is_a_finding_at_the_first_unreadable_seq) {
  HistoryCopy copy;
  size_t damaged = 0;
  for (const auto& entry : std::filesystem::directory_iterator(copy.data_dir())) {
    if (entry.path().extension() != ".sst") continue;
    std::string bytes = ReadFileText(entry.path().string());
    const size_t at = bytes.find("exposed in chat");  // the revocation's reason, stored uncompressed
    if (at == std::string::npos) continue;
    bytes[at] ^= 0x01;
    WriteFile(entry.path().string(), bytes);
    ++damaged;
  }
  BOOST_TEST_REQUIRE(damaged >= 1u);
  RunResult r = VerifyLog(copy);
  BOOST_TEST(r.exit_code == 1, r);
  BOOST_TEST(FirstBrokenSeq(r.out) >= 1u, r);
  BOOST_TEST(FirstBrokenSeq(r.out) <= copy.history().head_seq, r);
  BOOST_TEST(Contains(r.out, "cannot be read (scanning: Corruption: block checksum mismatch"), r);
  BOOST_TEST(Contains(r.out, "FAILED: "), r);
}

BOOST_AUTO_TEST_CASE(an_edited_event_breaks_at_that_event) {
  HistoryCopy copy;
  const uint64_t k = copy.history().k2_created_seq;
  {
    RawDb db(copy.data_dir());
    const std::string stored = db.GetEvent(k);
    db.PutEvent(k, stored.substr(0, kStoredHeaderSize) + EditedBody(db, k, "nightly"));
  }
  RunResult r = VerifyLog(copy);
  ExpectBrokenAt(r, k);
  BOOST_TEST(Contains(r.out, "was altered"), r);
}

BOOST_AUTO_TEST_CASE(an_edited_and_rehashed_event_is_named_when_the_next_link_breaks) {
  HistoryCopy copy;
  const uint64_t k = copy.history().k2_created_seq;
  {
    RawDb db(copy.data_dir());
    const std::string body = EditedBody(db, k, "nightly");
    auto original = DecodeStoredValue(db.GetEvent(k));
    BOOST_REQUIRE(original.ok());
    db.PutEvent(k, EncodeStoredValue(ChainHash(original->prev_hash, body), body));
  }
  RunResult r = VerifyLog(copy);
  ExpectBrokenAt(r, k);
  BOOST_TEST(Contains(r.out, "does not link to event " + std::to_string(k)), r);
}

BOOST_AUTO_TEST_CASE(a_deleted_event_breaks_at_its_seq) {
  HistoryCopy copy;
  const uint64_t k = copy.history().k2_created_seq;
  {
    RawDb db(copy.data_dir());
    db.Delete(db.events(), EncodeSeq(k));
  }
  RunResult r = VerifyLog(copy);
  ExpectBrokenAt(r, k);
  BOOST_TEST(Contains(r.out, "is missing"), r);
}

BOOST_AUTO_TEST_CASE(swapped_events_break_at_the_first_of_them) {
  HistoryCopy copy;
  const uint64_t k = copy.history().k2_created_seq;
  {
    RawDb db(copy.data_dir());
    const std::string a = db.GetEvent(k), b = db.GetEvent(k + 1);
    db.PutEvent(k, b);
    db.PutEvent(k + 1, a);
  }
  ExpectBrokenAt(VerifyLog(copy), k);
}

BOOST_AUTO_TEST_CASE(a_truncated_tail_breaks_at_the_first_removed_seq) {
  HistoryCopy copy;
  const uint64_t head = copy.history().head_seq;  // a signed checkpoint vouches for it
  {
    RawDb db(copy.data_dir());
    for (uint64_t seq = head - 2; seq <= head; ++seq) db.Delete(db.events(), EncodeSeq(seq));
  }
  RunResult r = VerifyLog(copy);
  ExpectBrokenAt(r, head - 2);
  BOOST_TEST(Contains(r.out, "were removed"), r);
  // Without the trusted key the checkpoint still vouches for the removed events.
  ExpectBrokenAt(VerifyLog(copy, false), head - 2);
}

// A service that started on a log altered while it was down would sign a new head over the
// change, and verify-log would then find nothing: serve refuses, and the evidence stays.
BOOST_AUTO_TEST_CASE(serve_refuses_a_log_that_lost_what_the_newest_checkpoint_vouches_for) {
  const auto serve = [](const HistoryCopy& copy) {
    BOOST_REQUIRE(copy.history().signing_key->SavePem(copy.data_dir() + "/signing_key.pem").ok());
    return RunCli({"serve", "--data", copy.data_dir(), "--listen", "127.0.0.1:0"}, std::chrono::seconds(60));
  };
  HistoryCopy cut;
  const uint64_t head = cut.history().head_seq;  // the newest signed checkpoint's seq
  {
    RawDb db(cut.data_dir());
    for (uint64_t seq = head - 2; seq <= head; ++seq) db.Delete(db.events(), EncodeSeq(seq));
  }
  RunResult refused = serve(cut);
  BOOST_TEST(refused.exit_code == 1, refused);
  BOOST_TEST(Contains(refused.err, "The log ends at seq " + std::to_string(head - 3) +
                                       ", but the newest signed checkpoint vouches for seq " +
                                       std::to_string(head)),
             refused);
  BOOST_TEST(Contains(refused.err, "keyledger verify-log"), refused);
  ExpectBrokenAt(VerifyLog(cut), head - 2);  // nothing was signed over it

  HistoryCopy swapped;
  {
    RawDb db(swapped.data_dir());
    const std::string a = db.GetEvent(head - 1), b = db.GetEvent(head);
    db.PutEvent(head - 1, b);
    db.PutEvent(head, a);
  }
  RunResult refused_swap = serve(swapped);
  BOOST_TEST(refused_swap.exit_code == 1, refused_swap);
  BOOST_TEST(Contains(refused_swap.err, "Event " + std::to_string(head) +
                                            " is not the one the newest signed checkpoint vouches for"),
             refused_swap);
}

// Deleting the checkpoint rows together with the tail they vouch for leaves a log that is
// consistent with itself; a checkpoint the reviewer kept (GET /admin/v1/checkpoint) catches it.
BOOST_AUTO_TEST_CASE(a_checkpoint_held_outside_the_log_catches_a_cut_that_took_the_rows_too) {
  HistoryCopy copy;
  const uint64_t head = copy.history().head_seq;
  const uint64_t mid = copy.history().mid_seq;
  {
    RawDb db(copy.data_dir());
    WriteFile(copy.Path("head.json"), db.Get(db.meta(), ChainCheckpointRow(head)));
    std::string forged = db.Get(db.meta(), ChainCheckpointRow(mid));
    const size_t hash = forged.find("\"hash\":\"") + 8;
    forged[hash] = forged[hash] == '0' ? '1' : '0';
    WriteFile(copy.Path("forged.json"), forged);
    db.Delete(db.meta(), ChainCheckpointRow(head));
    db.Delete(db.meta(), ChainCheckpointRow(mid));
    for (uint64_t seq = head - 1; seq <= head; ++seq) db.Delete(db.events(), EncodeSeq(seq));
  }
  RunResult unaware = VerifyLog(copy);
  BOOST_TEST(unaware.exit_code == 0, unaware);  // what the log alone can show

  RunResult held = RunCli({"verify-log", "--data", copy.data_dir(), "--public-key", copy.public_key_file(),
                           "--checkpoint", copy.Path("head.json")});
  ExpectBrokenAt(held, head - 1);
  BOOST_TEST(Contains(held.out, "the signed checkpoint held outside the log at seq " + std::to_string(head)), held);

  RunResult forged = RunCli({"verify-log", "--data", copy.data_dir(), "--public-key", copy.public_key_file(),
                             "--checkpoint", copy.Path("forged.json")});
  ExpectBrokenAt(forged, mid);
  BOOST_TEST(Contains(forged.out, "invalid signature"), forged);

  WriteFile(copy.Path("junk.json"), "{\"seq\": 1}");
  RunResult junk = RunCli({"verify-log", "--data", copy.data_dir(), "--checkpoint", copy.Path("junk.json")});
  BOOST_TEST(junk.exit_code == 2, junk);
  BOOST_TEST(Contains(junk.err, "--checkpoint"), junk);
}

// The newest checkpoint is looked up from the top of the rows: the newest that parses for the
// signed head, the newest row of all for the start-up check (a malformed one is a finding).
BOOST_AUTO_TEST_CASE(newest_checkpoint_lookups_skip_or_report_a_malformed_newest_row) {
  HistoryCopy copy;
  const uint64_t head = copy.history().head_seq;
  {
    RawDb db(copy.data_dir());
    db.Put(db.meta(), ChainCheckpointRow(head + 1), "not a checkpoint");
  }
  auto store = EventStore::Open(copy.data_dir(), StoreOptions{});
  BOOST_REQUIRE(store.ok());
  auto latest = LatestChainCheckpoint(**store);
  BOOST_REQUIRE(latest.ok() && latest->has_value());
  BOOST_TEST((*latest)->seq == head);
  const Status check = CheckLogHoldsNewestCheckpoint(**store);
  BOOST_TEST(!check.ok());
  BOOST_TEST(Contains(check.message(), "The newest signed checkpoint (seq " + std::to_string(head + 1) +
                                           ") cannot be read"),
             check.message());
}

BOOST_AUTO_TEST_CASE(a_checkpoint_signed_by_another_key_is_forged) {
  HistoryCopy copy;
  const uint64_t seq = copy.history().mid_seq;
  {
    auto store = OpenStore(copy.data_dir());
    auto attacker = SigningKey::Generate();
    BOOST_REQUIRE(attacker.ok());
    PutSignedCheckpoint(*store, *attacker, seq);  // replaces the real one, same contents
  }
  RunResult r = VerifyLog(copy);
  ExpectBrokenAt(r, seq);
  BOOST_TEST(Contains(r.out, "signed by another key"), r);
}

BOOST_AUTO_TEST_CASE(a_checkpoint_with_altered_signature_bytes_is_named) {
  HistoryCopy copy;
  const uint64_t seq = copy.history().head_seq;
  {
    RawDb db(copy.data_dir());
    std::string json = db.Get(db.meta(), ChainCheckpointRow(seq));
    const std::string tag = "\"signature\":\"";
    const size_t at = json.find(tag);
    BOOST_REQUIRE(at != std::string::npos);
    char& digit = json[at + tag.size() + 10];
    digit = digit == '0' ? '1' : '0';
    db.Put(db.meta(), ChainCheckpointRow(seq), json);
  }
  RunResult r = VerifyLog(copy);
  ExpectBrokenAt(r, seq);
  BOOST_TEST(Contains(r.out, "invalid signature"), r);
  ExpectBrokenAt(VerifyLog(copy, false), seq);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger::cli_testing
