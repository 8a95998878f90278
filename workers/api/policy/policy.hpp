// Glance 25's image policies: its default rules (legacy behaviour by default, as Glance 25 with
// enforce_new_defaults = False: each rule is "new default or rule:default", so the real checks
// are ownership and visibility; or the secure-RBAC personas admin / project member / project
// reader with enforce_new_defaults = True), overridden by an operator's policy file in
// oslo.policy's YAML (or JSON) format. Immutable once loaded; thread-safe.
#pragma once
#include <array>
#include <map>
#include <string>

#include "shared/core/result.hpp"
#include "workers/api/policy/rule.hpp"

namespace glint::api {

// The rules the API enforces (a policy file may also set Glance's other rules: tasks, cache,
// metadefs, locations; glint accepts them for features to come).
enum class Action {
  context_is_admin, add_image, get_image, get_images, modify_image, delete_image, publicize_image, communitize_image,
  download_image, upload_image, deactivate, reactivate, add_member, get_member, get_members, modify_member, delete_member,
  cache_image, cache_list, cache_delete,
};
const char* action_name(Action a);

class Policy {
 public:
  // Glance's defaults alone.
  static Policy defaults(bool secure_rbac);
  // Defaults overridden by `path` ("name": "rule" lines). Errc::invalid with "path:line: why" for a
  // rule that does not parse, a name that is neither Glance's nor referenced as an alias by
  // another rule (a typo would otherwise be ignored), a rule: reference to nothing, or a cycle.
  static Expected<Policy> load(const std::string& path, bool secure_rbac);
  // Same from text (the fuzz target and tests); `where` names it in errors.
  static Expected<Policy> parse(const std::string& text, const std::string& where, bool secure_rbac);

  bool allows(Action a, const PolicyCredentials& who, const PolicyTarget& target) const;
  bool secure_rbac() const { return secure_rbac_; }

 private:
  bool check(const std::string& name, const PolicyCredentials& who, const PolicyTarget& target, int depth) const;
  // by_action_ from rules_, once the rules are final (list pages check every row).
  void index_actions();

  std::map<std::string, RulePtr> rules_;
  std::array<RulePtr, static_cast<size_t>(Action::cache_delete) + 1> by_action_{};
  bool secure_rbac_ = false;
};

}  // namespace glint::api
