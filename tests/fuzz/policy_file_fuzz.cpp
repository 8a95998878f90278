// Policy files and rules: any text either loads or fails with a message; a loaded policy answers
// every check without crashing or recursing without bound.
#include <cstddef>
#include <cstdint>
#include <string>

#include "workers/api/policy/policy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  auto rule = glint::api::parse_rule(in);
  glint::api::PolicyCredentials who;
  who.roles = {"member"};
  who.project_id = "p1";
  const glint::api::PolicyTarget target = {{"project_id", "p1"}, {"visibility", "shared"}, {"owner", std::nullopt}};
  if (rule) (void)glint::api::evaluate(**rule, who, target, nullptr);
  for (bool rbac : {false, true}) {
    auto p = glint::api::Policy::parse(in, "fuzz.yaml", rbac);
    if (!p) {
      if (p.error().message.rfind("fuzz.yaml:", 0) != 0) __builtin_trap();  // every error names the file
      continue;
    }
    for (int a = 0; a <= static_cast<int>(glint::api::Action::delete_member); ++a)
      (void)p->allows(static_cast<glint::api::Action>(a), who, target);
  }
  return 0;
}
