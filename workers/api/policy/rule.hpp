// oslo.policy's rule language, the part Glance's rules and operators' policy files use:
// `@` (always), `!` (never), an empty rule (always), `role:NAME`, `rule:NAME`,
// `ATTR:VALUE` and `'literal':%(key)s` comparisons (VALUE may hold %(key)s from the target),
// `and`, `or`, `not` and parentheses (`not` binds tightest, then `and`, then `or`). Values are
// compared as text, with a missing value spelled "None" on both sides, as oslo.policy does.
// Parsed rules are immutable; thread-safe.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "shared/core/result.hpp"

namespace glint::api {

// Who asks (from the validated token): the attributes a rule may name on the left of ':'.
struct PolicyCredentials {
  std::set<std::string> roles;  // lower-cased
  std::optional<std::string> project_id, user_id, project_domain_id, user_domain_id;
};

// What is asked about, as Glance builds it (owner as project_id, visibility, member_id, …).
using PolicyTarget = std::map<std::string, std::optional<std::string>>;

struct RuleNode;
using RulePtr = std::shared_ptr<const RuleNode>;

// Evaluates `rule:NAME` references; false for a name it does not know.
using RuleResolver = std::function<bool(const std::string& name, const PolicyCredentials&, const PolicyTarget&, int depth)>;

struct RuleNode {
  enum class Kind { always, never, role, rule, compare, literal_compare, all, any, negate };
  Kind kind = Kind::always;
  std::string left, right;         // role name / rule name / attribute and value (may hold %(key)s)
  std::vector<RulePtr> children;   // all / any / negate
};

// Errc::invalid with "column N: …" for text that is not a rule.
Expected<RulePtr> parse_rule(std::string_view text);
bool evaluate(const RuleNode& rule, const PolicyCredentials& who, const PolicyTarget& target,
              const RuleResolver& resolve, int depth = 0);
// Every rule name a rule refers to (for checking a policy file's references at load).
void referenced_rules(const RuleNode& rule, std::set<std::string>& out);
// How deep evaluate() recurses for this rule alone (each node and rule: reference is one level);
// rule: references count as `ref_depth(name)`.
int rule_depth(const RuleNode& rule, const std::function<int(const std::string&)>& ref_depth);
inline constexpr int kMaxRuleDepth = 32;  // deeper evaluations are refused at load, never cut short

}  // namespace glint::api
