#include "events/wal_scan.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

namespace keyledger {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kBlockSize = 32768;
constexpr uint64_t kHeaderSize = 7;             // checksum 4, length 2, type 1
constexpr uint64_t kRecyclableHeaderSize = 11;  // ... and the log number 4
constexpr uint8_t kFirstRecyclableType = 5, kLastRecyclableType = 8;
constexpr uint32_t kMaskDelta = 0xa282ead8u;

// CRC32C (Castagnoli), reflected, as RocksDB computes it: with SSE4.2's crc32 instruction where
// the CPU has it (~20x the table's speed; a 64 MiB WAL after a crash is read at every start), else
// a byte table. Both take and return the running (not finalized) value.
const std::array<uint32_t, 256>& Crc32cTable() {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  return table;
}

uint32_t ExtendByTable(uint32_t crc, const unsigned char* data, size_t n) {
  const auto& table = Crc32cTable();
  for (size_t i = 0; i < n; ++i) crc = table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
  return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t ExtendByInstruction(uint32_t crc, const unsigned char* data, size_t n) {
  uint64_t c = crc;
  for (; n >= 8; n -= 8, data += 8) {
    uint64_t word;
    std::memcpy(&word, data, 8);
    c = __builtin_ia32_crc32di(c, word);
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  for (; n > 0; --n, ++data) c32 = __builtin_ia32_crc32qi(c32, *data);
  return c32;
}
#endif

uint32_t Extend(uint32_t crc, const unsigned char* data, size_t n) {
#if defined(__x86_64__)
  static const bool has_instruction = __builtin_cpu_supports("sse4.2");
  if (has_instruction) return ExtendByInstruction(crc, data, n);
#endif
  return ExtendByTable(crc, data, n);
}

uint32_t Unmask(uint32_t masked) {
  const uint32_t rot = masked - kMaskDelta;
  return (rot >> 17) | (rot << 15);
}

uint32_t LittleEndian32(const unsigned char* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

struct WalFile {
  uint64_t number;
  std::string name;
};

Result<std::vector<WalFile>> ListWalFiles(const std::string& dir) {
  std::vector<WalFile> files;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() <= 4 || !name.ends_with(".log")) continue;
    const std::string digits = name.substr(0, name.size() - 4);
    if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) continue;
    files.push_back({std::stoull(digits), name});
  }
  if (ec) return Status::Internal("cannot list " + dir + ": " + ec.message());
  std::sort(files.begin(), files.end(), [](const WalFile& a, const WalFile& b) { return a.number < b.number; });
  return files;
}

Result<std::string> ReadWhole(const fs::path& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return Status::Internal("cannot read " + path.string());
  std::string bytes(static_cast<size_t>(in.tellg()), '\0');
  in.seekg(0);
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  bytes.resize(static_cast<size_t>(in.gcount()));  // a WAL still being written may have shrunk
  if (in.bad()) return Status::Internal("cannot read " + path.string());
  return bytes;
}

uint64_t NonZeroBytes(std::string_view bytes) {
  return static_cast<uint64_t>(bytes.size() - std::count(bytes.begin(), bytes.end(), '\0'));
}

// The first record of `bytes` that fails its checksum (or a header that cannot be a record):
// its offset and where its extent ends. nullopt when every record checks out to the end.
struct FailedRecord {
  uint64_t offset;
  uint64_t extent_end;
};

std::optional<FailedRecord> FirstFailedRecord(std::string_view bytes) {
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  const uint64_t size = bytes.size();
  uint64_t at = 0;
  while (at < size) {
    const uint64_t block_left = kBlockSize - at % kBlockSize;
    if (block_left < kHeaderSize) {  // a block's trailer: zeros the writer left
      at += block_left;
      continue;
    }
    if (size - at < kHeaderSize) return FailedRecord{at, size};
    const uint32_t stored = LittleEndian32(data + at);
    const uint64_t length = uint64_t{data[at + 4]} | uint64_t{data[at + 5]} << 8;
    const uint8_t type = data[at + 6];
    if (stored == 0 && length == 0 && type == 0) return FailedRecord{at, at};  // preallocated zeros
    const uint64_t header = type >= kFirstRecyclableType && type <= kLastRecyclableType ? kRecyclableHeaderSize
                                                                                          : kHeaderSize;
    const uint64_t end = at + header + length;
    // A length past its block cannot be a record's; one past the end of the file is a write cut
    // short, its partial payload included.
    if (header + length > block_left) return FailedRecord{at, std::min(at + header, size)};
    if (end > size) return FailedRecord{at, size};
    // The checksum covers the type byte, the log number of a recyclable record, and the payload.
    uint32_t crc = Extend(0xFFFFFFFFu, data + at + 6, header - 6);
    crc = Extend(crc, data + at + header, length);
    if (Unmask(stored) != ~crc) return FailedRecord{at, end};
    at = end;
  }
  return std::nullopt;
}

}  // namespace

