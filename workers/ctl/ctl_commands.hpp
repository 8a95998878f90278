// glintctl's commands over the database (the truth) and the bus (the doorbell for `run`).
#pragma once
#include <string>

#include "shared/config/config.hpp"

namespace glint::ctl {

struct Args {
  std::string command;  // "status", "nodes", "image", "job list", "job show", "job cancel", "run", "repair", "audit", "drain", "undrain", "rebalance", "restore", "purge"
  bool json = false;
  std::string id, state, worker, node, image;
  bool no_wait = false;
  bool deep = false;
  int age_in_days = 30;  // purge
};

// Runs one command, printing to stdout (results) and stderr (errors); returns the exit code.
// glintctl keys --out FILE: a fresh CURVE key pair in FILE (created 0600, never overwritten); the
// public key goes to stdout for the coordinator's curve_authorized_keys.
int make_key_file(const std::string& path);

int run_command(const config::Config& cfg, const Args& args);

}  // namespace glint::ctl
