#include "shared/journal/journaled.hpp"

#include "shared/core/time_text.hpp"

namespace glint::journal {

namespace {
using nlohmann::json;

json opt_time(const std::optional<db::Timestamp>& t) { return t ? json(iso8601_utc(*t)) : json(); }
std::optional<db::Timestamp> time_of(const json& j) {
  db::Timestamp t{};
  if (!j.is_string() || !parse_iso8601(j.get<std::string>(), t)) return std::nullopt;
  return t;
}

json row_json(const db::ReplicaRow& r) {
  return {{"image", r.image_id}, {"node", r.node},       {"state", to_text(r.state)},
          {"size", r.size ? json(*r.size) : json()},     {"digest", r.digest ? json(*r.digest) : json()},
          {"verified_at", opt_time(r.verified_at)},      {"version", r.version}};
}
db::ReplicaRow row_of(const json& j) {  // throws json::exception on a bad body
  db::ReplicaRow r;
  r.image_id = j.at("image").get<std::string>();
  r.node = j.at("node").get<std::string>();
  auto st = parse_state<ReplicaState>(j.at("state").get<std::string>());
  if (!st) throw json::other_error::create(501, "unknown replica state", &j);
  r.state = *st;
  if (!j.at("size").is_null()) r.size = j["size"].get<int64_t>();
  if (!j.at("digest").is_null()) r.digest = j["digest"].get<std::string>();
  r.verified_at = time_of(j.at("verified_at"));
  r.version = j.at("version").get<int64_t>();
  return r;
}

// Runs a write; when the database is unavailable, keeps it in the journal instead.
template <class F>
Status or_journal(Journal& j, Kind kind, F&& write, const std::function<json()>& body) {
  Status s = write();
  if (s.ok() || s.code() != Errc::unavailable) return s;
  if (Status kept = j.append(kind, body()); !kept)
    return Error{Errc::unavailable, s.message() + "; and the journal could not keep it: " + kept.message()};
  return {};
}

class JournaledReplicas final : public db::ReplicaRepository {
 public:
  JournaledReplicas(std::unique_ptr<db::ReplicaRepository> inner, Journal& j) : in_(std::move(inner)), j_(j) {}
  Status record_copy(const db::ReplicaRow& r, std::optional<int64_t> expected) override {
    return or_journal(j_, Kind::replica_copy, [&] { return in_->record_copy(r, expected); },
                      [&] { return json{{"row", row_json(r)}, {"expected_version", expected ? json(*expected) : json()}}; });
  }
  Status set_state(const db::ReplicaRow& seen, ReplicaState to) override {
    return or_journal(j_, Kind::replica_state, [&] { return in_->set_state(seen, to); },
                      [&] { return json{{"seen", row_json(seen)}, {"to", to_text(to)}}; });
  }
  Status mark_excess(const std::string& i, const std::string& n) override { return in_->mark_excess(i, n); }
  Status remove(const db::ReplicaRow& seen) override { return in_->remove(seen); }
  Status remove_excess(const db::ReplicaRow& seen, const std::vector<db::ReplicaRow>& c) override {
    return in_->remove_excess(seen, c);
  }
  Status forget(const std::string& i, const std::string& n) override { return in_->forget(i, n); }
  Expected<std::vector<db::ReplicaRow>> for_image(const std::string& i) override { return in_->for_image(i); }
  Expected<std::vector<db::ReplicaRow>> for_node(const std::string& n) override { return in_->for_node(n); }

 private:
  std::unique_ptr<db::ReplicaRepository> in_;
  Journal& j_;
};

class JournaledHealing final : public db::HealingRepository {
 public:
  JournaledHealing(std::unique_ptr<db::HealingRepository> inner, Journal& j) : in_(std::move(inner)), j_(j) {}
  Status mark_verified(const std::vector<std::pair<std::string, int64_t>>& seen, const std::string& node,
                       bool hash_checked) override {
    return or_journal(j_, Kind::verified, [&] { return in_->mark_verified(seen, node, hash_checked); },
                      [&] { return json{{"seen", seen}, {"node", node}, {"hash_checked", hash_checked}}; });
  }
  Status record_orphan(const std::string& node, const std::string& id, uint64_t size) override {
    return or_journal(j_, Kind::orphan, [&] { return in_->record_orphan(node, id, size); },
                      [&] { return json{{"node", node}, {"image", id}, {"size", size}}; });
  }
  Expected<std::vector<db::FeedEntry>> changes(db::FeedPosition a, size_t l) override { return in_->changes(a, l); }
  Expected<db::FeedPosition> feed_head() override { return in_->feed_head(); }
  Status prune_changes(std::chrono::seconds a) override { return in_->prune_changes(a); }
  Expected<std::vector<std::string>> images_with_data(const std::string& a, size_t l) override {
    return in_->images_with_data(a, l);
  }
  Expected<std::vector<db::ImageCopies>> copies(const std::vector<std::string>& ids) override { return in_->copies(ids); }
  Expected<std::vector<db::ReplicaRow>> node_replicas(const std::string& n, const std::string& a, size_t l) override {
    return in_->node_replicas(n, a, l);
  }
  Expected<std::vector<db::AuditItem>> due_for_audit(const std::string& n, db::Timestamp b, size_t l) override {
    return in_->due_for_audit(n, b, l);
  }
  Expected<std::optional<db::Timestamp>> oldest_verification(const std::string& n) override {
    return in_->oldest_verification(n);
  }
  Status clear_orphan(const std::string& n, const std::string& i) override { return in_->clear_orphan(n, i); }
  Expected<std::optional<std::string>> checkpoint(const std::string& n, const std::string& w) override {
    return in_->checkpoint(n, w);
  }
  Status save_checkpoint(const std::string& n, const std::string& w, const std::string& p) override {
    return in_->save_checkpoint(n, w, p);
  }
  Expected<std::string> placement_generation() override { return in_->placement_generation(); }
  Status set_placement_generation(const std::string& g) override { return in_->set_placement_generation(g); }
  Status flag_image(const std::string& i, const std::string& r) override { return in_->flag_image(i, r); }
  Status clear_flag(const std::string& i) override { return in_->clear_flag(i); }
  Expected<bool> is_flagged(const std::string& i) override { return in_->is_flagged(i); }
  Expected<std::vector<db::ImageFlag>> flagged(size_t l) override { return in_->flagged(l); }