Result<std::optional<WalDamage>> FindWalDamage(const std::string& dir) {
  auto files = ListWalFiles(dir);
  if (!files.ok()) return files.status();
  std::optional<WalDamage> damage;
  for (const WalFile& file : *files) {
    auto bytes = ReadWhole(fs::path(dir) / file.name);
    if (!bytes.ok()) return bytes.status();
    if (damage) {
      damage->bytes_after += NonZeroBytes(*bytes);
      continue;
    }
    const std::optional<FailedRecord> failed = FirstFailedRecord(*bytes);
    if (!failed) continue;
    damage = WalDamage{file.name, failed->offset, NonZeroBytes(std::string_view(*bytes).substr(failed->extent_end)), {}};
  }
  if (!damage || damage->bytes_after == 0) return std::optional<WalDamage>();
  damage->what = "the write-ahead log " + damage->file + " holds a record at byte " + std::to_string(damage->offset) +
                 " that fails its checksum, and " + std::to_string(damage->bytes_after) +
                 " bytes of log follow it: recovery stops at that record, so the events written after it are "
                 "not in the log as read (damage to the file; or, after a power cut, writes that were never "
                 "synced and so never acknowledged)";
  return damage;
}

Result<std::optional<WalDamage>> FindStableWalDamage(const std::string& dir, int attempts) {
  auto found = FindWalDamage(dir);
  for (int i = 1; i < attempts && found.ok() && found->has_value(); ++i) {
    auto again = FindWalDamage(dir);
    if (!again.ok()) return again;
    if (again->has_value() && (*again)->file == (**found).file && (*again)->offset == (**found).offset) return again;
    found = std::move(again);
  }
  return found;
}

namespace {

constexpr const char* kNoteFile = "note.txt";

// `found_at` with the characters a directory name should not hold replaced ("2026-12-05T05-30-00.123Z").
std::string DirectoryNameFor(const std::string& found_at) {
  std::string name = found_at;
  std::replace(name.begin(), name.end(), ':', '-');
  return name;
}

}  // namespace

Result<std::string> SetAsideDamagedWal(const std::string& dir, const WalDamage& damage, const std::string& found_at) {
  const fs::path to = fs::path(dir) / kWalSetAsideDir / DirectoryNameFor(found_at);
  std::error_code ec;
  fs::create_directories(to, ec);
  if (ec) return Status::Internal("cannot create " + to.string() + ": " + ec.message());
  auto files = ListWalFiles(dir);
  if (!files.ok()) return files.status();
  bool from_damaged = false;
  for (const WalFile& file : *files) {
    from_damaged = from_damaged || file.name == damage.file;
    if (!from_damaged) continue;
    fs::copy_file(fs::path(dir) / file.name, to / file.name, fs::copy_options::overwrite_existing, ec);
    if (ec) return Status::Internal("cannot copy " + file.name + " to " + to.string() + ": " + ec.message());
  }
  std::ofstream note(to / kNoteFile, std::ios::trunc);
  note << "found_at=" << found_at << "\nfile=" << damage.file << "\noffset=" << damage.offset
       << "\nbytes_after=" << damage.bytes_after << "\nwhat=" << damage.what << "\n";
  note.flush();
  if (!note) return Status::Internal("cannot write " + (to / kNoteFile).string());
  return to.string();
}

Status NoteRecoveredHead(const std::string& set_aside, uint64_t head_seq) {
  std::ofstream note(fs::path(set_aside) / kNoteFile, std::ios::app);
  note << "recovered_head_seq=" << head_seq << "\n";
  note.flush();
  if (!note) return Status::Internal("cannot write " + (fs::path(set_aside) / kNoteFile).string());
  return Status::Ok();
}

Result<std::vector<SetAsideWal>> ListSetAsideWals(const std::string& dir) {
  std::vector<SetAsideWal> found;
  const fs::path root = fs::path(dir) / kWalSetAsideDir;
  std::error_code ec;
  if (!fs::exists(root, ec)) return found;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    SetAsideWal wal;
    wal.path = entry.path().string();
    std::ifstream note(entry.path() / kNoteFile);
    for (std::string line; std::getline(note, line);) {
      const size_t eq = line.find('=');
      if (eq == std::string::npos) continue;
      const std::string key = line.substr(0, eq), value = line.substr(eq + 1);
      const auto number = [&] { return value.empty() ? 0 : std::strtoull(value.c_str(), nullptr, 10); };
      if (key == "found_at") wal.found_at = value;
      if (key == "file") wal.damage.file = value;
      if (key == "offset") wal.damage.offset = number();
      if (key == "bytes_after") wal.damage.bytes_after = number();
      if (key == "what") wal.damage.what = value;
      if (key == "recovered_head_seq") wal.recovered_head_seq = number();
    }
    if (wal.found_at.empty()) wal.found_at = entry.path().filename().string();
    found.push_back(std::move(wal));
  }
  if (ec) return Status::Internal("cannot list " + root.string() + ": " + ec.message());
  std::sort(found.begin(), found.end(), [](const SetAsideWal& a, const SetAsideWal& b) { return a.path < b.path; });
  return found;
}

}  // namespace keyledger
