#include "workers/ctl/ctl_render.hpp"

#include <algorithm>
#include <cstdio>
#include <map>

#include "shared/core/time_text.hpp"

namespace glint::ctl {

std::string table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size(), 0);
  for (size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size() && i < width.size(); ++i) width[i] = std::max(width[i], r[i].size());
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string l;
    for (size_t i = 0; i < width.size(); ++i) {
      const std::string cell = i < cells.size() ? cells[i] : "";
      l += cell;
      if (i + 1 < width.size()) l += std::string(width[i] - cell.size() + 2, ' ');
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out += l + "\n";
  };
  line(header);
  for (const auto& r : rows) line(r);
  return out;
}

std::string human_bytes(uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(n);
  size_t u = 0;
  while (v >= 1024 && u + 1 < std::size(units)) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

namespace {

std::string opt_time(const std::optional<db::Timestamp>& t) { return t ? iso8601_utc(*t) : "-"; }

std::string percent(double p) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.0f%%", p * 100);
  return buf;
}

nlohmann::json node_json(const db::NodeRow& n) {
  return {{"name", n.name}, {"address", n.address}, {"zone", n.zone}, {"state", to_string(n.state)},
          {"weight", n.weight}, {"capacity", n.capacity}, {"free", n.free},
          {"last_heartbeat", n.last_heartbeat ? nlohmann::json(iso8601_utc(*n.last_heartbeat)) : nlohmann::json()}};
}

std::string seconds_text(db::Timestamp::duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fs", std::chrono::duration<double>(d).count());
  return buf;
}

// One line: where, whether it answered, and how many processes of each role it hears from.
std::string render_coordinator(const CoordinatorView& c) {
  if (c.endpoint.empty()) return "not configured ([bus] router_endpoint is empty)\n";
  if (!c.reachable) return c.endpoint + " unreachable: " + c.error + "\n";
  std::map<std::string, int> roles;
  for (const auto& m : c.members) roles[m.value("role", std::string("?"))]++;
  std::string out = c.endpoint + " reachable; processes:";
  if (roles.empty()) out += " none";
  bool first = true;
  for (const auto& [role, n] : roles) {
    out += std::string(first ? " " : ", ") + role + " " + std::to_string(n);
    first = false;
  }
  return out + "\n";
}

}  // namespace

std::string render_nodes(const std::vector<db::NodeRow>& nodes) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& n : nodes)
    rows.push_back({n.name, to_string(n.state), n.zone, n.address, human_bytes(n.free), human_bytes(n.capacity), opt_time(n.last_heartbeat)});
  return table({"NODE", "STATE", "ZONE", "ADDRESS", "FREE", "CAPACITY", "LAST HEARTBEAT"}, rows);
}

nlohmann::json nodes_json(const std::vector<db::NodeRow>& nodes) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& n : nodes) a.push_back(node_json(n));
  return a;
}

std::string render_jobs(const std::vector<db::JobRow>& jobs) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& j : jobs)
    rows.push_back({j.id, j.kind, j.target.value_or("-"), j.state, percent(j.progress), iso8601_utc(j.created_at)});
  return table({"JOB", "KIND", "TARGET", "STATE", "PROGRESS", "CREATED"}, rows);
}

nlohmann::json job_json(const db::JobRow& j) {
  nlohmann::json result;
  if (j.result) result = nlohmann::json::parse(*j.result, nullptr, false);
  return {{"id", j.id}, {"kind", j.kind}, {"target", j.target ? nlohmann::json(*j.target) : nlohmann::json()},
          {"state", j.state}, {"progress", j.progress}, {"result", result.is_discarded() ? nlohmann::json() : result},
          {"requested_by", j.requested_by ? nlohmann::json(*j.requested_by) : nlohmann::json()},
          {"lease_owner", j.lease_owner ? nlohmann::json(*j.lease_owner) : nlohmann::json()},
          {"created_at", iso8601_utc(j.created_at)},
          {"started_at", j.started_at ? nlohmann::json(iso8601_utc(*j.started_at)) : nlohmann::json()},
          {"finished_at", j.finished_at ? nlohmann::json(iso8601_utc(*j.finished_at)) : nlohmann::json()}};
}

std::string render_job(const db::JobRow& j) {
  std::vector<std::vector<std::string>> rows = {
      {"id", j.id}, {"kind", j.kind}, {"target", j.target.value_or("-")}, {"state", j.state},
      {"progress", percent(j.progress)}, {"requested_by", j.requested_by.value_or("-")},
      {"lease_owner", j.lease_owner.value_or("-")}, {"created", iso8601_utc(j.created_at)},
      {"started", opt_time(j.started_at)}, {"finished", opt_time(j.finished_at)}, {"result", j.result.value_or("-")}};
  return table({"FIELD", "VALUE"}, rows);
}

