// glintctl's commands over the database (the truth) and the bus (the doorbell for `run`).
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "shared/config/config.hpp"
#include "shared/db/pool.hpp"

namespace glint::ctl {

struct Args {
  std::string command;  // "status", "nodes", "image", "job list", "job show", "job cancel", "run", "repair", "audit", "drain", "undrain", "rebalance", "restore", "purge", "cache list|queue|clear|nodes"
  bool json = false;
  std::string id, state, worker, node, image;
  bool no_wait = false;
  bool deep = false;
  int age_in_days = 30;  // purge
  std::string target = "both";  // cache clear: cache, queue or both
};

// Runs one command, printing to stdout (results) and stderr (errors); returns the exit code.
// glintctl keys --out FILE: a fresh CURVE key pair in FILE (created 0600, never overwritten); the
// public key goes to stdout for the coordinator's curve_authorized_keys.
int make_key_file(const std::string& path);

int run_command(const config::Config& cfg, const Args& args);

// Exit codes and output shared by the command files.
constexpr int kFailed = 1, kUnreachable = 3, kNotFound = 4;
// Reports the database unreachable on stderr; returns kUnreachable.
int unreachable(const Error& e);
// The result: JSON with --json, else the text.
void print(const Args& a, const nlohmann::json& j, const std::string& text);

// glintctl cache list|queue|clear|nodes (ctl_cache.cpp): every API node's cache from the database.
int cache_command(const config::Config& cfg, const Args& args, db::Pool& pool);
// Asks the coordinator to ring cache.queue (the prefetchers' doorbell); "" when rung, else why not.
std::string ring_cache_queue(const config::Config& cfg);

}  // namespace glint::ctl
