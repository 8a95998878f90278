// The bus's authentication: ZeroMQ CURVE key pairs, the coordinator's list of authorized keys
// (each bound to a role and a name), and the rule for what a key may say. Without it, anything
// that reaches the coordinator's ports could drain nodes, queue jobs or keep a dead node "up"
// with forged heartbeats. Pure functions and values (socket setup in curve_socket.hpp); thread-safe.
#pragma once
#include <map>
#include <optional>
#include <string>

#include "shared/bus/envelope.hpp"
#include "shared/core/result.hpp"

namespace glint::bus {

// Z85 text, 40 characters each.
struct CurveKeys {
  std::string public_key, secret_key;
};

// What a key may be: a storage node (speaks only as the store of its name), the workers of a node
// (replicator, auditor, … of that node), an API node, or an operator (glintctl's commands).
enum class KeyRole { store, worker, api, operator_ };
const char* to_string(KeyRole r);

struct AuthorizedKey {
  KeyRole role = KeyRole::worker;
  std::string name;  // the node it speaks for (store, worker, api) or the operator's name
};

// Whether `key` is 40 Z85 characters that decode (a CURVE public or secret key).
bool valid_public_key(const std::string& key);

// A fresh key pair (libzmq's curve keypair).
CurveKeys generate_keys();
// A key-pair file: "public = Z85" and "secret = Z85" lines. Errc::invalid naming the file and line
// for anything else, and for a file that group or others can read (a secret key must stay private).
Expected<CurveKeys> load_key_file(const std::string& path);
std::string key_file_text(const CurveKeys& keys);
// The coordinator's list: one "ROLE NAME PUBLIC_KEY" per line (# comments). Errc::invalid with
// "file:line: why" for an unknown role, a key that is not Z85, a duplicate key.
Expected<std::map<std::string, AuthorizedKey>> load_authorized_keys(const std::string& path);
Expected<std::map<std::string, AuthorizedKey>> parse_authorized_keys(const std::string& text, const std::string& where);

// Whether a message may come from `key`: commands only from operator keys; a store's register,
// heartbeat or event only from the store key of that very node; other processes only with a
// worker or api key of their own node, never as a store or the coordinator. nullopt: allowed;
// otherwise why not (for the log and the refusal counter).
std::optional<std::string> refuse_sender(const AuthorizedKey& key, const Envelope& e);

// "ROLE NAME" as the coordinator's ZAP handler hands it to the sockets (ZMQ's User-Id), and back.
std::string user_id_of(const AuthorizedKey& key);
std::optional<AuthorizedKey> key_of_user_id(const std::string& user_id);

}  // namespace glint::bus
