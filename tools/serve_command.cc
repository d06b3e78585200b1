#include "tools/serve_command.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <sys/resource.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

#include "core/clock.h"
#include "core/log.h"
#include "core/memory.h"
#include "core/signing.h"
#include "core/thread_priority.h"
#include "core/time_format.h"
#include "core/token.h"
#include "events/chain_checkpoint.h"
#include "events/store.h"
#include "events/wal_scan.h"
#include "http/router.h"
#include "http/routes.h"
#include "http/server.h"
#include "projections/ledger.h"

namespace keyledger::tools {
namespace {

// How long a group of creations waits for an I/O thread to run out of work and fsync it before
// the appender thread does: the most an I/O thread that never runs dry (creations among a
// saturating verify load) adds to a creation. A group of 64 clients' creations fills in 1.3-3
// ms on our 2-core VMs; one cut a little early only costs an extra fsync (6 ms measured the
// same as 2 in alternated creation loads).
constexpr std::chrono::microseconds kIdleSyncFallback{2000};

// One I/O thread: runs ready handlers, and once none is left, fsyncs what creations wait for
// here before it sleeps (Ledger::SyncHeldOnIdleThread), rather than waking the appender thread
// to do it and then being woken by it. The thread would sleep through the disk's round trips
// anyway; measured in bench/README.md.
void RunIoThread(boost::asio::io_context& io, Ledger& ledger) {
  while (!io.stopped()) {
    if (io.poll() == 0 && !ledger.SyncHeldOnIdleThread()) io.run_one();
  }
}

struct ServeFlags {
  std::string data_dir = "./data";
  std::string listen = "127.0.0.1:8080";
  unsigned threads = 0;
  std::string tls_cert;
  std::string tls_key;
  std::string token_prefix = "kl";
  std::string signing_key;  // default: DATA/signing_key.pem
  bool new_signing_key = false;
  bool fsync_uses = false;
  uint64_t uses_fsync_interval_ms = 20;
  std::string background_priority = "idle";
  bool verbose = false;
};

Result<boost::asio::ip::tcp::endpoint> ParseListen(const std::string& text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos) return Status::Invalid("--listen must be HOST:PORT");
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(host, ec);
  if (ec) return Status::Invalid("--listen host must be an IP address, such as 127.0.0.1");
  int port = 0;
  try {
    port = std::stoi(text.substr(colon + 1));
  } catch (...) {
    port = -1;
  }
  if (port < 0 || port > 65535) return Status::Invalid("--listen port must be 0 to 65535");
  return boost::asio::ip::tcp::endpoint(address, static_cast<unsigned short>(port));
}

// A WAL damaged in its middle (events/wal_scan.h): RocksDB's recovery drops what follows the
// damage, and deletes the file once that is flushed. The damaged file and those after it are
// copied aside first, for whoever must recover them by hand, and verify-log reports them. Returns
// the copies' directory; nullopt when the WAL is intact; an error when the copy failed (the start
// is then refused, rather than lose the evidence).
Result<std::optional<std::string>> SetAsideDamagedWalBeforeOpen(const std::string& data_dir) {
  auto damage = FindWalDamage(data_dir);
  if (!damage.ok()) {
    log::Warn("checking the write-ahead log: " + damage.status().message());
    return std::optional<std::string>();
  }
  if (!*damage) return std::optional<std::string>();
  auto to = SetAsideDamagedWal(data_dir, **damage, FormatRfc3339(SystemClock().Now()));
  if (!to.ok()) {
    return Status::Internal((*damage)->what + "; copying it aside failed (" + to.status().message() +
                            "), so the service does not start on it");
  }
  log::Error((*damage)->what + ". Copies of it are in " + *to + "; keyledger verify-log reports it.");
  return std::optional<std::string>(*to);
}

// The checkpoint signing key: --signing-key, or DATA/signing_key.pem created (0600) on first start.
// Its public key is written beside it as DATA/signing_key.pub (64 hex digits) for verify-log.
// It must be the key that signed the newest checkpoint in the log: a new one (a signing_key.pem
// lost, or a directory restored by `backup --no-private-key`) would make verify-log call every
// earlier checkpoint forged, unless --new-signing-key says that is intended.
Result<SigningKey> LoadSigningKey(const ServeFlags& flags, const EventStore& store) {
  const std::string path = flags.signing_key.empty() ? flags.data_dir + "/signing_key.pem" : flags.signing_key;
  auto newest = LatestChainCheckpoint(store);
  if (!newest.ok()) return newest.status();
  const bool creating = flags.signing_key.empty() && !std::filesystem::exists(path);
  if (creating && newest->has_value() && !flags.new_signing_key) {
    return Status::Invalid(path + " is missing, but the log holds checkpoints signed by key " +
                           PublicKeyToHex((*newest)->public_key).substr(0, 16) +
                           "...: restore that file, or pass --signing-key. A new key would make "
                           "verify-log call every earlier checkpoint forged; to start one anyway, "
                           "pass --new-signing-key.");
  }
  auto key = flags.signing_key.empty() ? SigningKey::LoadOrCreate(path) : SigningKey::LoadPem(path);
  if (!key.ok()) return key;
  if (newest->has_value() && (*newest)->public_key != key->public_key() && !flags.new_signing_key) {
    return Status::Invalid(path + " is not the key that signed the log's newest checkpoint (" +
                           PublicKeyToHex((*newest)->public_key).substr(0, 16) +
                           "...). Pass that key, or --new-signing-key to change keys deliberately.");
  }
  const std::string pub_path = flags.data_dir + "/signing_key.pub";
  std::ofstream pub(pub_path, std::ios::trunc);
  pub << PublicKeyToHex(key->public_key()) << "\n";
  if (!pub) return Status::Internal("cannot write " + pub_path);
  return key;
}

// The soft limit on file descriptors raised to the hard one, and the connections capped below it
// with room for the store (kStoreMaxOpenFiles table files, its WALs, manifest and directories)
// and the process's own: a client holding every descriptor would otherwise make the store's next
// file open fail, and a failed write stops every later write until a restart.
std::size_t ConnectionsWithinFileLimit(std::size_t wanted) {
  constexpr rlim_t kReserved = kStoreMaxOpenFiles + 256;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return wanted;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  if (limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur >= wanted + kReserved) return wanted;
  const std::size_t capped = limit.rlim_cur > kReserved + 16 ? limit.rlim_cur - kReserved : 16;
  log::Warn("at most " + std::to_string(capped) + " connections: the file descriptor limit is " +
            std::to_string(limit.rlim_cur) + " (raise it with ulimit -n or LimitNOFILE=)");
  return capped;
}

void PrintOperatorToken(const std::string& token, const std::string& base_url) {
  std::cerr << "\n"
            << "==> Created the operator key. Its token is shown only this once; store it now:\n\n"
            << "      " << token << "\n\n"
            << "    Quick start (paste the token where it says <token>):\n"
            << "      export KL_OPERATOR=<token>\n"
            << "      curl -s -X POST " << base_url << "/admin/v1/workspaces \\\n"
            << "        -H \"Authorization: Bearer $KL_OPERATOR\" -H 'Content-Type: application/json' \\\n"
            << "        -d '{\"id\":\"acme\",\"name\":\"Acme Inc\",\"plan\":\"pro\"}'\n"
            << "    More in README.md, \"Quick start\".\n\n"
            << std::flush;
}

int Serve(const ServeFlags& flags) {
  if (flags.verbose) log::SetLevel(log::Level::kDebug);
  auto endpoint = ParseListen(flags.listen);
  if (!endpoint.ok()) {
    std::cerr << "keyledger serve: " << endpoint.status().message() << "\n";
    return 2;
  }
  if (!IsValidTokenPrefix(flags.token_prefix) || flags.token_prefix == kAdminTokenPrefix ||
      flags.token_prefix == kOperatorTokenPrefix) {
    std::cerr << "keyledger serve: --token-prefix must match [a-z][a-z0-9]{1,9} and not be kla or klo\n";
    return 2;
  }
  // The log holds owners, names, metadata and every use: what the service creates is readable by
  // its group (a reviewer's account, say) and by no one else.
  ::umask(0027);
  std::error_code fs_error;
  std::filesystem::create_directories(flags.data_dir, fs_error);
  if (const auto perms = std::filesystem::status(flags.data_dir, fs_error).permissions();
      !fs_error && (perms & std::filesystem::perms::others_all) != std::filesystem::perms::none) {
    log::Warn("the data directory " + flags.data_dir + " is open to every local user; restrict it with "
              "chmod o-rwx (what serve creates is readable by its group only)");
  }
  BackgroundPriority background = flags.background_priority == "normal" ? BackgroundPriority::kNormal
                                                                         : BackgroundPriority::kIdle;
  if (background == BackgroundPriority::kIdle && !CanLeaveIdlePriority()) {
    // Idle background work that could never be raised would, under a saturating load, fall behind
    // until RocksDB stopped every write.
    log::Warn("background work runs at normal priority: this process may not raise a thread from idle "
              "priority again (that needs root, CAP_SYS_NICE or RLIMIT_NICE >= 20)");
    background = BackgroundPriority::kNormal;
  }
  StoreOptions store_options;
  store_options.background_priority = background;
  // An idle-priority flush waits for a quiet moment; two or more sealed memtables behind it shares
  // the core with the requests at low priority, paced at two (events/background_priority.h); at
  // five RocksDB delays writes and it runs at normal priority.
  if (background == BackgroundPriority::kIdle) store_options.max_write_buffers = 6;
  auto set_aside = SetAsideDamagedWalBeforeOpen(flags.data_dir);
  if (!set_aside.ok()) {
    std::cerr << "keyledger serve: " << set_aside.status().message() << "\n";
    return 1;
  }
  auto store = EventStore::Open(flags.data_dir, store_options);
  if (!store.ok()) {
    std::cerr << "keyledger serve: " << store.status().message() << "\n";
    return 1;
  }
  if (*set_aside) {
    auto head = (*store)->LastEvent();
    if (Status s = NoteRecoveredHead(**set_aside, head.ok() ? head->first : 0); !s.ok()) log::Error(s.message());
  }

  SystemClock clock;
  LedgerOptions options;
  options.api_token_prefix = flags.token_prefix;
  if (const char* bootstrap = std::getenv("KEYLEDGER_BOOTSTRAP_TOKEN")) {
    if (!CheckToken(bootstrap) || std::string_view(bootstrap).substr(0, 4) != "klo_") {
      std::cerr << "keyledger serve: KEYLEDGER_BOOTSTRAP_TOKEN is not a well-formed klo_ token\n";
      return 2;
    }
    options.bootstrap_token = bootstrap;
  }
  const std::string scheme = flags.tls_cert.empty() ? "http" : "https";
  std::string base_url;  // known once the server is bound, before the ledger opens
  options.on_operator_token = [&](const std::string& token) { PrintOperatorToken(token, base_url); };
  const bool fsync_each_use = flags.fsync_uses || flags.uses_fsync_interval_ms == 0;
  options.use_durability = fsync_each_use ? Durability::kSync : Durability::kWal;
  options.use_fsync_interval = std::chrono::milliseconds(flags.uses_fsync_interval_ms);
  options.checkpoint_priority = background;
  options.long_read_priority = background;
  // The fsyncing appender thread then starts an fsync only once the I/O thread has nothing to run,
  // so each covers as many creations as are in flight (AppenderOptions::syncer_priority).
  options.syncer_priority =
      background == BackgroundPriority::kIdle ? BackgroundPriority::kBatch : BackgroundPriority::kNormal;
  options.idle_sync_fallback = kIdleSyncFallback;  // the I/O threads run RunIoThread
  auto signing_key = LoadSigningKey(flags, **store);
  if (!signing_key.ok()) {
    std::cerr << "keyledger serve: " << signing_key.status().message() << "\n";
    return 1;
  }
  options.signing_key = *signing_key;
  Ledger ledger(**store, clock, options);

  LatencyHistogram request_durations;  // filled by the server, shown by /metrics
  http::Router router;
  http::AddAllRoutes(router, ledger, &request_durations);
  http::ServerOptions server_options;
  server_options.request_durations = &request_durations;
  server_options.tls_cert_file = flags.tls_cert;
  server_options.tls_key_file = flags.tls_key;
  const unsigned threads = flags.threads ? flags.threads : std::max(1u, std::thread::hardware_concurrency());
  server_options.io_threads = threads;
  server_options.max_connections = ConnectionsWithinFileLimit(server_options.max_connections);
  boost::asio::io_context io(static_cast<int>(threads));
  std::unique_ptr<http::HttpServer> server_owner;
  boost::asio::ip::tcp::endpoint bound;
  try {  // a bad certificate or key file, or an address in use
    server_owner = std::make_unique<http::HttpServer>(io, server_options, router);
    bound = server_owner->Listen(*endpoint);
  } catch (const std::exception& e) {
    std::cerr << "keyledger serve: " << e.what() << "\n";
    return 1;
  }
  http::HttpServer& server = *server_owner;
  // Before any request is served: the worker threads below serve while the ledger opens, and a
  // SIGTERM that came before its handler (a client that was quick, a main thread that was slow)
  // killed the process with its in-flight requests unanswered.
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    log::Info("signal " + std::to_string(signal) + ": finishing in-flight requests");
    server.Stop([&io] { io.stop(); });
  });
  server.Start();
  const std::string host = bound.address().is_v6() ? "[" + bound.address().to_string() + "]"
                                                    : bound.address().to_string();
  base_url = scheme + "://" + host + ":" + std::to_string(bound.port());
  std::vector<std::thread> workers;
  for (unsigned i = 1; i < threads; ++i) workers.emplace_back([&] { RunIoThread(io, ledger); });
  auto join_workers = [&] {
    for (auto& t : workers) t.join();
  };
  // Serve /healthz and /readyz (503) while the projections catch up with the log.
  if (Status s = ledger.Open(); !s.ok()) {
    std::cerr << "keyledger serve: " << s.message() << "\n";
    server.Stop([&io] { io.stop(); });
    io.run();
    join_workers();
    return 1;
  }
  // Verifies are then sequenced, written and answered on the I/O thread that read them, with no
  // hand-off to the appender thread (which only fsyncs lifecycle batches).
  ledger.RunWritesOn([&io](std::function<void()> work) { boost::asio::post(io, std::move(work)); });
  log::Info("listening on " + base_url +
            " with " + std::to_string(threads) + " threads, data in " + flags.data_dir + ", allocator " +
            std::string(MallocName()));

  RunIoThread(io, ledger);
  join_workers();
  if (Status closed = ledger.Close(); !closed.ok()) {
    log::Error("stopped at seq " + std::to_string(ledger.head_seq()) + ", but " + closed.message() +
               "; every acknowledged write is in the write-ahead log, and the next start recovers it");
    return 1;
  }
  log::Info("stopped cleanly at seq " + std::to_string(ledger.head_seq()));
  return 0;
}

}  // namespace

void AddServeCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* cmd = app.add_subcommand("serve", "Serve the HTTP API.");
  cmd->add_option("--data", flags->data_dir, "Data directory (created if missing)")->capture_default_str();
  cmd->add_option("--listen", flags->listen, "HOST:PORT to listen on; port 0 picks a free one")
      ->capture_default_str();
  cmd->add_option("--threads", flags->threads, "I/O threads (default: one per core)");
  cmd->add_option("--tls-cert", flags->tls_cert, "PEM certificate chain; enables TLS with --tls-key");
  cmd->add_option("--tls-key", flags->tls_key, "PEM private key");
  cmd->add_option("--token-prefix", flags->token_prefix, "Prefix of new API key tokens")
      ->capture_default_str();
  cmd->add_option("--signing-key", flags->signing_key,
                  "Ed25519 PEM key that signs checkpoints (default: DATA/signing_key.pem, created on first start)");
  cmd->add_flag("--new-signing-key", flags->new_signing_key,
                "Sign with a key other than the one that signed the log's newest checkpoint (or "
                "create DATA/signing_key.pem when it is missing from a log that has checkpoints); "
                "verify-log then needs the old public key for the older checkpoints");
  cmd->add_flag("--fsync-uses", flags->fsync_uses,
                "Fsync batches holding only key.used events before acknowledging them (as "
                "--uses-fsync-interval 0)");
  cmd->add_option("--uses-fsync-interval", flags->uses_fsync_interval_ms,
                  "The most milliseconds a key.used event acknowledged once in the WAL waits for "
                  "an fsync, i.e. what a power cut may lose; 0 fsyncs each batch before "
                  "acknowledging it")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{0}, uint64_t{60000}));
  cmd->add_option("--background-priority", flags->background_priority,
                  "CPU priority of flushes, compactions, checkpoint writing and long reads "
                  "(as_of queries, reviews): idle (only when a core is otherwise idle, so they "
                  "never delay a request; the appender thread, which "
                  "fsyncs only what no idle I/O thread has, then waits at SCHED_BATCH) or normal")
      ->check(CLI::IsMember({"idle", "normal"}))
      ->capture_default_str();
  cmd->add_flag("-v,--verbose", flags->verbose, "Debug logging");
  cmd->callback([flags, &exit_code] {
    if (flags->tls_cert.empty() != flags->tls_key.empty()) {
      std::cerr << "keyledger serve: --tls-cert and --tls-key go together\n";
      exit_code = 2;
      return;
    }
    exit_code = Serve(*flags);
  });
}

}  // namespace keyledger::tools
