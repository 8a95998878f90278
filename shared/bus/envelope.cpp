#include "shared/bus/envelope.hpp"

namespace glint::bus {

namespace {

bool known_type(const std::string& t) {
  return t == type::kRegister || t == type::kHeartbeat || t == type::kEvent || t == type::kCommand || t == type::kReply;
}

// A string member of j, or invalid naming it.
Expected<std::string> string_at(const nlohmann::json& j, const char* key, bool required) {
  auto it = j.find(key);
  if (it == j.end()) {
    if (required) return Error{Errc::invalid, std::string("missing '") + key + "'"};
    return std::string();
  }
  if (!it->is_string()) return Error{Errc::invalid, std::string("'") + key + "' is not a string"};
  return it->get<std::string>();
}

}  // namespace

Envelope make_envelope(const char* type, Sender from, std::chrono::system_clock::time_point now,
                       nlohmann::json body) {
  Envelope e;
  e.type = type;
  e.from = std::move(from);
  e.ts_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  e.body = std::move(body);
  return e;
}

std::string encode(const Envelope& e) {
  nlohmann::json j = {{"v", e.version},
                      {"type", e.type},
                      {"from", {{"node", e.from.node}, {"role", e.from.role}, {"pid", e.from.pid}, {"version", e.from.version}}},
                      {"ts", e.ts_ms},
                      {"body", e.body}};
  if (!e.topic.empty()) j["topic"] = e.topic;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Expected<Envelope> decode(std::string_view frame) {
  if (frame.size() > kMaxMessageBytes) return Error{Errc::invalid, "message too large"};
  auto j = nlohmann::json::parse(frame, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error{Errc::invalid, "not a JSON object"};
  Envelope e;
  auto v = j.find("v");
  if (v == j.end() || !v->is_number_integer()) return Error{Errc::invalid, "missing version"};
  e.version = v->get<int>();
  if (e.version != kVersion) return Error{Errc::invalid, "unknown version " + std::to_string(e.version)};
  auto t = string_at(j, "type", true);
  if (!t) return t.error();
  if (!known_type(*t)) return Error{Errc::invalid, "unknown type '" + t->substr(0, 32) + "'"};
  e.type = *t;
  auto topic = string_at(j, "topic", e.type == type::kEvent);
  if (!topic) return topic.error();
  e.topic = *topic;
  auto from = j.find("from");
  if (from == j.end() || !from->is_object()) return Error{Errc::invalid, "missing 'from'"};
  auto node = string_at(*from, "node", true);
  auto role = string_at(*from, "role", true);
  auto ver = string_at(*from, "version", false);
  if (!node) return node.error();
  if (!role) return role.error();
  if (!ver) return ver.error();
  e.from.node = *node;
  e.from.role = *role;
  e.from.version = *ver;
  auto pid = from->find("pid");
  if (pid != from->end()) {
    if (!pid->is_number_integer()) return Error{Errc::invalid, "'pid' is not an integer"};
    e.from.pid = pid->get<int64_t>();
  }
  auto ts = j.find("ts");
  if (ts != j.end()) {
    if (!ts->is_number_integer()) return Error{Errc::invalid, "'ts' is not an integer"};
    e.ts_ms = ts->get<int64_t>();
  }
  auto body = j.find("body");
  if (body != j.end()) {
    if (!body->is_object()) return Error{Errc::invalid, "'body' is not an object"};
    e.body = *body;
  }
  return e;
}

}  // namespace glint::bus
