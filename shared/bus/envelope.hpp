// Versioned messages between glint processes over ZeroMQ (the doorbell: PostgreSQL stays the
// truth). One JSON frame per message; published events travel as [topic, envelope]. Pure
// functions; thread-safe.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "shared/core/result.hpp"

namespace glint::bus {

inline constexpr int kVersion = 1;
inline constexpr size_t kMaxMessageBytes = 64 * 1024;  // anything larger is dropped unread

// Who sent a message.
struct Sender {
  std::string node;     // node name (the nodes table for stores)
  std::string role;     // store, api, coordinator, replicator, auditor, …, ctl
  int64_t pid = 0;
  std::string version;  // glint version of the sender
};

struct Envelope {
  int version = kVersion;
  std::string type;   // register, heartbeat, event, command, reply
  std::string topic;  // events: image.uploaded, image.deleted, replica.bad, node.up, node.down, job.*
  Sender from = {};
  int64_t ts_ms = 0;  // sender's wall clock, ms since the epoch
  nlohmann::json body = nlohmann::json::object();
};

// A new envelope of `type` from `from`, stamped with the wall time `now`.
Envelope make_envelope(const char* type, Sender from, std::chrono::system_clock::time_point now,
                       nlohmann::json body = nlohmann::json::object());

std::string encode(const Envelope& e);
// invalid (with the reason) for anything that is not a well-formed envelope of a known version.
Expected<Envelope> decode(std::string_view frame);

// Message types and topics the processes use.
namespace type {
inline constexpr const char* kRegister = "register";
inline constexpr const char* kHeartbeat = "heartbeat";
inline constexpr const char* kEvent = "event";
inline constexpr const char* kCommand = "command";
inline constexpr const char* kReply = "reply";
}  // namespace type

}  // namespace glint::bus
