#include "workers/ctl/ctl_commands.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <thread>

#include "shared/bus/bus_client.hpp"
#include "shared/bus/request.hpp"
#include "shared/core/job_target.hpp"
#include "shared/db/pool.hpp"
#include "shared/db/pool_options.hpp"
#include "workers/ctl/ctl_render.hpp"

namespace glint::ctl {

int unreachable(const Error& e) {
  std::cerr << "glintctl: the database is unreachable: " << e.message << "\n";
  return kUnreachable;
}

void print(const Args& a, const nlohmann::json& j, const std::string& text) {
  std::cout << (a.json ? j.dump(2) + "\n" : text);
}

namespace {

int show_job(const Args& a, const db::JobRow& j) {
  print(a, job_json(j), render_job(j));
  return j.state == "failed" || j.state == "cancelled" ? kFailed : 0;
}

constexpr auto kCoordinatorTimeout = std::chrono::seconds(5);

// The CURVE identity for commands; a key that does not load ends glintctl with exit 2 and the
// reason (sending unauthenticated would only look like an unreachable coordinator).
std::optional<bus::CurveClient> bus_curve(const config::Config& cfg) {
  auto curve = bus::curve_client(cfg);
  if (!curve) {
    std::cerr << "glintctl: " << curve.error().message << "\n";
    std::exit(2);
  }
  return *curve;
}

bus::Envelope command(const config::Config& cfg, nlohmann::json body) {
  return bus::make_envelope(bus::type::kCommand, bus::client_options(cfg, "ctl", "").self,
                            std::chrono::system_clock::now(), std::move(body));
}

// Asks the coordinator for a job (it records the row and wakes the claimers); without a configured
// bus the row is written here and the worker finds it at its next scheduled pass.
Expected<db::JobRow> queue_job(const config::Config& cfg, db::JobRepository& jobs, const std::string& kind,
                               const std::optional<std::string>& target, bool& coordinator_down) {
  char user[64] = "operator";
  getlogin_r(user, sizeof user);
  const std::string who = std::string("glintctl:") + user;
  const std::string endpoint = cfg.get_string("bus", "router_endpoint");
  if (endpoint.empty()) return jobs.create(kind, target, who);
  auto reply = bus::request(endpoint,
                            command(cfg, {{"command", "job"}, {"kind", kind}, {"target", target.value_or("")},
                                          {"requested_by", who}}),
                            kCoordinatorTimeout, bus_curve(cfg));
  if (!reply) {
    coordinator_down = true;
    return reply.error();
  }
  if (!reply->body.value("ok", false)) return Error{Errc::invalid, reply->body.value("error", std::string("refused"))};
  auto row = jobs.get(reply->body["job"].value("id", std::string()));
  if (!row) return row.error();
  if (!*row) return Error{Errc::not_found, "the coordinator's job is not in the database"};
  return **row;
}

// Queues the job through the coordinator, and follows the job row until it ends (or returns at once).
int start_job(const config::Config& cfg, const Args& a, db::JobRepository& jobs, const std::string& kind,
              const std::optional<std::string>& target) {
  bool coordinator_down = false;
  auto job = queue_job(cfg, jobs, kind, target, coordinator_down);
  if (!job && coordinator_down) {
    std::cerr << "glintctl: the coordinator is unreachable: " << job.error().message << " (nothing queued)\n";
    return kUnreachable;
  }
  if (!job && job.code() == Errc::invalid) {
    std::cerr << "glintctl: " << job.error().message << "\n";
    return kFailed;
  }
  if (!job) return unreachable(job.error());
  if (a.no_wait) {
    print(a, job_json(*job), job->id + "\n");
    return 0;
  }
  std::cerr << "job " << job->id << " queued; following (Ctrl-C stops following, not the job)\n";
  for (;;) {
    auto cur = jobs.get(job->id);
    if (!cur) return unreachable(cur.error());
    if (!*cur) return kNotFound;
    const auto& j = **cur;
    if (j.state == "done" || j.state == "failed" || j.state == "cancelled") {
      if (!a.json) std::cerr << "\n";
      return show_job(a, j);
    }
    if (!a.json) {
      const int filled = static_cast<int>(j.progress * 30);
      std::fprintf(stderr, "\r[%s%s] %3.0f%% %s", std::string(filled, '#').c_str(),
                   std::string(30 - filled, ' ').c_str(), j.progress * 100, j.state.c_str());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // polling interval of a human-facing tool
  }
}

int run_worker(const config::Config& cfg, const Args& a, db::JobRepository& jobs) {
  std::optional<std::string> target;
  if (!a.node.empty()) target = JobTarget::node(a.node).text();
  if (!a.image.empty()) target = JobTarget::image(a.image).text();
  return start_job(cfg, a, jobs, a.worker, target);
}

// Drain or undrain: the node's state through the coordinator (it announces the change), or in the
// database when the bus is off; then the job that moves the data.
int set_node_state(const config::Config& cfg, const Args& a, db::Pool& pool, NodeState state) {
  const std::string endpoint = cfg.get_string("bus", "router_endpoint");
  if (endpoint.empty()) {
    auto nodes = db::make_node_repository(pool);
    auto row = nodes->get(a.id);
    if (!row) return unreachable(row.error());
    if (!*row) {
      std::cerr << "glintctl: no node " << a.id << "\n";
      return kNotFound;
    }
    if (Status s = nodes->set_state(a.id, (*row)->state, state); !s) {
      if (s.code() != Errc::conflict) return unreachable(s.error());
      std::cerr << "glintctl: node " << a.id << " changed state meanwhile; try again\n";
      return kFailed;
    }
    return 0;
  }
  auto reply = bus::request(endpoint, command(cfg, {{"command", "node_state"}, {"node", a.id}, {"state", to_string(state)}}),
                            kCoordinatorTimeout, bus_curve(cfg));
  if (!reply) {
    std::cerr << "glintctl: the coordinator is unreachable: " << reply.error().message << " (nothing changed)\n";
    return kUnreachable;
  }
  if (!reply->body.value("ok", false)) {
    const std::string why = reply->body.value("error", std::string("refused"));
    std::cerr << "glintctl: " << why << "\n";
    return why.rfind("no node", 0) == 0 ? kNotFound : kFailed;
  }
  return 0;
}

// The coordinator's members; an unreachable coordinator is reported, not fatal (the database is
// the truth and every process keeps working without it).
CoordinatorView ask_coordinator(const config::Config& cfg) {
  CoordinatorView c;
  c.endpoint = cfg.get_string("bus", "router_endpoint");
  if (c.endpoint.empty()) return c;
  auto reply = bus::request(c.endpoint, command(cfg, {{"command", "members"}}), std::chrono::seconds(2), bus_curve(cfg));
  if (!reply) {
    c.error = reply.error().message;
    return c;
  }
  c.reachable = true;
  if (auto it = reply->body.find("members"); it != reply->body.end() && it->is_array()) c.members = *it;
  return c;
}

// pending_delete -> active, refused (exit 1) once the reaper has claimed the image.
int restore(const Args& a, db::Pool& pool) {
  auto r = db::make_reaper_repository(pool)->restore(a.id);
  if (!r) return unreachable(r.error());
  const bool ok = *r == db::RestoreOutcome::restored;
  const char* text = ok ? "restored"
                     : *r == db::RestoreOutcome::being_reaped
                         ? "being reaped: the reaper has claimed it and is deleting its copies; it cannot be restored"
                     : *r == db::RestoreOutcome::not_found ? "no such image"
                                                           : "not pending_delete: nothing to restore";
  print(a, {{"image", a.id}, {"restored", ok}, {"outcome", text}}, "image " + a.id + ": " + text + "\n");
  if (ok) return 0;
  return *r == db::RestoreOutcome::not_found ? kNotFound : kFailed;
}

// glance-manage db purge: in batches, so no transaction holds many rows.
int purge(const Args& a, db::Pool& pool) {
  auto repo = db::make_reaper_repository(pool);
  const auto before = std::chrono::system_clock::now() - std::chrono::hours(24) * a.age_in_days;
  constexpr size_t kBatch = 1000;
  size_t total = 0;
  for (;;) {
    auto n = repo->purge(before, kBatch);
    if (!n) return unreachable(n.error());
    total += *n;
    if (*n < kBatch) break;
  }
  print(a, {{"purged", total}, {"age_in_days", a.age_in_days}},
        "purged " + std::to_string(total) + " image rows deleted more than " + std::to_string(a.age_in_days) + " days ago\n");
  return 0;
}

}  // namespace

int run_command(const config::Config& cfg, const Args& a) {
  db::PoolOptions po = db::pool_options(cfg);
  po.size = 1;
  po.retry_budget = std::min(po.retry_budget, std::chrono::milliseconds(3000));
  db::Pool pool(po);
  auto nodes = db::make_node_repository(pool);
  auto jobs = db::make_job_repository(pool);
  if (a.command == "status" || a.command == "nodes") {
    auto ns = nodes->list();
    if (!ns) return unreachable(ns.error());
    if (a.command == "nodes") {
      print(a, nodes_json(*ns), render_nodes(*ns));
      return 0;
    }
    StatusView v;
    v.nodes = *ns;
    v.replicas = static_cast<int>(cfg.get_int("cluster", "replicas"));
    auto counts = db::cluster_counts(pool, v.replicas);
    if (!counts) return unreachable(counts.error());
    v.counts = *counts;
    auto passes = db::make_worker_pass_repository(pool)->list();
    if (!passes) return unreachable(passes.error());
    v.passes = *passes;
    auto flagged = db::make_healing_repository(pool)->flagged(50);
    if (!flagged) return unreachable(flagged.error());
    v.flagged = *flagged;
    v.coordinator = ask_coordinator(cfg);
    for (const char* st : {"running", "queued"}) {
      auto js = jobs->list(st, 50);
      if (!js) return unreachable(js.error());
      v.active_jobs.insert(v.active_jobs.end(), js->begin(), js->end());
    }
    print(a, status_json(v), render_status(v));
    return 0;
  }
  if (a.command == "image") {
    auto images = db::make_image_repository(pool);
    auto img = images->get(a.id);
    if (!img) return unreachable(img.error());
    if (!*img) {
      std::cerr << "glintctl: no image " << a.id << "\n";
      return kNotFound;
    }
    ImageView v;
    v.image = **img;
    auto reps = db::make_replica_repository(pool)->for_image(a.id);
    auto ns = nodes->list();
    if (!reps) return unreachable(reps.error());
    if (!ns) return unreachable(ns.error());
    v.replicas = *reps;
    v.nodes = *ns;
    print(a, image_json(v), render_image(v));
    return 0;
  }
  if (a.command.rfind("cache ", 0) == 0) return cache_command(cfg, a, pool);
  if (a.command == "restore") return restore(a, pool);
  if (a.command == "purge") return purge(a, pool);
  if (a.command == "job list") {
    auto js = jobs->list(a.state, 100);
    if (!js) return unreachable(js.error());
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& j : *js) arr.push_back(job_json(j));
    print(a, arr, render_jobs(*js));
    return 0;
  }
  if (a.command == "job show" || a.command == "job cancel") {
    if (a.command == "job cancel") {
      Status s = jobs->cancel(a.id);
      if (s.code() == Errc::not_found) {
        std::cerr << "glintctl: no job " << a.id << "\n";
        return kNotFound;
      }
      if (s.code() == Errc::conflict) {
        std::cerr << "glintctl: " << s.message() << "\n";
        return kFailed;
      }
      if (!s) return unreachable(s.error());
    }
    auto j = jobs->get(a.id);
    if (!j) return unreachable(j.error());
    if (!*j) {
      std::cerr << "glintctl: no job " << a.id << "\n";
      return kNotFound;
    }
    print(a, job_json(**j), render_job(**j));
    return 0;
  }
  if (a.command == "run") return run_worker(cfg, a, *jobs);
  if (a.command == "repair") return start_job(cfg, a, *jobs, "replicator", JobTarget::image(a.id).text());
  if (a.command == "audit") {
    return start_job(cfg, a, *jobs, a.deep ? "auditor-deep" : "auditor", JobTarget::node(a.node, false, a.deep).text());
  }
  if (a.command == "rebalance") return start_job(cfg, a, *jobs, "replicator", JobTarget::rebalance().text());
  if (a.command == "drain" || a.command == "undrain") {
    const bool drain = a.command == "drain";
    if (int rc = set_node_state(cfg, a, pool, drain ? NodeState::draining : NodeState::up); rc != 0) return rc;
    return start_job(cfg, a, *jobs, "replicator",
                     (drain ? JobTarget::node(a.id, true) : JobTarget::rebalance()).text());
  }
  std::cerr << "glintctl: unknown command '" << a.command << "'\n";
  return 2;
}

std::string ring_cache_queue(const config::Config& cfg) {
  const std::string endpoint = cfg.get_string("bus", "router_endpoint");
  if (endpoint.empty()) return "the bus is not configured";
  auto reply = bus::request(endpoint, command(cfg, {{"command", "cache_queue"}}), kCoordinatorTimeout, bus_curve(cfg));
  if (!reply) return "the coordinator is unreachable: " + reply.error().message;
  if (!reply->body.value("ok", false)) return reply->body.value("error", std::string("the coordinator refused"));
  return {};
}

int make_key_file(const std::string& path) {
  const bus::CurveKeys keys = bus::generate_keys();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    std::cerr << "glintctl: cannot create " << path << ": " << std::strerror(errno) << " (an existing file is never overwritten)\n";
    return 2;
  }
  const std::string text = bus::key_file_text(keys);
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    std::cerr << "glintctl: writing " << path << " failed\n";
    ::unlink(path.c_str());
    return 2;
  }
  std::cout << "public = " << keys.public_key << "\n";
  return 0;
}

}  // namespace glint::ctl
