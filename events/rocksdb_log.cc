#include "events/rocksdb_log.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <string>

#include "core/log.h"

namespace keyledger {
namespace {

class RocksDbLogBridge final : public rocksdb::Logger {
 public:
  explicit RocksDbLogBridge(rocksdb::InfoLogLevel level) : rocksdb::Logger(level) {}

  // Headers (the options dump at open) and unlevelled messages are informational.
  void LogHeader(const char* /*format*/, va_list /*ap*/) override {}
  void Logv(const char* format, va_list ap) override {
    Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
  }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel() || level == rocksdb::InfoLogLevel::HEADER_LEVEL) return;
    char text[1024];
    const int n = std::vsnprintf(text, sizeof text, format, ap);
    if (n < 0) return;
    std::string message = "rocksdb: ";
    message.append(text, std::min(static_cast<size_t>(n), sizeof text - 1));
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
    // Recovery stopping at a WAL record that fails its checksum (RocksDB warns): after a crash,
    // the torn last record; anywhere else, lost writes that an operator must hear about.
    const bool dropped = message.find("dropping") != std::string::npos &&
                         message.find("Corruption") != std::string::npos;
    if (level >= rocksdb::InfoLogLevel::ERROR_LEVEL || dropped) {
      log::Error(message);
    } else {
      log::Warn(message);
    }
  }
};

}  // namespace

std::shared_ptr<rocksdb::Logger> NewRocksDbLogBridge(rocksdb::InfoLogLevel level) {
  return std::make_shared<RocksDbLogBridge>(level);
}

}  // namespace keyledger