 private:
  std::unique_ptr<db::HealingRepository> in_;
  Journal& j_;
};

json pass_json(const db::WorkerPassRow& r) {
  return {{"node", r.node},     {"worker", r.worker}, {"started_at", iso8601_utc(r.started_at)},
          {"finished_at", iso8601_utc(r.finished_at)}, {"ok", r.ok}, {"items", r.items},
          {"failed", r.failed}, {"bytes", r.bytes},   {"note", r.note},
          {"backlog", r.backlog ? json(*r.backlog) : json()}};
}

class JournaledPasses final : public db::WorkerPassRepository {
 public:
  JournaledPasses(std::unique_ptr<db::WorkerPassRepository> inner, Journal& j) : in_(std::move(inner)), j_(j) {}
  Status record(const db::WorkerPassRow& r) override {
    return or_journal(j_, Kind::worker_pass, [&] { return in_->record(r); }, [&] { return pass_json(r); });
  }
  Expected<std::vector<db::WorkerPassRow>> list() override { return in_->list(); }

 private:
  std::unique_ptr<db::WorkerPassRepository> in_;
  Journal& j_;
};

Status apply_body(const Record& r, db::ReplicaRepository& replicas, db::HealingRepository& heal,
                  db::WorkerPassRepository& passes) {
  const json& b = r.body;
  switch (r.kind) {
    case Kind::replica_state: {
      auto to = parse_state<ReplicaState>(b.at("to").get<std::string>());
      if (!to) return Error{Errc::invalid, "unknown replica state"};
      return replicas.set_state(row_of(b.at("seen")), *to);
    }
    case Kind::replica_copy: {
      const json& e = b.at("expected_version");
      return replicas.record_copy(row_of(b.at("row")), e.is_null() ? std::nullopt : std::optional(e.get<int64_t>()));
    }
    case Kind::verified:
      return heal.mark_verified(b.at("seen").get<std::vector<std::pair<std::string, int64_t>>>(),
                                b.at("node").get<std::string>(), b.at("hash_checked").get<bool>());
    case Kind::orphan:
      return heal.record_orphan(b.at("node").get<std::string>(), b.at("image").get<std::string>(),
                                b.at("size").get<uint64_t>());
    case Kind::worker_pass: {
      db::WorkerPassRow p;
      p.node = b.at("node").get<std::string>();
      p.worker = b.at("worker").get<std::string>();
      auto started = time_of(b.at("started_at")), finished = time_of(b.at("finished_at"));
      if (!started || !finished) return Error{Errc::invalid, "bad pass times"};
      p.started_at = *started;
      p.finished_at = *finished;
      p.ok = b.at("ok").get<bool>();
      p.items = b.at("items").get<uint64_t>();
      p.failed = b.at("failed").get<uint64_t>();
      p.bytes = b.at("bytes").get<uint64_t>();
      p.note = b.at("note").get<std::string>();
      if (b.contains("backlog") && !b["backlog"].is_null()) p.backlog = b["backlog"].get<uint64_t>();
      return passes.record(p);
    }
  }
  return Error{Errc::invalid, "unknown record kind"};
}
}  // namespace

std::unique_ptr<db::ReplicaRepository> journaled(std::unique_ptr<db::ReplicaRepository> inner, Journal& j) {
  return std::make_unique<JournaledReplicas>(std::move(inner), j);
}
std::unique_ptr<db::HealingRepository> journaled(std::unique_ptr<db::HealingRepository> inner, Journal& j) {
  return std::make_unique<JournaledHealing>(std::move(inner), j);
}
std::unique_ptr<db::WorkerPassRepository> journaled(std::unique_ptr<db::WorkerPassRepository> inner, Journal& j) {
  return std::make_unique<JournaledPasses>(std::move(inner), j);
}

Status DbApplier::apply(const Record& r) {
  try {
    return apply_body(r, replicas_, heal_, passes_);
  } catch (const json::exception& e) {
    return Error{Errc::invalid, std::string("record body: ") + e.what()};
  }
}

}  // namespace glint::journal
