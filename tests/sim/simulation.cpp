#include "tests/sim/simulation.hpp"

#include <algorithm>
#include <iostream>

namespace glint::sim {

namespace {

constexpr size_t kR = 3;

}  // namespace

Simulation::Simulation(SimOptions opts) : opts_(opts), rng_(opts.seed) {
  for (int i = 0; i < 5; ++i) c_.add_node();
  // Writers commit late now and then (a slow transaction): the feed must never skip them.
  c_.catalog.commit_delay = [this] { return rng_() % 100 < 15 ? static_cast<int>(1 + rng_() % 5) : 0; };
  for (int i = 0; i < 10; ++i) (void)c_.upload(1 + rng_() % 20000);
  watch();
}

void Simulation::watch() {
  // B: judged at the moment a worker removes a row (the copy stops counting).
  c_.catalog.replicas.on_remove = [this](const db::ReplicaRow& seen) {
    if (faulting_ || seen.state != ReplicaState::ok || catalog_faulted_.count(seen.image_id)) return;
    auto img = c_.catalog.image(seen.image_id);
    if (!img || !keeps_data(img->status)) return;
    const auto v = c_.view();
    size_t live_ok = 0;
    for (const auto& r : img->replicas) live_ok += r.node != seen.node && r.state == ReplicaState::ok && v.live(r.node);
    ++result_.removals;
    if (live_ok < kR)
      fail("B: the copy of " + seen.image_id + " on " + seen.node + " was removed with " + std::to_string(live_ok) +
           " ok copies on live nodes left");
  };
  // C: a worker's mark that lands never calls an intact copy bad.
  c_.catalog.replicas.on_set_state = [this](const db::ReplicaRow& seen, ReplicaState to) {
    if (faulting_ || (to != ReplicaState::missing && to != ReplicaState::corrupt)) return;
    if (c_.intact(seen.node, seen.image_id))
      fail("C: the intact copy of " + seen.image_id + " on " + seen.node + " was marked " + to_string(to));
  };
  for (const auto& [node, store] : c_.stores) {
    const std::string n = node;
    store->on_quarantine = [this, n](const std::string& id, const std::string& data) {
      ++result_.quarantines;
      auto t = c_.truth().find(id);
      if (!faulting_ && t != c_.truth().end() && t->second == data)
        fail("C: the intact copy of " + id + " on " + n + " was quarantined");
    };
  }
}

void Simulation::event(const std::string& what) {
  recent_.push_back("step " + std::to_string(step_) + ": " + what);
  if (recent_.size() > 30) recent_.pop_front();
  if (opts_.trace) std::cout << recent_.back() << "\n";
}

void Simulation::fail(const std::string& why) {
  if (!result_.ok) return;
  result_.ok = false;
  result_.failure = why + " (seed " + std::to_string(opts_.seed) + ", step " + std::to_string(step_) + ")\nlast events:";
  for (const auto& e : recent_) result_.failure += "\n  " + e;
}

std::string Simulation::pick(const std::vector<std::string>& v) { return v.empty() ? "" : v[rng_() % v.size()]; }

std::vector<std::string> Simulation::up_nodes() const {
  std::vector<std::string> out;
  for (const auto& n : c_.node_names())
    if (!c_.crashed(n)) out.push_back(n);
  return out;
}

std::vector<std::string> Simulation::judged() const {
  std::vector<std::string> out;
  for (const auto& id : const_cast<testing::FakeCatalog&>(c_.catalog).image_ids()) {
    auto img = const_cast<testing::FakeCatalog&>(c_.catalog).image(id);
    if (img && keeps_data(img->status) && !catalog_faulted_.count(id)) out.push_back(id);
  }
  return out;
}

void Simulation::tick(std::chrono::seconds d) {
  c_.clock.advance(d);
  c_.heartbeats();
  c_.sweep();
  c_.catalog.tick();
  for (auto it = late_marks_.begin(); it != late_marks_.end();) {
    if (it->due > step_) {
      ++it;
      continue;
    }
    // The slow reader's write finally lands: a compare-and-set on what it read long ago.
    event("late mark of " + it->seen.image_id + " on " + it->seen.node + " lands");
    (void)c_.catalog.replicas.set_state(it->seen, ReplicaState::missing);
    it = late_marks_.erase(it);
  }
}

// A reader (as a download) that found a copy missing, whose mark is written only later.
void Simulation::slow_reader(std::string id) {
  if (id.empty()) id = pick(judged());
  if (id.empty()) return;
  const auto rows = c_.catalog.replicas.for_image(id).value();
  for (const auto& r : rows) {
    if (r.state != ReplicaState::ok || c_.crashed(r.node) || c_.stores[r.node]->bytes(id)) continue;
    late_marks_.push_back({step_ + 1 + static_cast<int>(rng_() % 40), r});
    event("slow reader finds " + id + " missing on " + r.node + " (mark in flight)");
    return;
  }
}

void Simulation::fault() {
  ++result_.faults;
  faulting_ = true;
  const auto images = judged();
  const std::string id = pick(images);
  const std::string node = pick(c_.node_names());
  const size_t crashed = c_.node_names().size() - up_nodes().size();
  switch (rng_() % 11) {
    case 0:
      if (crashed < 2 && !c_.crashed(node)) {
        c_.crash(node);
        event("crash " + node);
      }
      break;
    case 1:
    case 2:
      for (const auto& n : c_.node_names())
        if (c_.crashed(n)) {
          c_.restore(n);
          event("restore " + n);
          break;
        }
      break;
    case 3: {
      const auto row = c_.catalog.nodes.get(node).value();
      const bool draining = row && row->state == NodeState::draining;
      size_t drained = 0;
      const auto rows = c_.catalog.nodes.list().value();
      for (const auto& r : rows) drained += r.state == NodeState::draining;
      if (draining || drained == 0) {
        (void)c_.set_state(node, draining ? NodeState::up : NodeState::draining);
        event((draining ? "undrain " : "drain ") + node);
      }
      break;
    }
    case 4:
      if (c_.node_names().size() < 7) event("add " + c_.add_node());
      watch();
      break;
    case 5:
    case 6:
      // Flip a byte or lose a file of one copy, never the last intact one.
      if (!id.empty() && c_.intact_copies(id) >= 2 && c_.intact(node, id)) {
        const bool flip = rng_() % 2;
        if (flip) c_.stores[node]->flip_byte(id, rng_());
        else c_.stores[node]->lose(id);
        event(std::string(flip ? "flip a byte of " : "lose the file of ") + id + " on " + node);
        // A download that hit the gap right then; its mark reaches the database only later.
        if (!flip && rng_() % 2) slow_reader(id);
      }
      break;
    case 7: {
      // A row made stale: an intact copy recorded missing (a wrong report).
      const auto rows = c_.catalog.replicas.for_image(id).value();
      for (const auto& r : rows)
        if (r.node == node && r.state == ReplicaState::ok) {
          (void)c_.catalog.replicas.set_state(r, ReplicaState::missing);
          event("row of " + id + " on " + node + " made missing");
        }
      break;
    }
    case 8:
      c_.peer.lose_next_put_answer(node);
      event("next PUT answer of " + node + " lost");
      break;
    case 9:
      if (auto up = c_.upload(1 + rng_() % 20000)) event("upload " + *up);
      else if (!id.empty() && rng_() % 4 == 0) {
        c_.catalog.set_status(id, ImageStatus::deleted);
        event("delete " + id);
      }
      break;
    case 10:
      if (!id.empty() && rng_() % 8 == 0) {
        // A database restored from an older backup: the catalog's os_hash disagrees with every copy.
        c_.catalog.set_os_hash(id, std::string(128, '0'));
        catalog_faulted_.insert(id);
        event("catalog of " + id + " rewritten");
      } else {
        slow_reader();
      }
      break;
  }
  faulting_ = false;
}

void Simulation::run_job() {
  auto job = c_.catalog.jobs.claim("replicator", "sim", std::chrono::seconds(60), "");
  if (!job || !*job) return;
  auto target = JobTarget::parse((*job)->target.value_or(""));
  if (!target) return;
  worker::StopSource stop;
  int polls = 0;
  worker::PassContext ctx;
  ctx.stop = stop.token();
  ctx.job_target = *target;
  ctx.progress = [&](uint64_t, uint64_t) {
    if (++polls > 3) stop.stop();  // bounded: the job is simply run again later
  };
  const std::string node = pick(up_nodes());
  if (node.empty()) return;
  event("job " + target->text() + " on " + node);
  (void)c_.replicate(node, ctx);
  (void)c_.catalog.jobs.finish((*job)->id, "sim", "done", "{}");
}

void Simulation::step() {
  ++step_;
  tick(std::chrono::seconds(1 + rng_() % 20));
  const auto nodes = up_nodes();
  const std::string node = pick(nodes);
  const unsigned roll = rng_() % 100;
  if (roll < 40 && !node.empty()) {
    event("replicate on " + node);
    (void)c_.replicate(node);
  } else if (roll < 52 && !node.empty()) {
    event("quick audit on " + node);
    (void)c_.audit(node, false);
  } else if (roll < 64 && !node.empty()) {
    worker::PassContext ctx;
    if (rng_() % 2) ctx.job_target = JobTarget::node(node, false, true);  // os_hash too
    event("deep audit on " + node);
    (void)c_.audit(node, true, ctx);
  } else if (roll < 70) {
    run_job();
  } else {
    fault();
  }
  check_step();
}

void Simulation::check_step() {
  for (const auto& id : judged())
    if (c_.intact_copies(id) == 0) fail("A: " + id + " has no intact copy left");
}

bool Simulation::converged(std::string& why) {
  const auto v = c_.view();
  for (const auto& id : judged()) {
    auto img = c_.catalog.image(id);
    if (!img) continue;
    if (!v.in_place(*img)) {
      why = id + " is not in place; assigned:";
      for (const auto& n : v.assigned(id)) why += " " + n;
      why += "; rows:";
      for (const auto& r : img->replicas)
        why += " " + r.node + "=" + to_string(r.state) + (c_.intact(r.node, id) ? "/intact" : "/not-intact") +
               (v.live(r.node) ? "" : "/not-live") + "/row-digest-" +
               (r.digest && c_.stores[r.node]->stat(id) &&
                        *r.digest == hash::digest_hex(c_.stores[r.node]->stat(id)->digest)
                    ? "matches"
                    : "differs") +
               "/size-" + (r.size ? std::to_string(*r.size) : "?");
      return false;
    }
    for (const auto& n : v.assigned(id))
      if (!c_.intact(n, id)) {
        why = id + " has no intact copy on assigned node " + n;
        return false;
      }
  }
  return true;
}

SimResult Simulation::run() {
  for (int i = 0; i < opts_.fault_steps && result_.ok; ++i) step();
  // Faults stop: every node returns; writers still commit late now and then (that is normal).
  event("faults stop");
  for (const auto& n : c_.node_names())
    if (c_.crashed(n)) c_.restore(n);
  late_marks_.clear();
  std::string why;
  for (int round = 1; round <= opts_.heal_rounds && result_.ok; ++round) {
    ++step_;
    tick(std::chrono::seconds(5));
    for (const auto& n : c_.node_names()) {
      (void)c_.audit(n, false);
      (void)c_.audit(n, true);
      (void)c_.replicate(n);
    }
    while (result_.ok && c_.catalog.jobs.list("queued", 1)->size() > 0) run_job();
    check_step();
    if (result_.ok && c_.catalog.uncommitted() == 0 && converged(why)) {
      result_.rounds_to_converge = round;
      break;
    }
  }
  if (result_.ok && result_.rounds_to_converge == 0) {
    (void)converged(why);
    fail("D: not converged after " + std::to_string(opts_.heal_rounds) + " rounds: " + why);
  }
  result_.steps = step_;
  result_.flagged = c_.catalog.heal().flagged(1000)->size();
  return result_;
}

}  // namespace glint::sim
