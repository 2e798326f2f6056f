// Who may edit the catalog: a member of staff by roles, a machine client by scopes.
#include <gtest/gtest.h>

#include <mvsp/catalog/catalog.hpp>

namespace mvsp::catalog {
namespace {

using Roles = std::vector<std::pair<std::string, std::string>>;

std::vector<Authority> authorities() {
  Authority state;
  state.id = "lagus";
  state.region = std::string(kStateKey);
  state.tenant_id = "t-land";
  Authority county;
  county.id = "lk-ros";
  county.region = "13072";
  county.tenant_id = "t-ros";
  return {state, county};
}

TEST(StaffEditor, RolesDecideTenantsAndStateWide) {
  struct Case {
    const char* name;
    Roles roles;
    bool editor;
    bool state_wide;
    std::vector<std::string> tenants;
  };
  const Case cases[] = {
      {"no roles", {}, false, false, {}},
      {"other roles only", {{"t-ros", "authority_admin"}, {"t-ros", "clerk"}}, false, false, {}},
      {"editor of a county", {{"t-ros", "editor"}}, true, false, {"t-ros"}},
      {"editor of two tenants",
       {{"t-ros", "editor"}, {"t-hro", "editor"}},
       true,
       false,
       {"t-ros", "t-hro"}},
      {"editor of the state's tenant", {{"t-land", "editor"}}, true, true, {"t-land"}},
      {"operator", {{"", "operator"}}, true, true, {}},
      {"admin of the state's tenant is no editor",
       {{"t-land", "authority_admin"}},
       false,
       false,
       {}},
  };
  for (const auto& c : cases) {
    auto e = staff_editor("a1", c.roles, authorities());
    ASSERT_EQ(e.has_value(), c.editor) << c.name;
    if (!e) continue;
    EXPECT_EQ(e->actor, "account:a1") << c.name;
    EXPECT_EQ(e->state_wide, c.state_wide) << c.name;
    EXPECT_EQ(e->tenant_ids, c.tenants) << c.name;
  }
}

TEST(ClientEditor, ScopesDecide) {
  struct Case {
    const char* name;
    std::string tenant;
    std::vector<std::string> scopes;
    bool editor;
    bool state_wide;
  };
  const Case cases[] = {
      {"no scopes", "t-ros", {}, false, false},
      {"other scopes", "t-ros", {"notices:write", "catalog"}, false, false},
      {"write", "t-ros", {"catalog:write"}, true, false},
      {"admin", "", {"catalog:admin"}, true, true},
      {"both", "t-ros", {"catalog:write", "catalog:admin"}, true, true},
      {"a prefix is not the scope", "t-ros", {"catalog:writer", "catalog:adm"}, false, false},
  };
  for (const auto& c : cases) {
    auto e = client_editor("fv", c.tenant, c.scopes);
    ASSERT_EQ(e.has_value(), c.editor) << c.name;
    if (!e) continue;
    EXPECT_EQ(e->actor, "client:fv") << c.name;
    EXPECT_EQ(e->state_wide, c.state_wide) << c.name;
    EXPECT_EQ(e->tenant_ids,
              c.tenant.empty() ? std::vector<std::string>{} : std::vector<std::string>{c.tenant})
        << c.name;
  }
}

}  // namespace
}  // namespace mvsp::catalog
