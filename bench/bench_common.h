#pragma once
// Small helpers shared by the benchmark programs: a stopwatch, flags, and the one output
// format bench/run reads: a line "RESULT <figure> <value>" per measured figure on standard output.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

namespace keyledger::bench {

class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  double Seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

inline void Report(std::string_view figure, double value) {
  std::printf("RESULT %.*s %.10g\n", static_cast<int>(figure.size()), figure.data(), value);
  std::fflush(stdout);
}

[[noreturn]] inline void Die(std::string_view what) {
  std::cerr << "error: " << what << "\n";
  std::exit(1);
}

// "--name=value" or "--name value" flags; the programs are driven by bench/run, so this is minimal.
class Flags {
 public:
  Flags(int argc, char** argv) : argc_(argc), argv_(argv) {}
  std::string Get(std::string_view name, std::string fallback = {}) const {
    const std::string flag = "--" + std::string(name);
    for (int i = 1; i < argc_; ++i) {
      std::string_view arg = argv_[i];
      if (arg == flag && i + 1 < argc_) return argv_[i + 1];
      if (arg.size() > flag.size() && arg.substr(0, flag.size()) == flag && arg[flag.size()] == '=') {
        return std::string(arg.substr(flag.size() + 1));
      }
    }
    return fallback;
  }
  std::string Required(std::string_view name) const {
    std::string v = Get(name);
    if (v.empty()) Die("--" + std::string(name) + " is required");
    return v;
  }
  uint64_t Number(std::string_view name, uint64_t fallback) const {
    std::string v = Get(name);
    return v.empty() ? fallback : std::strtoull(v.c_str(), nullptr, 10);
  }

 private:
  int argc_;
  char** argv_;
};

}  // namespace keyledger::bench
