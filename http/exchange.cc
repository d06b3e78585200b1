#include "http/exchange.h"

#include <boost/beast/core/string.hpp>
#include <algorithm>
#include <charconv>

#include "core/time_format.h"
#include "http/error_mapping.h"

namespace keyledger::http {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() &&
               HexDigit(s[i + 1]) >= 0 && HexDigit(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexDigit(s[i + 1]) << 4 | HexDigit(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// A request target in absolute form ("http://host:8080/v1/authz?x"), which RFC 9112 section
// 3.2.2 requires a server to accept (proxies send it), without its scheme and authority.
std::string_view WithoutAuthority(std::string_view target) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (target.size() >= scheme.size() && boost::beast::iequals(target.substr(0, scheme.size()), scheme)) {
      const size_t end = target.find_first_of("/?", scheme.size());
      return end == std::string_view::npos ? std::string_view() : target.substr(end);
    }
  }
  return target;
}

}  // namespace

Exchange::Exchange(Request&& request, RequestContext context, Responder respond)
    : request_(std::move(request)), context_(std::move(context)), respond_(std::move(respond)) {
  const std::string_view target =
      WithoutAuthority(std::string_view(request_.target().data(), request_.target().size()));
  const size_t q = target.find('?');
  path_ = target.substr(0, q);
  if (q != std::string_view::npos) {
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
      const size_t amp = rest.find('&');
      const std::string_view pair = rest.substr(0, amp);
      const size_t eq = pair.find('=');
      if (!pair.empty()) {
        query_.emplace_back(PercentDecode(pair.substr(0, eq)),
                            eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1)));
      }
      if (amp == std::string_view::npos) break;
      rest.remove_prefix(amp + 1);
    }
  }
  response_.version(request_.version());
  // Beast's setter rewrites the Connection field's token list even when nothing changes; a fresh
  // HTTP/1.1 response already wants keep-alive.
  if (response_.keep_alive() != request_.keep_alive()) response_.keep_alive(request_.keep_alive());
}

std::optional<std::string> Exchange::Query(std::string_view name) const {
  for (const auto& [k, v] : query_) {
    if (k == name) return v;
  }
  return std::nullopt;
}

std::vector<std::string> Exchange::QueryAll(std::string_view name) const {
  std::vector<std::string> values;
  for (const auto& [k, v] : query_) {
    if (k == name) values.push_back(v);
  }
  return values;
}

std::optional<std::string> Exchange::UnknownQueryParameter(const std::vector<std::string>& known) const {
  for (const auto& [name, value] : query_) {
    if (std::find(known.begin(), known.end(), name) == known.end()) return name;
  }
  return std::nullopt;
}

std::optional<std::string> Exchange::RepeatedQueryParameter(std::string_view repeatable) const {
  if (query_.size() < 2) return std::nullopt;
  // Sorted, not compared pairwise: 8 KiB of distinct names would otherwise cost ~10 ms.
  std::vector<std::string_view> names;
  names.reserve(query_.size());
  for (const auto& [name, value] : query_) {
    if (name != repeatable) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  const auto repeated = std::adjacent_find(names.begin(), names.end());
  if (repeated == names.end()) return std::nullopt;
  return std::string(*repeated);
}

std::string_view Exchange::Header(std::string_view name) const {
  auto it = request_.find(boost::beast::string_view(name.data(), name.size()));
  if (it == request_.end()) return {};
  return {it->value().data(), it->value().size()};
}

std::string_view Exchange::BearerToken() const {
  // Two Authorization fields name two credentials: which one a proxy in front checked is unknown.
  const auto [first, last] = request_.equal_range(boost::beast::http::field::authorization);
  if (first == last || std::next(first) != last) return {};
  std::string_view value(first->value().data(), first->value().size());
  constexpr std::string_view kScheme = "Bearer ";
  if (value.size() <= kScheme.size()) return {};
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(value[i])) !=
        std::tolower(static_cast<unsigned char>(kScheme[i]))) {
      return {};
    }
  }
  value.remove_prefix(kScheme.size());
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  return value;
}

void Exchange::Reply(unsigned status, std::string json_body) {
  Prepare(status, std::move(json_body));
  ReplyPrepared();
}

void Exchange::Prepare(unsigned status, std::string json_body) {
  if (replied_) return;
  response_.result(status);
  response_.set(boost::beast::http::field::content_type, kJsonContentType);
  response_.set(boost::beast::http::field::cache_control, "no-store");
  response_.body() = std::move(json_body);
}

void Exchange::ReplyNoContent() {
  if (replied_) return;
  replied_ = true;
  response_.result(boost::beast::http::status::no_content);
  respond_(std::move(response_));
}

void Exchange::ReplyPrepared() {
  if (replied_) return;
  replied_ = true;
  respond_(std::move(response_));  // the transport sets Content-Length (Finalize in session.cc)
}

void Exchange::Fail(const Status& status) {
  Reply(MapStatus(status.code()).status, ErrorBody(status));
}

Result<size_t> LimitParam(const Exchange& ex) {
  auto text = ex.Query("limit");
  if (!text) return size_t{50};
  size_t limit = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), limit);
  if (ec != std::errc() || end != text->data() + text->size() || limit < 1 || limit > 1000) {
    return Status::Invalid("limit must be an integer from 1 to 1000.", "limit");
  }
  return limit;
}

// `lower_bound`: a fraction beyond milliseconds rounds up (ParseRfc3339LowerBound).
Result<std::optional<int64_t>> TimeParam(const Exchange& ex, std::string_view name, bool lower_bound) {
  auto text = ex.Query(name);
  if (!text) return std::optional<int64_t>();
  auto t = lower_bound ? ParseRfc3339LowerBound(*text) : ParseRfc3339(*text);
  if (!t) {
    return Status::Invalid(std::string(name) + " must be an RFC 3339 time such as 2026-11-23T10:00:00.000Z.",
                           std::string(name));
  }
  return std::optional<int64_t>(*t);
}

Result<TimeRange> TimeRangeParams(const Exchange& ex) {
  auto from = TimeParam(ex, "from", /*lower_bound=*/true);
  if (!from.ok()) return from.status();
  auto to = TimeParam(ex, "to");
  if (!to.ok()) return to.status();
  if (*from && *to && **from > **to) return Status::Invalid("from must not be later than to.", "from");
  return TimeRange{*from, *to};
}

}  // namespace keyledger::http
