// glintctl's output: plain data in, a table for people or JSON for scripts out. Pure functions,
// golden-tested; thread-safe.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "shared/db/repositories.hpp"

namespace glint::ctl {

// What the coordinator said when asked for its members (glintctl status).
struct CoordinatorView {
  std::string endpoint;  // empty: the bus is not configured
  bool reachable = false;
  std::string error;                                    // when not reachable
  nlohmann::json members = nlohmann::json::array();    // {node, role, pid, version, last_seen_ms}
};

struct StatusView {
  std::vector<db::NodeRow> nodes;
  db::ClusterCounts counts;
  std::vector<db::JobRow> active_jobs;  // queued and running
  std::vector<db::WorkerPassRow> passes;  // the last pass of each worker on each node
  std::vector<db::ImageFlag> flagged;     // catalog disagrees with every (agreeing) copy
  CoordinatorView coordinator;
  int replicas = 3;
};

struct ImageView {
  db::ImageRow image;
  std::vector<db::ReplicaRow> replicas;
  std::vector<db::NodeRow> nodes;  // for node state next to each replica
};

// Fixed-width table with a header row; columns as wide as their widest cell.
std::string table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);
std::string human_bytes(uint64_t n);   // "1.5 GiB"

std::string render_status(const StatusView& v);
nlohmann::json status_json(const StatusView& v);
std::string render_nodes(const std::vector<db::NodeRow>& nodes);
nlohmann::json nodes_json(const std::vector<db::NodeRow>& nodes);
std::string render_image(const ImageView& v);
nlohmann::json image_json(const ImageView& v);
std::string render_jobs(const std::vector<db::JobRow>& jobs);
nlohmann::json job_json(const db::JobRow& j);
std::string render_job(const db::JobRow& j);

}  // namespace glint::ctl
