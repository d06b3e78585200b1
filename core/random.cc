#include "core/random.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>

#include <atomic>
#include <cstdint>

#include <stdexcept>

#include "core/token.h"

namespace keyledger {

void RandomBytes(void* out, size_t size) {
  if (RAND_bytes(static_cast<unsigned char*>(out), static_cast<int>(size)) != 1) {
    throw std::runtime_error("CSPRNG failure (RAND_bytes)");
  }
}

namespace {

// Bumped in a forked child: pools filled before the fork are stale there.
std::atomic<uint64_t> fork_generation{0};
void OnForkInChild() { fork_generation.fetch_add(1, std::memory_order_relaxed); }

// CSPRNG bytes drawn 1 KiB at a time: each RAND_bytes call costs about a microsecond whatever its
// size (OpenSSL 3's DRBG and provider overhead), and a key creation used to make three such
// calls. One pool per thread, no lock; each byte is used once and wiped as it is taken, and a
// pool inherited through fork() is discarded (a child must never repeat its parent's bytes).
class RandomPool {
 public:
  RandomPool() {
    static const bool registered = pthread_atfork(nullptr, nullptr, OnForkInChild) == 0;
    (void)registered;  // without it a forked child could repeat bytes; keyledger never forks
                       // without exec, and pthread_atfork fails only for lack of memory
  }
  ~RandomPool() { OPENSSL_cleanse(bytes_, sizeof bytes_); }

  unsigned char Next() {
    if (next_ == sizeof bytes_ || generation_ != fork_generation.load(std::memory_order_relaxed)) {
      Refill();
    }
    const unsigned char b = bytes_[next_];
    bytes_[next_++] = 0;
    return b;
  }

 private:
  void Refill() {
    generation_ = fork_generation.load(std::memory_order_relaxed);
    RandomBytes(bytes_, sizeof bytes_);
    next_ = 0;
  }
  unsigned char bytes_[1024];
  size_t next_ = sizeof bytes_;
  uint64_t generation_ = 0;
};

RandomPool& ThisThreadsPool() {
  thread_local RandomPool pool;
  return pool;
}

constexpr size_t kIdTimeDigits = 8;
constexpr size_t kIdRandomDigits = 12;

constexpr unsigned __int128 Power(unsigned __int128 base, size_t exponent) {
  unsigned __int128 result = 1;
  while (exponent-- > 0) result *= base;
  return result;
}
constexpr unsigned __int128 kIdRandomRange = Power(62, kIdRandomDigits);  // 62^12 < 2^72

// Uniform in [0, 62^12): 72 random bits, drawn again when at or above the range (a third of the
// draws), so that no value is likelier than another.
unsigned __int128 RandomIdBits(RandomPool& pool) {
  for (;;) {
    unsigned __int128 value = 0;
    for (int i = 0; i < 9; ++i) value = value << 8 | pool.Next();
    if (value < kIdRandomRange) return value;
  }
}

}  // namespace

std::string RandomBase62(size_t count) {
  RandomPool& pool = ThisThreadsPool();
  std::string out(count, '\0');
  for (size_t i = 0; i < count;) {
    const unsigned char b = pool.Next();
    // 248 = 4 * 62: values at or above it would bias the low digits.
    if (b < 248) out[i++] = kBase62Digits[b % 62];
  }
  return out;
}

std::string TimeOrderedIds::Next(int64_t now) {
  RandomPool& pool = ThisThreadsPool();
  uint64_t ms = now > 0 ? static_cast<uint64_t>(now) : 0;
  unsigned __int128 random = 0;
  {
    std::lock_guard lock(mutex_);
    bool fresh = !started_ || ms > last_ms_;
    if (!fresh) {
      uint32_t step = 0;
      for (int i = 0; i < 4; ++i) step = step << 8 | pool.Next();
      random = last_random_ + step + 1;
      if (random >= kIdRandomRange) {  // the millisecond's range is used up: borrow the next one
        ms = last_ms_ + 1;
        fresh = true;
      } else {
        ms = last_ms_;
      }
    }
    if (fresh) random = RandomIdBits(pool);
    started_ = true;
    last_ms_ = ms;
    last_random_ = random;
  }
  std::string id;
  id.reserve(prefix_.size() + kIdTimeDigits + kIdRandomDigits);
  id.append(prefix_);
  AppendBase62Fixed(id, ms, kIdTimeDigits);
  AppendBase62Fixed(id, random, kIdRandomDigits);
  return id;
}

}  // namespace keyledger
