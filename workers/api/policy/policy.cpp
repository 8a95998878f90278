#include "workers/api/policy/policy.hpp"

#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <nlohmann/json.hpp>

namespace glint::api {

namespace {

// Glance 25's check strings (glance/policies/base.py, image.py; the same facts, glint's words).
const std::string kAdminOrMember = "role:admin or (role:member and project_id:%(project_id)s)";
const std::string kAdminOrReader = "role:admin or (role:reader and project_id:%(project_id)s)";
const std::string kGetImage =
    "role:admin or (role:reader and (project_id:%(project_id)s or project_id:%(member_id)s or "
    "'community':%(visibility)s or 'public':%(visibility)s or 'shared':%(visibility)s))";
const std::string kDownload =
    "role:admin or (role:member and (project_id:%(project_id)s or project_id:%(member_id)s or "
    "'community':%(visibility)s or 'public':%(visibility)s or 'shared':%(visibility)s))";
const std::string kCreate = "role:admin or (role:member and project_id:%(project_id)s and project_id:%(owner)s)";
const std::string kSharedMember = "role:admin or (role:member and project_id:%(member_id)s)";
const std::string kReaderOrSharedMember = "role:admin or role:reader and (project_id:%(project_id)s or project_id:%(member_id)s)";
const std::string kGetNamespace = "role:admin or (role:reader and (project_id:%(project_id)s or 'public':%(visibility)s))";

struct Default {
  const char* name;
  std::string check;
  const char* deprecated;  // the legacy rule OR-ed in unless enforce_new_defaults; nullptr: none
};

const std::vector<Default>& glance_defaults() {
  static const std::vector<Default> d = {
      {"default", "", nullptr},
      {"context_is_admin", "role:admin", nullptr},
      {"add_image", kCreate, "rule:default"},
      {"delete_image", kAdminOrMember, "rule:default"},
      {"get_image", kGetImage, "rule:default"},
      {"get_images", kAdminOrReader, "rule:default"},
      {"modify_image", kAdminOrMember, "rule:default"},
      {"publicize_image", "role:admin", nullptr},
      {"communitize_image", kAdminOrMember, "rule:default"},
      {"download_image", kDownload, "rule:default"},
      {"upload_image", kAdminOrMember, "rule:default"},
      {"delete_image_location", "role:admin", "rule:default"},
      {"get_image_location", kAdminOrReader, "rule:default"},
      {"set_image_location", kAdminOrMember, "rule:default"},
      {"add_member", kAdminOrMember, "rule:default"},
      {"delete_member", kAdminOrMember, "rule:default"},
      {"get_member", kReaderOrSharedMember, "rule:default"},
      {"get_members", kReaderOrSharedMember, "rule:default"},
      {"modify_member", kSharedMember, "rule:default"},
      {"manage_image_cache", "role:admin", nullptr},
      {"deactivate", kAdminOrMember, "rule:default"},
      {"reactivate", kAdminOrMember, "rule:default"},
      {"copy_image", "role:admin", nullptr},
      {"get_task", "rule:default", nullptr},
      {"get_tasks", "rule:default", nullptr},
      {"add_task", "rule:default", nullptr},
      {"modify_task", "rule:default", nullptr},
      {"tasks_api_access", "role:admin", nullptr},
      {"cache_image", "role:admin", "rule:manage_image_cache"},
      {"cache_list", "role:admin", "rule:manage_image_cache"},
      {"cache_delete", "role:admin", "rule:manage_image_cache"},
      {"stores_info_detail", "role:admin", nullptr},
      {"metadef_default", "", nullptr},
      {"metadef_admin", "role:admin", nullptr},
      {"get_metadef_namespace", kGetNamespace, "rule:metadef_default"},
      {"get_metadef_namespaces", kGetNamespace, "rule:metadef_default"},
      {"modify_metadef_namespace", "rule:metadef_admin", nullptr},
      {"add_metadef_namespace", "rule:metadef_admin", nullptr},
      {"delete_metadef_namespace", "rule:metadef_admin", nullptr},
      {"get_metadef_object", kGetNamespace, "rule:metadef_default"},
      {"get_metadef_objects", kGetNamespace, "rule:metadef_default"},
      {"modify_metadef_object", "rule:metadef_admin", nullptr},
      {"add_metadef_object", "rule:metadef_admin", nullptr},
      {"delete_metadef_object", "rule:metadef_admin", nullptr},
      {"list_metadef_resource_types", kGetNamespace, "rule:metadef_default"},
      {"get_metadef_resource_type", kGetNamespace, "rule:metadef_default"},
      {"add_metadef_resource_type_association", "rule:metadef_admin", nullptr},
      {"remove_metadef_resource_type_association", "rule:metadef_admin", nullptr},
      {"get_metadef_property", kGetNamespace, "rule:metadef_default"},
      {"get_metadef_properties", kGetNamespace, "rule:metadef_default"},
      {"modify_metadef_property", "rule:metadef_admin", nullptr},
      {"add_metadef_property", "rule:metadef_admin", nullptr},
      {"remove_metadef_property", "rule:metadef_admin", nullptr},
      {"get_metadef_tag", kGetNamespace, "rule:metadef_default"},
      {"get_metadef_tags", kGetNamespace, "rule:metadef_default"},
      {"modify_metadef_tag", "rule:metadef_admin", nullptr},
      {"add_metadef_tag", "rule:metadef_admin", nullptr},
      {"add_metadef_tags", "rule:metadef_admin", nullptr},
      {"delete_metadef_tag", "rule:metadef_admin", nullptr},
      {"delete_metadef_tags", "rule:metadef_admin", nullptr},
  };
  return d;
}

struct Entry {
  std::string name, rule;
  size_t line;
};

std::string unquote(std::string s, bool& ok) {
  ok = true;
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front()) {
    const char q = s.front();
    s = s.substr(1, s.size() - 2);
    if (q == '\'') {  // YAML: '' is a quote inside single quotes
      std::string out;
      for (size_t i = 0; i < s.size(); ++i) {
        out.push_back(s[i]);
        if (s[i] == '\'' && i + 1 < s.size() && s[i + 1] == '\'') ++i;
      }
      return out;
    }
    return s;
  }
  if (!s.empty() && (s.front() == '"' || s.front() == '\'')) ok = false;
  return s;
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// oslo.policy's YAML file: a flat mapping of rule names to rule strings, one per line.
Expected<std::vector<Entry>> parse_yaml(const std::string& text, const std::string& where) {
  std::vector<Entry> out;
  std::istringstream in(text);
  std::string raw;
  size_t line = 0;
  auto bad = [&](const std::string& why) { return Error{Errc::invalid, where + ":" + std::to_string(line) + ": " + why}; };
  while (std::getline(in, raw)) {
    ++line;
    const std::string l = trim(raw);
    if (l.empty() || l[0] == '#' || l == "---") continue;
    if (raw[0] == ' ' || raw[0] == '\t') return bad("only a flat mapping of \"name\": \"rule\" lines is understood");
    size_t colon;
    if (l[0] == '"' || l[0] == '\'') {
      const size_t close = l.find(l[0], 1);
      if (close == std::string::npos) return bad("unterminated quote");
      colon = close + 1;
      if (colon >= l.size() || l[colon] != ':') return bad("':' expected after the rule name");
    } else {
      colon = l.find(": ");
      if (colon == std::string::npos && l.back() == ':') colon = l.size() - 1;
      if (colon == std::string::npos) return bad("\"name\": \"rule\" expected");
    }
    bool ok_name = true, ok_rule = true;
    std::string name = unquote(trim(l.substr(0, colon)), ok_name);
    std::string value = trim(l.substr(colon + 1));
    if (!value.empty() && value[0] != '"' && value[0] != '\'') {
      if (const size_t hash = value.find(" #"); hash != std::string::npos) value = trim(value.substr(0, hash));
    }
    std::string rule = unquote(value, ok_rule);
    if (!ok_name || !ok_rule) return bad("unterminated quote");
    if (name.empty()) return bad("empty rule name");
    out.push_back({name, rule, line});
  }
  return out;
}

// A policy.json file: {"name": "rule", ...}.
Expected<std::vector<Entry>> parse_json(const std::string& text, const std::string& where) {
  try {
    const nlohmann::json doc = nlohmann::json::parse(text);
    if (!doc.is_object()) return Error{Errc::invalid, where + ":1: a JSON object of rules expected"};
    std::vector<Entry> out;
    for (const auto& [k, v] : doc.items()) {
      if (!v.is_string()) return Error{Errc::invalid, where + ":1: rule '" + k + "' is not a string"};
      out.push_back({k, v.get<std::string>(), 1});
    }
    return out;
  } catch (const nlohmann::json::parse_error& e) {
    return Error{Errc::invalid, where + ":1: " + e.what()};
  }
}

}  // namespace

const char* action_name(Action a) {
  switch (a) {
    case Action::context_is_admin: return "context_is_admin";
    case Action::add_image: return "add_image";
    case Action::get_image: return "get_image";
    case Action::get_images: return "get_images";
    case Action::modify_image: return "modify_image";
    case Action::delete_image: return "delete_image";
    case Action::publicize_image: return "publicize_image";
    case Action::communitize_image: return "communitize_image";
    case Action::download_image: return "download_image";
    case Action::upload_image: return "upload_image";
    case Action::deactivate: return "deactivate";
    case Action::reactivate: return "reactivate";
    case Action::add_member: return "add_member";
    case Action::get_member: return "get_member";
    case Action::get_members: return "get_members";
    case Action::modify_member: return "modify_member";
    case Action::delete_member: return "delete_member";
    case Action::cache_image: return "cache_image";
    case Action::cache_list: return "cache_list";
    case Action::cache_delete: return "cache_delete";
  }
  return "default";
}

Policy Policy::defaults(bool secure_rbac) {
  Policy p;
  p.secure_rbac_ = secure_rbac;
  for (const auto& d : glance_defaults()) {
    // oslo.policy without enforce_new_defaults: "(new) or (deprecated)".
    const std::string text = secure_rbac || !d.deprecated ? d.check : "(" + d.check + ") or (" + d.deprecated + ")";
    auto rule = parse_rule(text);
    if (!rule) throw std::logic_error(std::string("bad built-in rule ") + d.name + ": " + rule.error().message);
    p.rules_[d.name] = *rule;
  }
  p.index_actions();
  return p;
}

void Policy::index_actions() {
  for (size_t a = 0; a < by_action_.size(); ++a) by_action_[a] = rules_.at(action_name(static_cast<Action>(a)));
}

Expected<Policy> Policy::load(const std::string& path, bool secure_rbac) {
  std::ifstream f(path);
  if (!f) return Error{Errc::invalid, path + ": cannot read the policy file"};
  std::ostringstream text;
  text << f.rdbuf();
  return parse(text.str(), path, secure_rbac);
}

Expected<Policy> Policy::parse(const std::string& text, const std::string& where, bool secure_rbac) {
  const size_t first = text.find_first_not_of(" \t\r\n");
  auto entries = first != std::string::npos && text[first] == '{' ? parse_json(text, where) : parse_yaml(text, where);
  if (!entries) return entries.error();
  Policy p = defaults(secure_rbac);
  std::set<std::string> known;
  for (const auto& d : glance_defaults()) known.insert(d.name);
  std::map<std::string, size_t> line_of;
  for (const auto& e : *entries) {
    auto rule = parse_rule(e.rule);
    if (!rule) return Error{Errc::invalid, where + ":" + std::to_string(e.line) + ": rule '" + e.name + "': " + rule.error().message};
    p.rules_[e.name] = *rule;  // a file's rule replaces the default, deprecated part and all
    line_of[e.name] = e.line;
  }
  std::set<std::string> referenced;
  for (const auto& [name, rule] : p.rules_) referenced_rules(*rule, referenced);
  for (const auto& [name, line] : line_of)
    if (!known.count(name) && !referenced.count(name))
      return Error{Errc::invalid, where + ":" + std::to_string(line) + ": unknown rule '" + name +
                                      "' (not one of Glance's, and no rule refers to it)"};
  for (const auto& [name, rule] : p.rules_) {
    std::set<std::string> refs;
    referenced_rules(*rule, refs);
    for (const auto& r : refs)
      if (!p.rules_.count(r)) {
        const size_t line = line_of.count(name) ? line_of[name] : 0;
        return Error{Errc::invalid, where + ":" + std::to_string(line) + ": rule '" + name + "' refers to rule:" + r + ", which is not defined"};
      }
  }
  // A cycle (a -> b -> a) would make every check through it false; refuse it instead.
  std::map<std::string, int> state;  // 1 visiting, 2 done
  std::function<bool(const std::string&)> acyclic = [&](const std::string& n) {
    if (state[n] == 2) return true;
    if (state[n] == 1) return false;
    state[n] = 1;
    std::set<std::string> refs;
    referenced_rules(*p.rules_.at(n), refs);
    for (const auto& r : refs)
      if (!acyclic(r)) return false;
    state[n] = 2;
    return true;
  };
  for (const auto& [name, line] : line_of)
    if (!acyclic(name)) return Error{Errc::invalid, where + ":" + std::to_string(line) + ": rule '" + name + "' refers to itself through rule:"};
  // An evaluation cut short by the depth bound would be false, and "not" would turn that into
  // true: a rule that deep is refused here instead.
  std::map<std::string, int> depth;
  std::function<int(const std::string&)> depth_of = [&](const std::string& n) {
    if (auto it = depth.find(n); it != depth.end()) return it->second;
    return depth[n] = rule_depth(*p.rules_.at(n), depth_of);
  };
  for (const auto& [name, line] : line_of)
    if (depth_of(name) > kMaxRuleDepth - 2)
      return Error{Errc::invalid, where + ":" + std::to_string(line) + ": rule '" + name + "' nests rules too deeply"};
  p.index_actions();
  return p;
}

bool Policy::check(const std::string& name, const PolicyCredentials& who, const PolicyTarget& target, int depth) const {
  auto it = rules_.find(name);
  if (it == rules_.end()) return false;
  return evaluate(*it->second, who, target,
                  [this](const std::string& n, const PolicyCredentials& w, const PolicyTarget& t, int d) { return check(n, w, t, d); },
                  depth);
}

bool Policy::allows(Action a, const PolicyCredentials& who, const PolicyTarget& target) const {
  return evaluate(*by_action_[static_cast<size_t>(a)], who, target,
                  [this](const std::string& n, const PolicyCredentials& w, const PolicyTarget& t, int d) { return check(n, w, t, d); });
}

}  // namespace glint::api
