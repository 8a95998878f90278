#include "shared/bus/curve.hpp"

#include <sys/stat.h>
#include <zmq.h>

#include <fstream>
#include <functional>
#include <sstream>

namespace glint::bus {

namespace {

std::optional<KeyRole> role_named(const std::string& s) {
  if (s == "store") return KeyRole::store;
  if (s == "worker") return KeyRole::worker;
  if (s == "api") return KeyRole::api;
  if (s == "operator") return KeyRole::operator_;
  return std::nullopt;
}

bool z85_key(const std::string& k) {
  if (k.size() != 40) return false;
  uint8_t raw[32];
  return zmq_z85_decode(raw, k.c_str()) != nullptr;
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// Calls `each` with every line that is not blank or a # comment (trimmed) and its number; the
// first error it returns ends the walk, as "where:line: why".
Status for_each_line(const std::string& text, const std::string& where,
                     const std::function<std::optional<std::string>(const std::string&)>& each) {
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    if (auto why = each(line)) return Status(Errc::invalid, where + ":" + std::to_string(n) + ": " + *why);
  }
  return {};
}

Expected<std::string> read_all(const std::string& path) {
  std::ifstream f(path);
  if (!f) return Error{Errc::invalid, path + ": cannot read"};
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace

const char* to_string(KeyRole r) {
  switch (r) {
    case KeyRole::store: return "store";
    case KeyRole::worker: return "worker";
    case KeyRole::api: return "api";
    case KeyRole::operator_: return "operator";
  }
  return "?";
}

bool valid_public_key(const std::string& key) { return z85_key(key); }

CurveKeys generate_keys() {
  char pub[41] = {}, sec[41] = {};
  zmq_curve_keypair(pub, sec);
  return {pub, sec};
}

std::string key_file_text(const CurveKeys& k) {
  return "# glint bus key pair (ZeroMQ CURVE, Z85); keep it private (0600)\npublic = " + k.public_key +
         "\nsecret = " + k.secret_key + "\n";
}

Expected<CurveKeys> load_key_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Error{Errc::invalid, path + ": cannot read the key file"};
  if (st.st_mode & (S_IRWXG | S_IRWXO))
    return Error{Errc::invalid, path + ": a secret key must not be readable by group or others (chmod 600)"};
  auto text = read_all(path);
  if (!text) return text.error();
  CurveKeys k;
  Status read = for_each_line(*text, path, [&](const std::string& line) -> std::optional<std::string> {
    const size_t eq = line.find('=');
    const std::string key = eq == std::string::npos ? line : trim(line.substr(0, eq));
    const std::string value = eq == std::string::npos ? "" : trim(line.substr(eq + 1));
    if ((key != "public" && key != "secret") || !z85_key(value))
      return "expected \"public = KEY\" or \"secret = KEY\" (40 Z85 characters)";
    (key == "public" ? k.public_key : k.secret_key) = value;
    return std::nullopt;
  });
  if (!read) return read.error();
  if (k.public_key.empty() || k.secret_key.empty()) return Error{Errc::invalid, path + ": needs both a public and a secret key"};
  return k;
}

Expected<std::map<std::string, AuthorizedKey>> parse_authorized_keys(const std::string& text, const std::string& where) {
  std::map<std::string, AuthorizedKey> out;
  Status read = for_each_line(text, where, [&](const std::string& line) -> std::optional<std::string> {
    std::istringstream words(line);
    std::string role, name, key, extra;
    words >> role >> name >> key >> extra;
    if (key.empty() || !extra.empty()) return "expected ROLE NAME PUBLIC_KEY";
    auto r = role_named(role);
    if (!r) return "unknown role '" + role + "' (store, worker, api or operator)";
    if (!z85_key(key)) return "not a CURVE public key (40 Z85 characters): " + key;
    if (out.count(key)) return "this key is listed twice";
    out[key] = AuthorizedKey{*r, name};
    return std::nullopt;
  });
  if (!read) return read.error();
  return out;
}

Expected<std::map<std::string, AuthorizedKey>> load_authorized_keys(const std::string& path) {
  auto text = read_all(path);
  if (!text) return text.error();
  return parse_authorized_keys(*text, path);
}

std::optional<std::string> refuse_sender(const AuthorizedKey& key, const Envelope& e) {
  if (e.type == type::kCommand)
    return key.role == KeyRole::operator_ ? std::nullopt : std::optional<std::string>("only operator keys send commands");
  if (key.role == KeyRole::operator_)  // glintctl only asks; it registers nothing and sends no events
    return e.from.role == "ctl" ? std::nullopt : std::optional<std::string>("an operator key speaks only as ctl");
  if (e.from.role == "coordinator") return "nobody speaks as the coordinator";
  if (e.from.role == "store") {
    if (key.role != KeyRole::store) return std::string("a ") + to_string(key.role) + " key cannot speak as a store";
    if (e.from.node != key.name) return "the store key of " + key.name + " cannot speak for " + e.from.node;
    return std::nullopt;
  }
  if (key.role == KeyRole::store) return "a store key speaks only as its store";
  if (key.role == KeyRole::api && e.from.role != "api") return "an api key speaks only as api";
  if (e.from.node != key.name) return "the " + std::string(to_string(key.role)) + " key of " + key.name + " cannot speak for " + e.from.node;
  return std::nullopt;
}

std::string user_id_of(const AuthorizedKey& key) { return std::string(to_string(key.role)) + " " + key.name; }

std::optional<AuthorizedKey> key_of_user_id(const std::string& user_id) {
  const size_t sp = user_id.find(' ');
  if (sp == std::string::npos) return std::nullopt;
  auto r = role_named(user_id.substr(0, sp));
  if (!r) return std::nullopt;
  return AuthorizedKey{*r, user_id.substr(sp + 1)};
}

}  // namespace glint::bus
