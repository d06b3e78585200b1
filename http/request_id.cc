#include "http/request_id.h"

#include <chrono>
#include <cstdint>
#include <random>
#include <thread>

namespace keyledger::http {
namespace {

// splitmix64: tiny, fast, and good enough to make ids distinct; seeded once per thread so no
// lock is taken on the request path.
std::uint64_t NextRandom() {
  thread_local std::uint64_t state = [] {
    std::random_device device;
    const std::uint64_t seed = (static_cast<std::uint64_t>(device()) << 32) ^ device();
    const auto now =
        static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    return seed ^ now ^ std::hash<std::thread::id>{}(std::this_thread::get_id());
  }();
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

bool IsAcceptableRequestId(std::string_view id) {
  if (id.empty() || id.size() > kMaxRequestIdLength) return false;
  for (char c : id) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

std::string GenerateRequestId() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::uint64_t bits = NextRandom();
  std::string id(16, '0');
  for (char& c : id) {
    c = kHex[bits & 0xf];
    bits >>= 4;
  }
  return id;
}

}  // namespace keyledger::http
