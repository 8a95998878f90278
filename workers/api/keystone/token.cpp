#include "workers/api/keystone/token.hpp"

#include <algorithm>
#include <string_view>

#include <nlohmann/json.hpp>

#include "shared/core/time_text.hpp"

namespace glint::api {

namespace {

using nlohmann::json;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string str_at(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}


std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') { ++i; continue; }
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

// Whether path[p..] matches glob[g..]. Memoised on (p, g): a rule of many "**" against a long
// path would otherwise try exponentially many splits (a token's owner chooses the rule).
bool glob_matches(const std::vector<std::string_view>& path, size_t p, const std::vector<std::string_view>& glob,
                  size_t g, std::vector<signed char>& memo) {
  signed char& known = memo[p * (glob.size() + 1) + g];
  if (known >= 0) return known;
  bool out;
  if (g == glob.size()) {
    out = p == path.size();
  } else if (glob[g] == "**") {
    // "**" takes one or more segments, as keystonemiddleware's rule does.
    out = false;
    for (size_t k = p + 1; k <= path.size() && !out; ++k) out = glob_matches(path, k, glob, g + 1, memo);
  } else {
    out = p < path.size() && (glob[g] == "*" || glob[g] == path[p]) && glob_matches(path, p + 1, glob, g + 1, memo);
  }
  known = out ? 1 : 0;
  return out;
}

}  // namespace

Expected<KeystoneEndpoint> parse_keystone_url(const std::string& url) {
  KeystoneEndpoint ep;
  ep.https = url.rfind("https://", 0) == 0;
  const std::string scheme = ep.https ? "https://" : "http://";
  if (url.rfind(scheme, 0) != 0) return Error{Errc::invalid, "Keystone URL must start with http:// or https://: " + url};
  if (ep.https) ep.port = 443;
  std::string rest = url.substr(scheme.size());
  const size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  ep.prefix = slash == std::string::npos ? "" : rest.substr(slash);
  while (!ep.prefix.empty() && ep.prefix.back() == '/') ep.prefix.pop_back();
  if (ep.prefix.size() >= 3 && ep.prefix.compare(ep.prefix.size() - 3, 3, "/v3") == 0) ep.prefix.resize(ep.prefix.size() - 3);
  const size_t colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']', colon) == std::string::npos) {
    const std::string port = authority.substr(colon + 1);
    authority.resize(colon);
    if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit) || std::stoi(port) > 65535 ||
        std::stoi(port) == 0)
      return Error{Errc::invalid, "bad port in Keystone URL: " + url};
    ep.port = static_cast<uint16_t>(std::stoi(port));
  }
  if (authority.size() > 2 && authority.front() == '[' && authority.back() == ']') authority = authority.substr(1, authority.size() - 2);
  if (authority.empty()) return Error{Errc::invalid, "no host in Keystone URL: " + url};
  ep.host = authority;
  return ep;
}

TokenCheck token_from_body(const std::string& body, std::chrono::system_clock::time_point now) {
  const json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("token") || !doc["token"].is_object())
    return TokenCheck::invalid(kNotATokenDocument);
  const json& t = doc["token"];
  TokenCheck out;
  TokenInfo& info = out.info;
  if (!parse_iso8601(str_at(t, "expires_at"), info.expires_at)) return TokenCheck::invalid("token without a valid expires_at");
  if (info.expires_at <= now) return TokenCheck::invalid("token expired");
  if (auto u = t.find("user"); u != t.end() && u->is_object()) {
    info.user_id = str_at(*u, "id");
    info.user_name = str_at(*u, "name");
    if (auto d = u->find("domain"); d != u->end() && d->is_object()) info.user_domain_id = str_at(*d, "id");
  }
  if (info.user_id.empty()) return TokenCheck::invalid("token without a user");
  if (auto p = t.find("project"); p != t.end() && p->is_object()) {
    const std::string id = str_at(*p, "id");
    if (id.empty()) return TokenCheck::invalid("project-scoped token without a project id");
    info.project_id = id;
    info.project_name = str_at(*p, "name");
    if (auto d = p->find("domain"); d != p->end() && d->is_object()) info.project_domain_id = str_at(*d, "id");
  }
  if (auto r = t.find("roles"); r != t.end() && r->is_array())
    for (const auto& role : *r)
      if (role.is_object() && !str_at(role, "name").empty()) info.roles.insert(lower(str_at(role, "name")));
  if (auto ac = t.find("application_credential"); ac != t.end() && ac->is_object()) {
    if (auto rules = ac->find("access_rules"); rules != ac->end() && rules->is_array()) {
      info.access_rules.emplace();
      for (const auto& r : *rules)
        if (r.is_object()) info.access_rules->push_back({str_at(r, "service"), str_at(r, "method"), str_at(r, "path")});
    }
  }
  out.outcome = TokenCheck::Outcome::valid;
  return out;
}

bool access_allows(const TokenInfo& info, const std::string& method, const std::string& path) {
  if (!info.access_rules) return true;
  const auto have = segments(path);
  for (const auto& rule : *info.access_rules) {
    if (rule.service != "image" || rule.method != method) continue;
    const auto glob = segments(rule.path);
    if (glob.size() > 64 || have.size() > 64) continue;  // bounded work for a hostile rule or path
    std::vector<signed char> memo((have.size() + 1) * (glob.size() + 1), -1);
    if (glob_matches(have, 0, glob, 0, memo)) return true;
  }
  return false;
}

bool plausible_token(const std::string& token) {
  if (token.empty() || token.size() > 8192) return false;
  for (unsigned char c : token)
    if (c <= 0x20 || c >= 0x7f) return false;
  return true;
}

}  // namespace glint::api
