// Who may do what: Authenticate, the Authorize policy, and workspace isolation through every
// command and query of the Ledger.

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "projections/ledger.h"
#include "projections/principal.h"
#include "tests/projections/ledger_fixture.h"

namespace keyledger {
namespace {

using testing::KeyInput;
using testing::LedgerEnv;
using testing::WorkspaceActors;


// Two workspaces, each with its admin, auditor and one API key.
struct TwoWorkspaces {
  explicit TwoWorkspaces(LedgerEnv& env) {
    a = env.MustSetUpWorkspace("acme");
    b = env.MustSetUpWorkspace("globex");
    key_a = env.MustCreateKey(a.admin, "acme", KeyInput("acme key"));
    key_b = env.MustCreateKey(b.admin, "globex", KeyInput("globex key"));
  }
  WorkspaceActors a, b;
  CreatedKey key_a, key_b;
};

BOOST_AUTO_TEST_SUITE(LedgerAccessTest)

BOOST_AUTO_TEST_CASE(authenticate_accepts_only_live_admin_and_operator_keys) {
  LedgerEnv env;
  TwoWorkspaces w(env);
  BOOST_TEST(env.ledger->Authenticate(w.a.admin_token, "").ok());
  BOOST_TEST(env.ledger->Authenticate(testing::KnownOperatorToken(), "").ok());

  std::string tampered = w.a.admin_token;
  tampered[6] = tampered[6] == 'A' ? 'B' : 'A';
  for (const std::string& token :
       std::vector<std::string>{w.key_a.token, "", "garbage", "kla_", GenerateToken("kla"), GenerateToken("klo"),
                                tampered, w.a.admin_token + " ", "Bearer " + w.a.admin_token}) {
    auto p = env.ledger->Authenticate(token, "");
    CHECK_CODE(p, StatusCode::kUnauthorized);
  }
  // An API key is refused even after it has been used.
  BOOST_TEST((env.VerifyCodeOf(w.key_a.token) == VerifyCode::kValid));
  CHECK_CODE(env.ledger->Authenticate(w.key_a.token, "x"), StatusCode::kUnauthorized);
}

BOOST_AUTO_TEST_CASE(authenticate_rejects_a_revoked_admin_key) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme");
  BOOST_REQUIRE(env.ledger->Authenticate(acme.admin_token, "").ok());
  // No command revokes admin keys yet; record the fact straight into the log.
  env.CloseLedger();
  Status appended = testing::AppendRaw(*env.store, env.clock,
                                       {PendingEvent{"acme", acme.admin_key_id, "ops", KeyRevoked{"left"}}});
  BOOST_REQUIRE_MESSAGE(appended.ok(), appended.message());
  env.OpenLedger();
  CHECK_CODE(env.ledger->Authenticate(acme.admin_token, ""), StatusCode::kUnauthorized);
  BOOST_TEST(env.ledger->Authenticate(acme.auditor_token, "").ok());
}

BOOST_AUTO_TEST_CASE(admin_of_one_workspace_is_forbidden_everywhere_in_another) {
  LedgerEnv env;
  TwoWorkspaces w(env);
  const uint64_t head = env.ledger->head_seq();
  for (const Principal& p : {w.a.admin, w.a.auditor}) {
    CHECK_CODE(env.CreateApiKey(p, "globex", KeyInput("intruder")), StatusCode::kForbidden);
    CHECK_CODE(env.RotateWithGrace(p, "globex", w.key_b.key.id, 0), StatusCode::kForbidden);
    CHECK_CODE(env.Revoke(p, "globex", w.key_b.key.id), StatusCode::kForbidden);
    CHECK_CODE(env.ledger->GetWorkspace(p, "globex"), StatusCode::kForbidden);
    CHECK_CODE(env.ledger->GetKey(p, "globex", w.key_b.key.id), StatusCode::kForbidden);
    CHECK_CODE(env.ledger->ListKeys(p, "globex", KeyFilter::kAll, 50, ""), StatusCode::kForbidden);
    CHECK_CODE(env.ledger->Usage(p, "globex", w.key_b.key.id, UsageQuery{}), StatusCode::kForbidden);
    CHECK_CODE(env.ledger->Audit(p, "globex", EventQuery{}), StatusCode::kForbidden);
    EventQuery by_key;
    by_key.key_id = w.key_b.key.id;
    CHECK_CODE(env.ledger->Audit(p, "globex", by_key), StatusCode::kForbidden);
    // Even a malformed request is refused for want of the right, not for its input.
    CHECK_CODE(env.CreateApiKey(p, "globex", KeyInput("")), StatusCode::kForbidden);
    // Operator-only commands.
    CHECK_CODE(env.CreateWorkspace(p, "initech", Plan::kPro), StatusCode::kForbidden);
    CHECK_CODE(env.UpdatePlan(p, "globex", Plan::kFree), StatusCode::kForbidden);
    CHECK_CODE(env.UpdatePlan(p, "acme", Plan::kFree), StatusCode::kForbidden);
    CHECK_CODE(env.CreateAdminKey(p, "globex", "x", "admin"), StatusCode::kForbidden);
    CHECK_CODE(env.CreateAdminKey(p, "acme", "x", "admin"), StatusCode::kForbidden);
    CHECK_CODE(env.ledger->Events(p, 0, 10), StatusCode::kForbidden);
  }
  BOOST_TEST(env.ledger->head_seq() == head);
  BOOST_TEST((env.VerifyCodeOf(w.key_b.token) == VerifyCode::kValid));
  BOOST_TEST((env.MustGetKey(w.b.admin, "globex", w.key_b.key.id).status == KeyStatus::kActive));
}

BOOST_AUTO_TEST_CASE(auditor_reads_but_cannot_change_keys) {
  LedgerEnv env;
  TwoWorkspaces w(env);
  const Principal& auditor = w.a.auditor;
  const std::string id = w.key_a.key.id;
  BOOST_TEST(env.ledger->GetWorkspace(auditor, "acme").ok());
  BOOST_TEST(env.ledger->GetKey(auditor, "acme", id).ok());
  auto list = env.ledger->ListKeys(auditor, "acme", KeyFilter::kAll, 50, "");
  BOOST_REQUIRE(list.ok());
  BOOST_TEST(list->keys.size() == 1u);
  BOOST_TEST(env.ledger->Usage(auditor, "acme", id, UsageQuery{}).ok());
  auto audit = env.ledger->Audit(auditor, "acme", EventQuery{});
  BOOST_REQUIRE(audit.ok());
  BOOST_TEST(!audit->events.empty());

  const uint64_t head = env.ledger->head_seq();
  CHECK_CODE(env.CreateApiKey(auditor, "acme", KeyInput("k")), StatusCode::kForbidden);
  CHECK_CODE(env.RotateWithGrace(auditor, "acme", id, 0), StatusCode::kForbidden);
  CHECK_CODE(env.Revoke(auditor, "acme", id), StatusCode::kForbidden);
  BOOST_TEST(env.ledger->head_seq() == head);
}

BOOST_AUTO_TEST_CASE(operator_manages_workspaces_but_not_api_keys) {
  LedgerEnv env;
  TwoWorkspaces w(env);
  const Principal& op = env.op;
  BOOST_TEST(env.CreateWorkspace(op, "initech", Plan::kFree).ok());
  BOOST_TEST(env.UpdatePlan(op, "initech", Plan::kPro).ok());
  BOOST_TEST(env.CreateAdminKey(op, "initech", "admin", "admin").ok());
  BOOST_TEST(env.ledger->GetWorkspace(op, "acme").ok());
  auto events = env.ledger->Events(op, 0, 1000);
  BOOST_REQUIRE(events.ok());
  BOOST_TEST(events->events.size() == env.ledger->head_seq());

  const uint64_t head = env.ledger->head_seq();
  CHECK_CODE(env.CreateApiKey(op, "acme", KeyInput("k")), StatusCode::kForbidden);
  CHECK_CODE(env.RotateWithGrace(op, "acme", w.key_a.key.id, 0), StatusCode::kForbidden);
  CHECK_CODE(env.Revoke(op, "acme", w.key_a.key.id), StatusCode::kForbidden);
  CHECK_CODE(env.ledger->GetKey(op, "acme", w.key_a.key.id), StatusCode::kForbidden);
  CHECK_CODE(env.ledger->ListKeys(op, "acme", KeyFilter::kAll, 50, ""), StatusCode::kForbidden);
  CHECK_CODE(env.ledger->Audit(op, "acme", EventQuery{}), StatusCode::kForbidden);
  BOOST_TEST(env.ledger->head_seq() == head);
}

BOOST_AUTO_TEST_CASE(another_workspaces_key_through_your_own_workspace_is_not_found) {
  LedgerEnv env;
  TwoWorkspaces w(env);
  const Principal& admin = w.a.admin;
  const std::string foreign = w.key_b.key.id;
  const uint64_t head = env.ledger->head_seq();
  CHECK_CODE(env.ledger->GetKey(admin, "acme", foreign), StatusCode::kNotFound);
  CHECK_CODE(env.ledger->Usage(admin, "acme", foreign, UsageQuery{}), StatusCode::kNotFound);
  EventQuery q;
  q.key_id = foreign;
  CHECK_CODE(env.ledger->Audit(admin, "acme", q), StatusCode::kNotFound);
  CHECK_CODE(env.Revoke(admin, "acme", foreign), StatusCode::kNotFound);
  CHECK_CODE(env.RotateWithGrace(admin, "acme", foreign, 0), StatusCode::kNotFound);
  // Admin keys are not API keys, even in one's own workspace.
  CHECK_CODE(env.ledger->GetKey(admin, "acme", w.a.admin_key_id), StatusCode::kNotFound);
  CHECK_CODE(env.Revoke(admin, "acme", w.a.auditor_key_id), StatusCode::kNotFound);
  BOOST_TEST(env.ledger->head_seq() == head);
  BOOST_TEST((env.VerifyCodeOf(w.key_b.token) == VerifyCode::kValid));
  BOOST_TEST(env.ledger->Authenticate(w.a.auditor_token, "").ok());
}

BOOST_AUTO_TEST_CASE(authorize_policy_table) {
  Principal op{KeyKind::kOperator, "key_op", "", "", "ops"};
  Principal admin{KeyKind::kAdmin, "key_ad", "acme", "admin", "key_ad"};
  Principal auditor{KeyKind::kAdmin, "key_au", "acme", "auditor", "key_au"};
  Principal odd_role{KeyKind::kAdmin, "key_x", "acme", "owner", "key_x"};
  Principal api{KeyKind::kApi, "key_api", "acme", "", "key_api"};
  struct Row {
    const Principal* p;
    Action action;
    std::string ws;
    bool allowed;
  };
  const std::vector<Row> rows = {
      {&op, Action::kManageWorkspaces, "", true},   {&op, Action::kReadLedger, "", true},
      {&op, Action::kReadWorkspace, "acme", true},  {&op, Action::kManageKeys, "acme", false},
      {&op, Action::kReadKeys, "acme", false},

      {&admin, Action::kManageKeys, "acme", true},  {&admin, Action::kReadKeys, "acme", true},
      {&admin, Action::kReadWorkspace, "acme", true}, {&admin, Action::kManageKeys, "globex", false},
      {&admin, Action::kReadKeys, "globex", false}, {&admin, Action::kReadWorkspace, "globex", false},
      {&admin, Action::kManageKeys, "", false},     {&admin, Action::kManageWorkspaces, "", false},
      {&admin, Action::kReadLedger, "", false},

      {&auditor, Action::kReadKeys, "acme", true},  {&auditor, Action::kReadWorkspace, "acme", true},
      {&auditor, Action::kManageKeys, "acme", false}, {&auditor, Action::kReadKeys, "globex", false},

      {&odd_role, Action::kManageKeys, "acme", false}, {&odd_role, Action::kReadKeys, "acme", false},

      {&api, Action::kReadKeys, "acme", false},     {&api, Action::kManageKeys, "acme", false},
      {&api, Action::kReadWorkspace, "acme", false}, {&api, Action::kManageWorkspaces, "", false},
  };
  for (const Row& row : rows) {
    Status s = Authorize(*row.p, row.action, row.ws);
    BOOST_TEST(s.ok() == row.allowed, "principal " << row.p->key_id << " action " << static_cast<int>(row.action)
                                                     << " workspace '" << row.ws << "'");
    if (!s.ok()) CHECK_STATUS(s, StatusCode::kForbidden);
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger
