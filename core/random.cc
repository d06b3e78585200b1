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

std::string NewTimeOrderedId(std::string_view prefix, int64_t now) {
  std::string id(prefix);
  id.append(Base62Fixed(now > 0 ? static_cast<uint64_t>(now) : 0, 8)).append(RandomBase62(12));
  return id;
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

}  // namespace

std::string RandomBase62(size_t count) {
  thread_local RandomPool pool;
  std::string out(count, '\0');
  for (size_t i = 0; i < count;) {
    const unsigned char b = pool.Next();
    // 248 = 4 * 62: values at or above it would bias the low digits.
    if (b < 248) out[i++] = kBase62Digits[b % 62];
  }
  return out;
}

}  // namespace keyledger