std::string render_status(const StatusView& v) {
  std::string out = "Nodes\n" + render_nodes(v.nodes) + "\nImages\n";
  std::vector<std::vector<std::string>> images;
  for (const auto& [status, n] : v.counts.images_by_status) images.push_back({status, std::to_string(n)});
  out += table({"STATUS", "COUNT"}, images);
  out += "\nReplica health (R=" + std::to_string(v.replicas) + ")\n";
  out += table({"UNDER-REPLICATED", "CORRUPT", "MISSING", "EXCESS", "FLAGGED"},
               {{std::to_string(v.counts.under_replicated), std::to_string(v.counts.corrupt),
                 std::to_string(v.counts.missing), std::to_string(v.counts.excess), std::to_string(v.counts.flagged)}});
  if (!v.flagged.empty()) {
    // Nothing is quarantined for these: an operator decides whether the catalog or the bytes are right.
    out += "\nFlagged images (catalog disagrees with the copies; no copy was changed)\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& f : v.flagged) rows.push_back({f.image_id, iso8601_utc(f.flagged_at), f.reason});
    out += table({"IMAGE", "SINCE", "REASON"}, rows);
  }
  out += "\nWorkers (last pass)\n";
  std::vector<std::vector<std::string>> passes;
  for (const auto& p : v.passes) {
    passes.push_back({p.node, p.worker, iso8601_utc(p.finished_at), seconds_text(p.finished_at - p.started_at),
                      p.ok ? "ok" : "failed", std::to_string(p.items), std::to_string(p.failed),
                      human_bytes(p.bytes), p.backlog ? std::to_string(*p.backlog) : "-", p.note.empty() ? "-" : p.note});
  }
  // The updater's BACKLOG is the node's journal: writes that wait for the database.
  out += table({"NODE", "WORKER", "FINISHED", "TOOK", "OUTCOME", "ITEMS", "FAILED", "BYTES", "BACKLOG", "NOTE"}, passes);
  out += "\nJobs (queued and running)\n" + render_jobs(v.active_jobs);
  out += "\nCoordinator\n" + render_coordinator(v.coordinator);
  return out;
}

namespace {

nlohmann::json passes_json(const std::vector<db::WorkerPassRow>& passes) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& p : passes) {
    a.push_back({{"node", p.node}, {"worker", p.worker}, {"started_at", iso8601_utc(p.started_at)},
                 {"finished_at", iso8601_utc(p.finished_at)}, {"ok", p.ok}, {"items", p.items},
                 {"failed", p.failed}, {"bytes", p.bytes}, {"note", p.note},
                 {"backlog", p.backlog ? nlohmann::json(*p.backlog) : nlohmann::json()}});
  }
  return a;
}

nlohmann::json coordinator_json(const CoordinatorView& c) {
  if (c.endpoint.empty()) return nullptr;
  nlohmann::json j = {{"endpoint", c.endpoint}, {"reachable", c.reachable}, {"members", c.members}};
  if (!c.reachable) j["error"] = c.error;
  return j;
}

}  // namespace

nlohmann::json status_json(const StatusView& v) {
  nlohmann::json jobs = nlohmann::json::array();
  for (const auto& j : v.active_jobs) jobs.push_back(job_json(j));
  return {{"nodes", nodes_json(v.nodes)},
          {"images", v.counts.images_by_status},
          {"replicas", {{"r", v.replicas},
                        {"under_replicated", v.counts.under_replicated},
                        {"corrupt", v.counts.corrupt},
                        {"missing", v.counts.missing},
                        {"excess", v.counts.excess},
                        {"flagged", v.counts.flagged}}},
          {"flagged", [&] {
             nlohmann::json a = nlohmann::json::array();
             for (const auto& f : v.flagged)
               a.push_back({{"image", f.image_id}, {"since", iso8601_utc(f.flagged_at)}, {"reason", f.reason}});
             return a;
           }()},
          {"jobs", jobs},
          {"workers", passes_json(v.passes)},
          {"coordinator", coordinator_json(v.coordinator)}};
}

std::string render_image(const ImageView& v) {
  const auto& i = v.image;
  std::string out = table({"FIELD", "VALUE"}, {{"id", i.id},
                                               {"name", i.name.empty() ? "-" : i.name},
                                               {"status", to_string(i.status)},
                                               {"size", i.size ? human_bytes(static_cast<uint64_t>(*i.size)) : "-"},
                                               {"checksum", i.checksum.value_or("-")}});
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : v.replicas) {
    std::string node_state = "unknown";
    for (const auto& n : v.nodes)
      if (n.name == r.node) node_state = to_string(n.state);
    rows.push_back({r.node, node_state, to_string(r.state), r.size ? std::to_string(*r.size) : "-", opt_time(r.verified_at)});
  }
  return out + "\nReplicas\n" + table({"NODE", "NODE STATE", "REPLICA", "SIZE", "VERIFIED"}, rows);
}

nlohmann::json image_json(const ImageView& v) {
  nlohmann::json reps = nlohmann::json::array();
  for (const auto& r : v.replicas) {
    reps.push_back({{"node", r.node}, {"state", to_string(r.state)}, {"size", r.size ? nlohmann::json(*r.size) : nlohmann::json()},
                    {"digest", r.digest ? nlohmann::json(*r.digest) : nlohmann::json()},
                    {"verified_at", r.verified_at ? nlohmann::json(iso8601_utc(*r.verified_at)) : nlohmann::json()}});
  }
  return {{"id", v.image.id}, {"name", v.image.name}, {"status", to_string(v.image.status)},
          {"size", v.image.size ? nlohmann::json(*v.image.size) : nlohmann::json()}, {"replicas", reps}};
}

}  // namespace glint::ctl
