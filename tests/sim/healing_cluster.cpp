#include "tests/sim/healing_cluster.hpp"

#include <cstdio>

namespace glint::sim {

namespace {

// Deterministic image ids (canonical v4 form) and bytes, so a seed replays exactly.
std::string image_id(uint64_t n) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08llx-0000-4000-8000-%012llx", static_cast<unsigned long long>(n * 2654435761u % 0xffffffffu),
                static_cast<unsigned long long>(n));
  return buf;
}

std::string bytes_of(uint64_t n, size_t size) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i) s[i] = static_cast<char>((i * 131 + n * 17 + i / 97) & 0xff);
  return s;
}

}  // namespace

HealingCluster::HealingCluster(ClusterOptions opts) : opts_(opts) {
  clock.set_auto_advance(true);  // job pauses move simulated time instead of waiting
  catalog.set_clock([this] { return clock.wall(); });
  coordinator_ = std::make_unique<coordinator::Coordinator>(
      coordinator::CoordinatorOptions{opts_.heartbeat_timeout, {"hub", "coordinator", 1, "sim"}}, catalog.nodes,
      catalog.jobs, clock, metrics, log::Logger::null());
}

std::string HealingCluster::add_node() {
  const size_t k = names_.size() + 1;
  const std::string name = "n" + std::to_string(k);
  db::NodeRow r;
  r.name = name;
  r.address = "127.0.0.1:" + std::to_string(10000 + k);
  r.zone = "z" + std::to_string(k % 5);
  r.last_heartbeat = clock.wall();
  r.state_since = clock.wall();
  (void)catalog.nodes.register_node(r);
  stores[name] = std::make_unique<testing::FakeBlobStore>(4096);
  peer.add(name, *stores[name]);
  replicator::ReplicatorOptions ro;
  ro.node = name;
  ro.replicas = opts_.replicas;
  ro.replicate_after_down = opts_.slot_grace;
  ro.heartbeat_timeout = opts_.heartbeat_timeout;
  ro.page = opts_.page;
  ro.repair_deadline = std::chrono::seconds(5);
  Workers w;
  w.replicator = std::make_unique<replicator::Replicator>(
      ro, replicator::Repositories{catalog.nodes, catalog.replicas, catalog.heal()}, peer, events, metrics, clock);
  for (bool deep : {false, true}) {
    auto a = std::make_unique<auditor::Auditor>(auditor::AuditorOptions{name, deep, std::chrono::hours(24 * 30), opts_.page},
                                                *stores[name], catalog.heal(), catalog.replicas, catalog.jobs, events,
                                                metrics, clock);
    (deep ? w.deep : w.quick) = std::move(a);
  }
  workers_[name] = std::move(w);
  names_.push_back(name);
  return name;
}

std::string HealingCluster::add_image(size_t size, const std::vector<std::string>& on) {
  const uint64_t n = ++next_image_;
  const std::string id = image_id(n);
  const std::string data = bytes_of(n, size);
  truth_[id] = data;
  hash::Digester sha("sha512");
  sha.update(hash::as_bytes(data));
  db::ImageCopies img;
  img.id = id;
  img.status = ImageStatus::active;
  img.size = static_cast<int64_t>(size);
  img.os_hash_algo = "sha512";
  img.os_hash_value = sha.finish_hex();
  catalog.add_image(img);
  for (const auto& node : on) {
    auto w = stores[node]->create(id, size);
    (void)(*w)->write(hash::as_bytes(data));
    auto info = (*w)->commit();
    db::ReplicaRow r;
    r.image_id = id;
    r.node = node;
    r.size = static_cast<int64_t>(size);
    r.digest = hash::digest_hex(info->digest);
    r.verified_at = clock.wall();
    (void)catalog.replicas.record_copy(r, std::nullopt);
  }
  return id;
}

std::string HealingCluster::next_image_id() const { return image_id(next_image_ + 1); }

std::optional<std::string> HealingCluster::upload(size_t size) {
  const std::string probe = next_image_id();
  std::vector<std::string> stored;
  for (const auto& n : view().upload_targets(probe, opts_.replicas))
    if (!crashed(n)) stored.push_back(n);
  if (stored.size() < 2) return std::nullopt;  // below the write quorum: the upload fails cleanly
  return add_image(size, stored);
}

void HealingCluster::crash(const std::string& node) {
  crashed_.insert(node);
  peer.set_down(node, true);
}

void HealingCluster::restore(const std::string& node) {
  crashed_.erase(node);
  peer.set_down(node, false);
}

void HealingCluster::heartbeats() {
  for (const auto& n : names_) {
    if (crashed(n)) continue;
    catalog.nodes.edit(n, [&](db::NodeRow& r) {
      r.last_heartbeat = clock.wall();
      if (r.state == NodeState::down) {
        r.state = NodeState::up;
        r.state_since = clock.wall();
      }
    });
  }
}

void HealingCluster::sweep() { (void)coordinator_->sweep(); }

Status HealingCluster::set_state(const std::string& node, NodeState to) {
  auto row = catalog.nodes.get(node);
  if (!row || !*row) return Status(Errc::not_found, node);
  return catalog.nodes.set_state(node, (*row)->state, to);
}

Expected<worker::PassResult> HealingCluster::replicate(const std::string& node, const worker::PassContext& ctx) {
  return workers_.at(node).replicator->run_once(ctx);
}

Expected<worker::PassResult> HealingCluster::audit(const std::string& node, bool deep, const worker::PassContext& ctx) {
  auto& w = workers_.at(node);
  return (deep ? w.deep : w.quick)->run_once(ctx);
}

placement::ClusterView HealingCluster::view() const {
  placement::ViewOptions o;
  o.replicas = opts_.replicas;
  o.heartbeat_timeout = opts_.heartbeat_timeout;
  o.slot_grace = opts_.slot_grace;
  auto rows = const_cast<testing::FakeNodeRepository&>(catalog.nodes).list();
  return placement::ClusterView(*rows, clock.wall(), o);
}

bool HealingCluster::intact(const std::string& node, const std::string& image) const {
  auto it = stores.find(node);
  if (it == stores.end()) return false;
  auto b = it->second->bytes(image);
  auto t = truth_.find(image);
  return b && t != truth_.end() && *b == t->second;
}

size_t HealingCluster::intact_copies(const std::string& image) const {
  size_t n = 0;
  for (const auto& node : names_) n += intact(node, image);
  return n;
}

}  // namespace glint::sim
