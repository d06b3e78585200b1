// The verify traffic: services checking API keys. Tokens are read from the request and handed to
// the ledger; they are never logged, echoed or put in an error.

#include "core/json_writer.h"
#include "http/error_mapping.h"
#include "http/json_input.h"
#include "http/routes.h"
#include "http/views.h"

namespace keyledger::http {
namespace {
namespace bh = boost::beast::http;

std::string VerifyJson(const VerifyResult& r) {
  JsonWriter w;
  w.BeginObject().Field("valid", r.code == VerifyCode::kValid);
  w.Field("code", VerifyCodeName(r.code)).Key("key");
  if (r.key) {
    WriteKey(w, *r.key);
  } else {
    w.Null();
  }
  w.Key("workspace");
  if (r.key) {
    w.String(r.key->workspace);
  } else {
    w.Null();
  }
  return w.EndObject().Take();
}

void ReplyUnauthorized(const ExchangePtr& ex) {
  ex->response().set(bh::field::www_authenticate, "Bearer");
  ex->Fail(Status::Unauthorized());
}

void VerifyBody(const ExchangePtr& ex, Ledger& ledger) {
  auto input = JsonInput::Parse(ex->body(), {"token", "ability", "cost"});
  if (!input.ok()) return ex->Fail(input.status());
  std::optional<std::string> token, ability;
  std::optional<int64_t> cost;
  for (Status s : {input->String("token", token), input->String("ability", ability),
                   input->Int("cost", cost)}) {
    if (!s.ok()) return ex->Fail(s);
  }
  if (!token) return ex->Fail(Status::Invalid("token is required.", "token"));
  if (ability && !IsValidAbility(*ability)) {
    return ex->Fail(Status::Invalid("ability must be resource:read or resource:write.", "ability"));
  }
  if (cost && (*cost < 0 || *cost > 1000000)) {
    return ex->Fail(Status::Invalid("cost must be an integer from 0 to 1000000.", "cost"));
  }
  ledger.Verify({*token, ability.value_or(""), ex->context().remote_ip},
                [ex](Result<VerifyResult> r) { ReplyWith(ex, r, 200, VerifyJson); });
}

void Me(const ExchangePtr& ex, Ledger& ledger) {
  ledger.Verify({ex->BearerToken(), "", ex->context().remote_ip}, [ex](Result<VerifyResult> r) {
    if (!r.ok()) return ex->Fail(r.status());
    if (r->code != VerifyCode::kValid) return ReplyUnauthorized(ex);
    JsonWriter w;
    w.BeginObject().Key("key");
    WriteKey(w, *r->key);
    ex->Reply(200, w.EndObject().Take());
  });
}

constexpr std::string_view kForwardAuthPath = "/v1/authz";

// The ability the guarded request needs: from X-Required-Ability, and on /v1/authz itself also
// from `?ability=` (below it, Envoy's ext_authz `path_prefix` appends the guarded request's path
// and query, which its client chose). Every place that names one must name the same: Traefik
// forwards the client's headers, so a client's X-Required-Ability must not replace the ability
// the operator wrote into the address. A conflict is a 400, which every proxy treats as a denial.
Result<std::string> RequiredAbility(const Exchange& ex) {
  std::string ability;
  bool conflict = false;
  const auto name = [&](std::string_view value) {
    if (value.empty()) return;
    if (ability.empty()) {
      ability = value;
    } else {
      conflict = conflict || value != ability;
    }
  };
  const auto [first, last] = ex.request().equal_range("X-Required-Ability");
  for (auto field = first; field != last; ++field) {
    name(std::string_view(field->value().data(), field->value().size()));
  }
  if (ex.path() == kForwardAuthPath) {
    for (const std::string& value : ex.QueryAll("ability")) name(value);
  }
  if (conflict) {
    return Status::Invalid("The required ability is named more than once, differently.", "ability");
  }
  if (!ability.empty() && !IsValidAbility(ability)) {
    return Status::Invalid("The required ability must be resource:read or resource:write.",
                           "ability");
  }
  return ability;
}

void ForwardAuth(const ExchangePtr& ex, Ledger& ledger) {
  Result<std::string> required = RequiredAbility(*ex);
  if (!required.ok()) return ex->Fail(required.status());
  std::string ability = std::move(*required);
  ledger.Verify({ex->BearerToken(), ability, ex->context().remote_ip}, [ex](Result<VerifyResult> r) {
    if (!r.ok()) return ex->Fail(r.status());
    switch (r->code) {
      case VerifyCode::kValid:
        ex->response().set("X-Key-Id", r->key->id);
        ex->response().set("X-Key-Workspace", r->key->workspace);
        ex->response().set("X-Key-Name", r->key->name);
        return ex->ReplyNoContent();
      case VerifyCode::kForbidden:
      case VerifyCode::kUpgradeRequired:
        return ex->Fail(Status::Forbidden());
      default:
        return ReplyUnauthorized(ex);
    }
  });
}

}  // namespace

void AddVerifyRoutes(Router& router, Ledger& ledger) {
  router.Add(bh::verb::post, "/v1/keys/verify", Bind(ledger, VerifyBody));
  router.AddForwardAuth(kForwardAuthPath, Bind(ledger, ForwardAuth));
  router.Add(bh::verb::get, "/public/v1/me", Bind(ledger, Me));
}

}  // namespace keyledger::http
