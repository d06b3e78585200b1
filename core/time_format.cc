#include "core/time_format.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace keyledger {
namespace {

// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int& year, unsigned& month, unsigned& day) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  day = doy - (153 * mp + 2) / 5 + 1;
  month = mp < 10 ? mp + 3 : mp - 9;
  year = static_cast<int>(y + (month <= 2));
}

bool ReadDigits(std::string_view s, size_t pos, size_t count, int& out) {
  if (pos + count > s.size()) return false;
  int value = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    value = value * 10 + (s[i] - '0');
  }
  out = value;
  return true;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

}  // namespace

size_t FormatRfc3339Into(TimeMs t, char (&out)[kRfc3339MaxChars]) {
  int64_t days = t / kDayMs;
  int64_t rem = t % kDayMs;
  if (rem < 0) {
    rem += kDayMs;
    --days;
  }
  int year;
  unsigned month, day;
  CivilFromDays(days, year, month, day);
  const int64_t secs = rem / 1000;
  if (year >= 0 && year <= 9999) {
    // Every event and every <Key> carries several of these; snprintf was a visible share of a
    // verify. Same bytes as the format below.
    char* p = out;
    auto put = [&p](unsigned value, int digits) {
      for (int i = digits - 1; i >= 0; --i) {
        p[i] = static_cast<char>('0' + value % 10);
        value /= 10;
      }
      p += digits;
    };
    put(static_cast<unsigned>(year), 4);
    *p++ = '-';
    put(month, 2);
    *p++ = '-';
    put(day, 2);
    *p++ = 'T';
    put(static_cast<unsigned>(secs / 3600), 2);
    *p++ = ':';
    put(static_cast<unsigned>(secs / 60 % 60), 2);
    *p++ = ':';
    put(static_cast<unsigned>(secs % 60), 2);
    *p++ = '.';
    put(static_cast<unsigned>(rem % 1000), 3);
    *p++ = 'Z';
    return static_cast<size_t>(p - out);
  }
  const int n = std::snprintf(out, kRfc3339MaxChars, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", year, month,
                              day, static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60),
                              static_cast<int>(secs % 60), static_cast<int>(rem % 1000));
  return n < 0 ? 0 : std::min<size_t>(static_cast<size_t>(n), kRfc3339MaxChars - 1);
}

std::string FormatRfc3339(TimeMs t) {
  char buf[kRfc3339MaxChars];
  return std::string(buf, FormatRfc3339Into(t, buf));
}

std::optional<TimeMs> ParseRfc3339(std::string_view s) {
  int year, month, day, hour, minute, second;
  if (s.size() < 20) return std::nullopt;
  if (!ReadDigits(s, 0, 4, year) || s[4] != '-' || !ReadDigits(s, 5, 2, month) || s[7] != '-' ||
      !ReadDigits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !ReadDigits(s, 11, 2, hour) || s[13] != ':' || !ReadDigits(s, 14, 2, minute) ||
      s[16] != ':' || !ReadDigits(s, 17, 2, second)) {
    return std::nullopt;
  }
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month) ||
      hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  size_t pos = 19;
  int millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    const size_t start = pos;
    int scale = 100;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      millis += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  if (pos >= s.size()) return std::nullopt;
  int64_t offset_minutes = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh, om;
    if (!ReadDigits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !ReadDigits(s, pos + 4, 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_minutes = (s[pos] == '+' ? 1 : -1) * (oh * 60 + om);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  if (second == 60) second = 59;  // leap second: clamp, we do not model them
  const int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const int64_t t = ((days * 24 + hour) * 60 + minute - offset_minutes) * 60 * 1000 +
                    static_cast<int64_t>(second) * 1000 + millis;
  constexpr int64_t kLastMsOf9999 = 253402300799999;
  if (t < 0 || t > kLastMsOf9999) return std::nullopt;
  return t;
}

std::optional<TimeMs> Rfc3339StreamParser::Parse(std::string_view s) {
  int second, millis;
  // The canonical form, a leap second excluded (ParseRfc3339 clamps it).
  const bool canonical = s.size() == 24 && s[16] == ':' && s[19] == '.' && s[23] == 'Z' &&
                         ReadDigits(s, 17, 2, second) && second < 60 && ReadDigits(s, 20, 3, millis);
  if (canonical && std::memcmp(s.data(), minute_, sizeof minute_) == 0) {
    return minute_start_ + second * 1000 + millis;
  }
  const std::optional<TimeMs> t = ParseRfc3339(s);
  if (t && canonical) {
    std::memcpy(minute_, s.data(), sizeof minute_);
    minute_start_ = *t - (second * 1000 + millis);
  }
  return t;
}

std::optional<TimeMs> ParseRfc3339LowerBound(std::string_view text) {
  std::optional<TimeMs> t = ParseRfc3339(text);
  if (!t) return t;
  const size_t dot = text.find('.');
  if (dot == std::string_view::npos) return t;
  size_t end = dot + 1;
  while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
  for (size_t i = dot + 4; i < end; ++i) {
    if (text[i] != '0') return *t + 1;
  }
  return t;
}

}  // namespace keyledger
