// shared/db against a real PostgreSQL (tests/support/pg.sh): pool failure handling, migrations and
// the Pg* repositories. Every test gets its own fresh database.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <iostream>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "shared/core/uuid.hpp"
#include "shared/db/migrations.hpp"
#include "shared/db/pool.hpp"
#include "shared/db/repositories.hpp"
#include "tests/support/pg.hpp"

namespace {

using namespace std::chrono_literals;
using glint::Errc;
using glint::ImageStatus;
using glint::NodeState;
using glint::ReplicaState;
using glint::db::Pool;
using glint::db::PoolOptions;

// A loopback port nobody listens on: bind to port 0 to learn a free one, then close it.
int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

PoolOptions options_for(const std::string& url) {
  PoolOptions o;
  o.url = url;
  o.size = 2;
  o.connect_timeout = 2s;
  o.retry_budget = 3s;
  o.backoff_initial = 20ms;
  o.backoff_max = 200ms;
  return o;
}

class DbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto admin = glint::testing::admin_database_url();
    if (!admin) GTEST_SKIP() << "no PostgreSQL";
    url_ = glint::testing::fresh_database_url(
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    pool_ = std::make_unique<Pool>(options_for(url_));
  }

  void migrate() {
    auto applied = glint::db::migrate(*pool_);
    ASSERT_TRUE(applied.ok()) << applied.error().message;
  }

  std::string url_;
  std::unique_ptr<Pool> pool_;
};

// A fail_fast pool whose every connection is busy answers "busy" but keeps its breaker closed:
// load is not an outage (tripping would 503 every request and the health check).
TEST_F(DbTest, ABusyPoolIsNotAnOutage) {
  PoolOptions o = options_for(url_);
  o.size = 1;
  o.fail_fast = true;
  o.connect_timeout = 300ms;
  Pool pool(o);
  std::promise<void> holding, release;
  auto released = release.get_future().share();
  std::thread holder([&] {
    (void)pool.run([&](pqxx::connection_base&) {
      holding.set_value();
      released.wait();
    });
  });
  holding.get_future().wait();
  glint::Status busy = pool.run([](pqxx::connection_base&) {});
  EXPECT_EQ(busy.code(), Errc::unavailable);
  EXPECT_NE(busy.message().find("busy"), std::string::npos) << busy.message();
  EXPECT_TRUE(pool.available());
  release.set_value();
  holder.join();
  EXPECT_TRUE(pool.run([](pqxx::connection_base& c) { pqxx::nontransaction(c).exec("SELECT 1"); }).ok());
}

// ---- migrations -------------------------------------------------------------------------------

TEST_F(DbTest, MigrateFreshDatabaseAppliesAll) {
  auto before = glint::db::schema_version(*pool_);
  ASSERT_TRUE(before.ok()) << before.error().message;
  EXPECT_EQ(*before, 0);

  auto applied = glint::db::migrate(*pool_);
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  EXPECT_EQ(*applied, static_cast<int>(glint::db::migrations().size()));

  auto version = glint::db::schema_version(*pool_);
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, glint::db::migrations().back().version);

  auto tables = pool_->query<int>([](pqxx::connection_base& c) {
    pqxx::read_transaction t(c);
    return t.exec1(
               "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name IN "
               "('images','image_properties','image_tags','image_members','nodes','replicas','jobs',"
               "'cache_nodes','cache_entries','cache_queue','schema_migrations')")[0]
        .as<int>();
  });
  ASSERT_TRUE(tables.ok());
  EXPECT_EQ(*tables, 11);
}

TEST_F(DbTest, MigrateTwiceAppliesNothingAndChangesNothing) {
  migrate();
  auto snapshot = [&] {
    return pool_->query<std::string>([](pqxx::connection_base& c) {
      pqxx::read_transaction t(c);
      return t.exec1(
                  "SELECT (SELECT string_agg(version || ':' || name || ':' || applied_at::text, ',' ORDER BY version) "
                  "        FROM schema_migrations) || '|' || "
                  "       (SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace)::text")[0]
          .as<std::string>();
    });
  };
  auto first = snapshot();
  ASSERT_TRUE(first.ok());

  auto again = glint::db::migrate(*pool_);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(*again, 0);
  auto second = snapshot();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*first, *second);
}

TEST_F(DbTest, ConcurrentMigrationsSerialise) {
  std::atomic<int> total{0};
  std::atomic<int> failures{0};
  auto starter = [&] {
    Pool pool(options_for(url_));
    auto applied = glint::db::migrate(pool);
    if (!applied.ok()) {
      ++failures;
      return;
    }
    total += *applied;
  };
  std::thread a(starter);
  std::thread b(starter);
  a.join();
  b.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(total.load(), static_cast<int>(glint::db::migrations().size()));
  auto version = glint::db::schema_version(*pool_);
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, glint::db::migrations().back().version);
}

// ---- nodes ------------------------------------------------------------------------------------

TEST_F(DbTest, NodeRegisterHeartbeatAndStates) {
  migrate();
  auto nodes = glint::db::make_node_repository(*pool_);

  glint::db::NodeRow n;
  n.name = "store-a";
  n.address = "10.0.0.1:9292";
  n.zone = "z1";
  n.weight = 2.5;
  n.capacity = 1000;
  n.free = 900;
  ASSERT_TRUE(nodes->register_node(n).ok());

  auto got = nodes->get("store-a");
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_TRUE(got->has_value());
  const glint::db::NodeRow& a = **got;
  EXPECT_EQ(a.address, "10.0.0.1:9292");
  EXPECT_EQ(a.zone, "z1");
  EXPECT_DOUBLE_EQ(a.weight, 2.5);
  EXPECT_EQ(a.capacity, 1000u);
  EXPECT_EQ(a.free, 900u);
  EXPECT_EQ(a.state, NodeState::up);
  ASSERT_TRUE(a.last_heartbeat.has_value());
  ASSERT_TRUE(a.state_since.has_value());
  EXPECT_LT(std::chrono::abs(std::chrono::system_clock::now() - *a.last_heartbeat), 60s);
  ASSERT_TRUE(a.read_at.has_value());  // the database's clock, to judge the heartbeat's age by
  EXPECT_GE(*a.read_at, *a.last_heartbeat);

  // Heartbeat refreshes space; a down node comes back up with a new state_since.
  ASSERT_TRUE(nodes->mark_down("store-a", a.last_heartbeat).ok());
  auto down = nodes->get("store-a");
  ASSERT_TRUE(down.ok() && down->has_value());
  EXPECT_EQ((*down)->state, NodeState::down);
  ASSERT_TRUE(nodes->heartbeat("store-a", 1000, 500).ok());
  auto up = nodes->get("store-a");
  ASSERT_TRUE(up.ok() && up->has_value());
  EXPECT_EQ((*up)->state, NodeState::up);
  EXPECT_EQ((*up)->free, 500u);
  EXPECT_GE(*(*up)->state_since, *(*down)->state_since);
  EXPECT_GE(*(*up)->last_heartbeat, *a.last_heartbeat);

  // Re-registering an up node keeps state_since; draining survives re-registration.
  ASSERT_TRUE(nodes->register_node(n).ok());
  auto again = nodes->get("store-a");
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_EQ((*again)->state_since, (*up)->state_since);
  ASSERT_TRUE(nodes->set_state("store-a", NodeState::up, NodeState::draining).ok());
  n.address = "10.0.0.9:9292";
  ASSERT_TRUE(nodes->register_node(n).ok());
  auto drained = nodes->get("store-a");
  ASSERT_TRUE(drained.ok() && drained->has_value());
  EXPECT_EQ((*drained)->state, NodeState::draining);
  EXPECT_EQ((*drained)->address, "10.0.0.9:9292");
  ASSERT_TRUE(nodes->heartbeat("store-a", 1000, 400).ok());
  auto still = nodes->get("store-a");
  ASSERT_TRUE(still.ok() && still->has_value());
  EXPECT_EQ((*still)->state, NodeState::draining);
  // Compare-and-set: a sweep that judged the node up and silent cannot undo the drain, and a
  // writer that read another state loses.
  EXPECT_EQ(nodes->mark_down("store-a", (*still)->last_heartbeat).code(), Errc::conflict);
  EXPECT_EQ(nodes->set_state("store-a", NodeState::up, NodeState::down).code(), Errc::conflict);
  EXPECT_EQ((*nodes->get("store-a"))->state, NodeState::draining);
  ASSERT_TRUE(nodes->set_state("store-a", NodeState::draining, NodeState::up).ok());
  // A heartbeat newer than the one the sweep saw also wins.
  const auto seen = (*nodes->get("store-a"))->last_heartbeat;
  ASSERT_TRUE(nodes->heartbeat("store-a", 1000, 400).ok());
  if ((*nodes->get("store-a"))->last_heartbeat != seen) {
    EXPECT_EQ(nodes->mark_down("store-a", seen).code(), Errc::conflict);
  }

  glint::db::NodeRow b = n;
  b.name = "store-b";
  ASSERT_TRUE(nodes->register_node(b).ok());
  auto all = nodes->list();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "store-a");
  EXPECT_EQ((*all)[1].name, "store-b");

  auto unknown = nodes->get("nope");
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(unknown->has_value());
  EXPECT_EQ(nodes->heartbeat("nope", 1, 1).code(), Errc::not_found);
  EXPECT_EQ(nodes->set_state("nope", NodeState::down, NodeState::up).code(), Errc::not_found);
  EXPECT_EQ(nodes->mark_down("nope", std::nullopt).code(), Errc::not_found);
}

// ---- images -----------------------------------------------------------------------------------

TEST_F(DbTest, ImageCreateGetDuplicateAndTransition) {
  migrate();
  auto images = glint::db::make_image_repository(*pool_);

  glint::db::ImageRow img;
  img.id = glint::random_uuid();
  img.name = "cirros";
  img.visibility = "public";
  img.owner = "tenant-1";
  img.disk_format = "qcow2";
  img.container_format = "bare";
  img.min_ram = 64;
  img.properties = {{"os_distro", "cirros"}, {"hw_disk_bus", "virtio"}};
  img.tags = {"small", "base"};
  // Microsecond precision survives the round trip.
  img.created_at = std::chrono::system_clock::time_point(std::chrono::microseconds(1'767'225'600'123'456LL));
  ASSERT_TRUE(images->create(img).ok());

  auto got = images->get(img.id);
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_TRUE(got->has_value());
  const glint::db::ImageRow& g = **got;
  EXPECT_EQ(g.id, img.id);
  EXPECT_EQ(g.name, "cirros");
  EXPECT_EQ(g.status, ImageStatus::queued);
  EXPECT_EQ(g.visibility, "public");
  EXPECT_FALSE(g.protected_);
  EXPECT_EQ(g.owner, std::optional<std::string>("tenant-1"));
  EXPECT_FALSE(g.size.has_value());
  EXPECT_EQ(g.disk_format, std::optional<std::string>("qcow2"));
  EXPECT_EQ(g.min_ram, 64);
  EXPECT_EQ(g.created_at, img.created_at);
  EXPECT_LT(std::chrono::abs(std::chrono::system_clock::now() - g.updated_at), 60s);
  EXPECT_FALSE(g.deleted_at.has_value());
  EXPECT_EQ(g.properties, img.properties);
  EXPECT_EQ(g.tags, (std::vector<std::string>{"base", "small"}));

  // Ids are never reused, deleted rows included.
  glint::db::ImageRow dup;
  dup.id = img.id;
  EXPECT_EQ(images->create(dup).code(), Errc::conflict);

  EXPECT_EQ(images->transition(img.id, ImageStatus::active, ImageStatus::deactivated).code(), Errc::conflict);
  ASSERT_TRUE(images->transition(img.id, ImageStatus::queued, ImageStatus::saving).ok());
  ASSERT_TRUE(images->transition(img.id, ImageStatus::saving, ImageStatus::active).ok());
  EXPECT_EQ(images->transition(img.id, ImageStatus::saving, ImageStatus::active).code(), Errc::conflict);
  ASSERT_TRUE(images->transition(img.id, ImageStatus::active, ImageStatus::deleted).ok());
  auto deleted = images->get(img.id);
  ASSERT_TRUE(deleted.ok() && deleted->has_value());
  EXPECT_EQ((*deleted)->status, ImageStatus::deleted);
  EXPECT_TRUE((*deleted)->deleted_at.has_value());
  EXPECT_EQ(images->create(dup).code(), Errc::conflict);

  auto missing = images->get(glint::random_uuid());
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  EXPECT_EQ(images->transition(glint::random_uuid(), ImageStatus::queued, ImageStatus::saving).code(), Errc::not_found);
  glint::db::ImageRow bad;
  bad.id = "../etc/passwd";
  EXPECT_EQ(images->create(bad).code(), Errc::invalid);
}

// ---- replicas ---------------------------------------------------------------------------------

TEST_F(DbTest, ReplicaWritesAreCompareAndSet) {
  migrate();
  auto nodes = glint::db::make_node_repository(*pool_);
  auto images = glint::db::make_image_repository(*pool_);
  auto replicas = glint::db::make_replica_repository(*pool_);
  for (const char* name : {"n1", "n2"}) {
    glint::db::NodeRow n;
    n.name = name;
    n.address = std::string(name) + ":9000";
    n.zone = "z";
    ASSERT_TRUE(nodes->register_node(n).ok());
  }
  glint::db::ImageRow a;
  a.id = glint::random_uuid();
  a.status = ImageStatus::active;
  glint::db::ImageRow q;
  q.id = glint::random_uuid();  // queued: keeps no data
  ASSERT_TRUE(images->create(a).ok());
  ASSERT_TRUE(images->create(q).ok());

  glint::db::ReplicaRow r;
  r.image_id = a.id;
  r.node = "n1";
  r.size = 4096;
  r.digest = "00112233445566778899aabbccddeeff";
  r.verified_at = std::chrono::system_clock::time_point(std::chrono::microseconds(1'767'225'601'000'001LL));
  ASSERT_TRUE(replicas->record_copy(r, std::nullopt).ok());
  // Expected absent, but it exists now: a lost race, not an overwrite.
  EXPECT_EQ(replicas->record_copy(r, std::nullopt).code(), Errc::conflict);
  auto rows = *replicas->for_image(a.id);
  ASSERT_EQ(rows.size(), 1u);
  const glint::db::ReplicaRow seen = rows[0];
  EXPECT_EQ(seen.state, ReplicaState::ok);
  EXPECT_EQ(seen.digest, r.digest);
  EXPECT_EQ(seen.verified_at, r.verified_at);
  EXPECT_GT(seen.version, 0);
  // No copy may be recorded for an image that keeps no data (deleted while a copy was made).
  glint::db::ReplicaRow rq = r;
  rq.image_id = q.id;
  EXPECT_EQ(replicas->record_copy(rq, std::nullopt).code(), Errc::not_found);

  // State changes compare what was read: the second writer, holding the same old read, loses.
  ASSERT_TRUE(replicas->set_state(seen, ReplicaState::corrupt).ok());
  EXPECT_EQ(replicas->set_state(seen, ReplicaState::missing).code(), Errc::conflict);
  auto now = (*replicas->for_image(a.id))[0];
  EXPECT_EQ(now.state, ReplicaState::corrupt);
  EXPECT_NE(now.version, seen.version);
  // A re-copy against the version read turns it ok again; a stale one does not.
  EXPECT_EQ(replicas->record_copy(r, seen.version).code(), Errc::conflict);
  ASSERT_TRUE(replicas->record_copy(r, now.version).ok());
  now = (*replicas->for_image(a.id))[0];
  EXPECT_EQ(now.state, ReplicaState::ok);

  // Removal too; a row removed and written again never repeats a version (no ABA).
  EXPECT_EQ(replicas->remove(seen).code(), Errc::conflict);
  ASSERT_TRUE(replicas->remove(now).ok());
  EXPECT_TRUE(replicas->remove(now).ok());  // already gone: fine
  ASSERT_TRUE(replicas->record_copy(r, std::nullopt).ok());
  const auto again = (*replicas->for_image(a.id))[0];
  EXPECT_NE(again.version, now.version);
  EXPECT_EQ(replicas->set_state(now, ReplicaState::missing).code(), Errc::conflict);

  // The excess rule's removal re-checks the copies it counted, in its own transaction.
  ASSERT_TRUE(nodes->register_node([] {
                glint::db::NodeRow n;
                n.name = "n3";
                n.address = "n3:9000";
                return n;
              }()).ok());
  glint::db::ReplicaRow r3 = r;
  r3.node = "n3";
  ASSERT_TRUE(replicas->record_copy(r3, std::nullopt).ok());
  auto before = *replicas->for_image(a.id);
  ASSERT_EQ(before.size(), 2u);  // n1, n3
  const auto n1 = before[0], n3 = before[1];
  ASSERT_TRUE(replicas->set_state(n3, ReplicaState::missing).ok());
  EXPECT_EQ(replicas->remove_excess(n1, {n3}).code(), Errc::conflict);  // n3 changed: n1 stays
  EXPECT_EQ(replicas->for_image(a.id)->size(), 2u);
  const auto n3_now = (*replicas->for_image(a.id))[1];
  ASSERT_TRUE(replicas->record_copy(r3, n3_now.version).ok());
  ASSERT_TRUE(replicas->remove_excess(n1, {(*replicas->for_image(a.id))[1]}).ok());
  EXPECT_EQ(replicas->for_image(a.id)->size(), 1u);
  ASSERT_TRUE(replicas->record_copy(r, std::nullopt).ok());  // n1 again, for what follows

  // Excess: recorded for a copy nobody counts; never over an ok row.
  EXPECT_EQ(replicas->mark_excess(a.id, "n1").code(), Errc::conflict);
  ASSERT_TRUE(replicas->mark_excess(a.id, "n2").ok());
  auto on_n2 = *replicas->for_node("n2");
  ASSERT_EQ(on_n2.size(), 1u);
  EXPECT_EQ(on_n2[0].state, ReplicaState::excess);
  ASSERT_TRUE(replicas->forget(a.id, "n2").ok());
  EXPECT_TRUE(replicas->for_node("n2")->empty());

  EXPECT_EQ(replicas->set_state(on_n2[0], ReplicaState::ok).code(), Errc::not_found);
  EXPECT_EQ(replicas->mark_excess(glint::random_uuid(), "n1").code(), Errc::not_found);
  EXPECT_TRUE(replicas->for_image(glint::random_uuid())->empty());
}

// ---- pool failure handling --------------------------------------------------------------------

// A password in the connection string never reaches an error message (or a log line made of one).
TEST(Pool, ErrorsNeverCarryThePassword) {
  PoolOptions o;
  o.url = "postgresql://glint:Sup3r-Secr3t@127.0.0.1:1/none";
  o.retry_budget = 0ms;
  Pool pool(o);
  glint::Status s = pool.run([](pqxx::connection_base&) {});
  ASSERT_EQ(s.code(), Errc::unavailable);
  EXPECT_EQ(s.message().find("Sup3r-Secr3t"), std::string::npos) << s.message();
  PoolOptions dsn;
  dsn.url = "host=127.0.0.1 port=1 user=glint password=Sup3r-Secr3t dbname=none";
  dsn.retry_budget = 0ms;
  dsn.fail_fast = true;
  Pool p2(dsn);
  glint::Status s2 = p2.run([](pqxx::connection_base&) {});
  EXPECT_EQ(s2.message().find("Sup3r-Secr3t"), std::string::npos) << s2.message();
  EXPECT_FALSE(p2.available());  // the breaker is open
}

TEST(DbPoolTest, ClosedPortIsUnavailableWithinBudget) {
  PoolOptions o;
  o.url = "postgresql://postgres@127.0.0.1:" + std::to_string(closed_port()) + "/postgres";
  o.connect_timeout = 1s;
  o.retry_budget = 300ms;
  o.backoff_initial = 20ms;
  o.backoff_max = 100ms;
  Pool pool(o);
  int calls = 0;
  const auto start = std::chrono::steady_clock::now();
  glint::Status s = pool.run([&](pqxx::connection_base&) { ++calls; });
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(s.code(), Errc::unavailable);
  EXPECT_EQ(s.message().rfind("database unavailable: ", 0), 0u) << s.message();
  EXPECT_EQ(calls, 0);
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 3s);
}

TEST_F(DbTest, TerminatedConnectionIsReplaced) {
  PoolOptions o = options_for(url_);
  o.size = 1;  // the next call must reuse (then replace) the very connection that was killed
  Pool pool(o);
  auto backend = [&] {
    return pool.query<int>([](pqxx::connection_base& c) {
      pqxx::work w(c);
      return w.exec1("SELECT pg_backend_pid()")[0].as<int>();
    });
  };
  auto first = backend();
  ASSERT_TRUE(first.ok()) << first.error().message;

  {
    pqxx::connection admin(url_);
    pqxx::nontransaction tx(admin);
    // The timeout form waits until the backend has really exited.
    auto r = tx.exec_params1("SELECT pg_terminate_backend($1, 5000)", *first);
    ASSERT_TRUE(r[0].as<bool>());
  }

  auto second = backend();
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_NE(*second, *first);
  auto third = backend();
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(*third, *second);
}

TEST_F(DbTest, SqlErrorIsIoErrorWithoutRetry) {
  int calls = 0;
  glint::Status s = pool_->run([&](pqxx::connection_base& c) {
    ++calls;
    pqxx::work w(c);
    w.exec("SELECT * FROM no_such_table");
  });
  EXPECT_EQ(s.code(), Errc::io_error);
  EXPECT_NE(s.message().find("no_such_table"), std::string::npos) << s.message();
  EXPECT_EQ(calls, 1);

  // The connection is still usable afterwards.
  auto one = pool_->query<int>([](pqxx::connection_base& c) {
    pqxx::work w(c);
    return w.exec1("SELECT 1")[0].as<int>();
  });
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(*one, 1);
}

TEST_F(DbTest, SerializationFailureIsRetried) {
  int calls = 0;
  glint::Status s = pool_->run([&](pqxx::connection_base& c) {
    pqxx::work w(c);
    w.exec("SELECT 1");
    if (++calls == 1) throw pqxx::serialization_failure("could not serialize access");
    w.commit();
  });
  EXPECT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(calls, 2);
}

TEST_F(DbTest, UniqueViolationIsConflict) {
  migrate();
  const std::string id = glint::random_uuid();
  auto insert = [&] {
    return pool_->run([&](pqxx::connection_base& c) {
      pqxx::work w(c);
      w.exec_params("INSERT INTO images (id, status) VALUES ($1::uuid, 'queued')", id);
      w.commit();
    });
  };
  ASSERT_TRUE(insert().ok());
  EXPECT_EQ(insert().code(), Errc::conflict);
}

TEST_F(DbTest, ConcurrentCallersShareABoundedPool) {
  PoolOptions o = options_for(url_);
  o.size = 2;
  Pool pool(o);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 5; ++j) {
        glint::Status s = pool.run([](pqxx::connection_base& c) {
          pqxx::work w(c);
          w.exec("SELECT pg_sleep(0.01)");
        });
        if (s.ok()) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 30);
  auto sessions = pool.query<int>([&](pqxx::connection_base& c) {
    pqxx::work w(c);
    return w.exec1("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                   "AND backend_type = 'client backend'")[0]
        .as<int>();
  });
  ASSERT_TRUE(sessions.ok());
  // pool_ (fixture) holds none open yet; this pool never opens more than its size.
  EXPECT_LE(*sessions, 2);
}

}  // namespace

namespace {

std::vector<std::string> ids_of(const std::vector<glint::db::ImageRow>& rows) {
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(r.id);
  return out;
}

}  // namespace

TEST_F(DbTest, ImageListPagesSortsFiltersAndSkipsDeleted) {
  migrate();
  auto images = glint::db::make_image_repository(*pool_);
  std::vector<std::string> ids;
  const auto base = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
  for (int i = 0; i < 5; ++i) {
    glint::db::ImageRow img;
    img.id = glint::random_uuid();
    img.name = std::string(1, static_cast<char>('e' - i));  // names e, d, c, b, a
    img.size = i * 10;
    img.created_at = img.updated_at = base + std::chrono::seconds(i);
    if (i % 2 == 0) img.tags = {"even"};
    ASSERT_TRUE(images->create(img).ok());
    ids.push_back(img.id);
  }
  glint::db::ImageQuery q;
  q.limit = 2;
  auto p1 = images->list(q);  // default: newest first
  ASSERT_TRUE(p1.ok()) << p1.error().message;
  EXPECT_EQ(ids_of(*p1), (std::vector<std::string>{ids[4], ids[3]}));
  q.marker = ids[3];
  auto p2 = images->list(q);
  ASSERT_TRUE(p2.ok()) << p2.error().message;
  EXPECT_EQ(ids_of(*p2), (std::vector<std::string>{ids[2], ids[1]}));

  glint::db::ImageQuery by_name;
  by_name.sort = {{"name", true}};
  by_name.limit = 10;
  auto n = images->list(by_name);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(ids_of(*n), (std::vector<std::string>{ids[4], ids[3], ids[2], ids[1], ids[0]}));

  glint::db::ImageQuery tagged;
  tagged.tag = "even";
  tagged.size_min = 10;
  auto t = images->list(tagged);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(ids_of(*t), (std::vector<std::string>{ids[4], ids[2]}));
  EXPECT_EQ((*t)[0].tags, std::vector<std::string>{"even"});

  ASSERT_TRUE(images->mark_deleted(ids[4], false).ok());
  EXPECT_EQ(images->mark_deleted(ids[4], false).code(), Errc::not_found);
  auto after = images->list(glint::db::ImageQuery{});
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->size(), 4u);
  glint::db::ImageRow again;
  again.id = ids[4];
  EXPECT_EQ(images->create(again).code(), Errc::conflict);  // a deleted id is never reused

  glint::db::ImageQuery bad;
  bad.sort = {{"bogus", true}};
  EXPECT_EQ(images->list(bad).code(), Errc::invalid);
  glint::db::ImageQuery unknown_marker;
  unknown_marker.marker = glint::random_uuid();
  EXPECT_EQ(images->list(unknown_marker).code(), Errc::not_found);
  glint::db::ImageQuery injected;
  injected.equals["name"] = "x' OR '1'='1";
  auto inj = images->list(injected);
  ASSERT_TRUE(inj.ok());
  EXPECT_TRUE(inj->empty());
}

TEST_F(DbTest, ImageTagsAddIdempotentRemoveMissing) {
  migrate();
  auto images = glint::db::make_image_repository(*pool_);
  glint::db::ImageRow img;
  img.id = glint::random_uuid();
  ASSERT_TRUE(images->create(img).ok());
  EXPECT_TRUE(images->add_tag(img.id, "a").ok());
  EXPECT_TRUE(images->add_tag(img.id, "a").ok());
  EXPECT_EQ((*images->get(img.id))->tags, std::vector<std::string>{"a"});
  EXPECT_TRUE(images->remove_tag(img.id, "a").ok());
  EXPECT_EQ(images->remove_tag(img.id, "a").code(), Errc::not_found);
  EXPECT_EQ(images->add_tag(glint::random_uuid(), "a").code(), Errc::not_found);
}

TEST_F(DbTest, ImageSaveIsOptimistic) {
  migrate();
  auto images = glint::db::make_image_repository(*pool_);
  glint::db::ImageRow img;
  img.id = glint::random_uuid();
  img.properties = {{"a", "1"}};
  img.tags = {"x"};
  ASSERT_TRUE(images->create(img).ok());
  auto first = **images->get(img.id);
  auto second = first;  // a concurrent reader of the same version
  first.name = "renamed";
  first.properties = {{"b", "2"}};
  first.tags = {"y", "z"};
  ASSERT_TRUE(images->save(first).ok());
  second.name = "lost";
  EXPECT_EQ(images->save(second).code(), Errc::conflict);  // stale: must re-read
  auto now = **images->get(img.id);
  EXPECT_EQ(now.name, "renamed");
  EXPECT_EQ(now.properties, (std::map<std::string, std::string>{{"b", "2"}}));
  EXPECT_EQ(now.tags, (std::vector<std::string>{"y", "z"}));
  EXPECT_EQ(now.updated_at, first.updated_at);
  ASSERT_TRUE(images->mark_deleted(img.id, false).ok());
  EXPECT_EQ(images->save(now).code(), Errc::not_found);
}

TEST_F(DbTest, ImageListTimeAndPropertyFilters) {
  migrate();
  auto images = glint::db::make_image_repository(*pool_);
  const auto base = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    glint::db::ImageRow img;
    img.id = glint::random_uuid();
    img.created_at = img.updated_at = base + std::chrono::hours(i);
    img.properties = {{"tier", i == 1 ? "gold" : "bronze"}};
    ASSERT_TRUE(images->create(img).ok());
    ids.push_back(img.id);
  }
  glint::db::ImageQuery q;
  q.times.push_back({"created_at", "gte", base + std::chrono::hours(1)});
  q.sort = {{"created_at", true}};
  EXPECT_EQ(ids_of(*images->list(q)), (std::vector<std::string>{ids[1], ids[2]}));
  q.properties["tier"] = "gold";
  EXPECT_EQ(ids_of(*images->list(q)), (std::vector<std::string>{ids[1]}));
  glint::db::ImageQuery bad;
  bad.times.push_back({"deleted_at", "gte", base});
  EXPECT_EQ(images->list(bad).code(), Errc::invalid);
}

TEST_F(DbTest, ImageListVisibilityScope) {
  migrate();
  auto images = glint::db::make_image_repository(*pool_);
  auto make = [&](const std::string& owner, const std::string& vis) {
    glint::db::ImageRow img;
    img.id = glint::random_uuid();
    img.owner = owner;
    img.visibility = vis;
    EXPECT_TRUE(images->create(img).ok());
    return img.id;
  };
  const auto own_private = make("projB", "private");
  const auto other_private = make("projA", "private");
  const auto other_public = make("projA", "public");
  const auto other_shared = make("projA", "shared");
  const auto other_community = make("projA", "community");
  const auto shared_accepted = make("projA", "shared");
  const auto shared_pending = make("projA", "shared");
  pool_->run([&](pqxx::connection_base& c) {
    pqxx::work w(c);
    w.exec_params("INSERT INTO image_members (image_id, member, status, created_at, updated_at) "
                  "VALUES ($1::uuid, 'projB', 'accepted', now(), now())", shared_accepted);
    w.exec_params("INSERT INTO image_members (image_id, member, status, created_at, updated_at) "
                  "VALUES ($1::uuid, 'projB', 'pending', now(), now())", shared_pending);
    w.commit();
  }).ok();
  glint::db::ImageQuery q;
  q.visible_to = "projB";
  q.sort = {{"id", true}};
  auto got = ids_of(*images->list(q));
  std::sort(got.begin(), got.end());
  std::vector<std::string> want = {own_private, other_public, shared_accepted};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);  // not: other_private, other_shared (no membership), other_community, pending
  q.member_status = "pending";  // Glance's member_status filter
  got = ids_of(*images->list(q));
  EXPECT_NE(std::find(got.begin(), got.end(), shared_pending), got.end());
  EXPECT_EQ(std::find(got.begin(), got.end(), shared_accepted), got.end());
  q.member_status = "all";
  got = ids_of(*images->list(q));
  EXPECT_NE(std::find(got.begin(), got.end(), shared_pending), got.end());
  EXPECT_NE(std::find(got.begin(), got.end(), shared_accepted), got.end());
  q.member_status = "accepted";
  q.equals["visibility"] = "community";
  EXPECT_EQ(ids_of(*images->list(q)), std::vector<std::string>{other_community});
  (void)other_private;
  (void)other_shared;
}

TEST_F(DbTest, MembersAddAcceptListRemove) {
  migrate();
  auto images = glint::db::make_image_repository(*pool_);
  auto members = glint::db::make_member_repository(*pool_);
  glint::db::ImageRow img;
  img.id = glint::random_uuid();
  img.owner = "projA";
  ASSERT_TRUE(images->create(img).ok());
  auto added = members->add(img.id, "projB");
  ASSERT_TRUE(added.ok()) << added.error().message;
  EXPECT_EQ(added->status, "pending");
  EXPECT_EQ(members->add(img.id, "projB").code(), Errc::conflict);
  EXPECT_EQ(members->add(glint::random_uuid(), "projB").code(), Errc::not_found);
  auto accepted = members->set_status(img.id, "projB", "accepted");
  ASSERT_TRUE(accepted.ok());
  EXPECT_EQ(accepted->status, "accepted");
  // An accepted member now sees the shared image in its list.
  glint::db::ImageQuery q;
  q.visible_to = "projB";
  EXPECT_EQ(ids_of(*images->list(q)), std::vector<std::string>{img.id});
  EXPECT_EQ(members->list(img.id)->size(), 1u);
  EXPECT_TRUE((*members->get(img.id, "projB")).has_value());
  EXPECT_TRUE(members->remove(img.id, "projB").ok());
  EXPECT_EQ(members->remove(img.id, "projB").code(), Errc::not_found);
  EXPECT_EQ(members->set_status(img.id, "projB", "accepted").code(), Errc::not_found);
  EXPECT_TRUE(images->list(q)->empty());
}

// ---- jobs -------------------------------------------------------------------------------------

TEST_F(DbTest, JobsAreClaimedOnceAndLeasesExpire) {
  migrate();
  auto jobs = glint::db::make_job_repository(*pool_);
  auto a = jobs->create("replicator", std::nullopt, "glintctl");
  auto b = jobs->create("replicator", std::string("node1"), "glintctl");
  auto other = jobs->create("auditor", std::nullopt, "glintctl");
  ASSERT_TRUE(a.ok() && b.ok() && other.ok());
  EXPECT_EQ(a->state, "queued");
  // Two claimers get different jobs, oldest first; a third finds nothing of its kind.
  auto c1 = jobs->claim("replicator", "w1", std::chrono::seconds(60), "n1");
  auto c2 = jobs->claim("replicator", "w2", std::chrono::seconds(1), "n1");
  ASSERT_TRUE(c1.ok() && *c1 && c2.ok() && *c2);
  EXPECT_EQ((*c1)->id, a->id);
  EXPECT_EQ((*c2)->id, b->id);
  EXPECT_EQ((*c1)->state, "running");
  EXPECT_EQ(*(*c1)->lease_owner, "w1");
  auto none = jobs->claim("replicator", "w3", std::chrono::seconds(60), "n1");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  // w2's lease runs out (it "died"); w3 takes the job over and w2 can no longer touch it.
  ASSERT_TRUE(pool_->run([&](pqxx::connection_base& c) {
    pqxx::work w(c);
    w.exec_params("UPDATE jobs SET lease_expires = now() - interval '1 second' WHERE id = $1::uuid", b->id);
    w.commit();
  }).ok());
  auto taken = jobs->claim("replicator", "w3", std::chrono::seconds(60), "n1");
  ASSERT_TRUE(taken.ok() && *taken);
  EXPECT_EQ((*taken)->id, b->id);
  EXPECT_EQ(jobs->renew(b->id, "w2", std::chrono::seconds(60), 0.5).code(), glint::Errc::conflict);
  EXPECT_EQ(jobs->finish(b->id, "w2", "done", "{}").code(), glint::Errc::conflict);
  ASSERT_TRUE(jobs->renew(b->id, "w3", std::chrono::seconds(60), 0.5).ok());
  ASSERT_TRUE(jobs->finish(b->id, "w3", "done", R"({"copied": 3})").ok());
  auto done = jobs->get(b->id);
  ASSERT_TRUE(done.ok() && *done);
  EXPECT_EQ((*done)->state, "done");
  EXPECT_DOUBLE_EQ((*done)->progress, 1.0);
  EXPECT_NE((*done)->result->find("copied"), std::string::npos);
  EXPECT_EQ(jobs->finish(a->id, "w1", "done", "not json").code(), glint::Errc::invalid);
}

TEST_F(DbTest, NodeTargetedJobsAreClaimedOnlyByThatNode) {
  migrate();
  auto jobs = glint::db::make_job_repository(*pool_);
  auto j = jobs->create("auditor", std::string("node:n2;deep"), "ops");
  ASSERT_TRUE(j.ok());
  EXPECT_FALSE((*jobs->claim("auditor", "w", std::chrono::seconds(5), "n1")).has_value());
  EXPECT_FALSE((*jobs->claim("auditor", "w", std::chrono::seconds(5), "n22")).has_value());
  auto mine = jobs->claim("auditor", "w", std::chrono::seconds(5), "n2");
  ASSERT_TRUE(mine.ok() && *mine);
  EXPECT_EQ((*mine)->id, j->id);
}

// The feed hands out an entry once every older transaction of the cluster has finished, so other
// tests' transactions can delay (never hide) it: read until `n` entries arrived or a deadline.
std::vector<glint::db::FeedEntry> settled(glint::db::HealingRepository& heal, glint::db::FeedPosition after, size_t n) {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  std::vector<glint::db::FeedEntry> out;
  while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
    auto page = heal.changes(after, 100);
    if (!page.ok()) break;
    for (const auto& e : *page) {
      out.push_back(e);
      after = e.at;
    }
  }
  return out;
}

// The replicators' change feed is written by triggers: replica rows added, removed or changing
// state and image status changes each leave one entry; a verification (no state change) none.
TEST_F(DbTest, ChangeFeedRecordsReplicaAndImageChanges) {
  migrate();
  auto nodes = glint::db::make_node_repository(*pool_);
  auto images = glint::db::make_image_repository(*pool_);
  auto replicas = glint::db::make_replica_repository(*pool_);
  auto heal = glint::db::make_healing_repository(*pool_);
  glint::db::NodeRow n;
  n.name = "n1";
  n.address = "127.0.0.1:1";
  ASSERT_TRUE(nodes->register_node(n).ok());
  glint::db::ImageRow img;
  img.id = glint::random_uuid();
  img.status = ImageStatus::active;
  ASSERT_TRUE(images->create(img).ok());
  const auto start = *heal->feed_head();
  glint::db::ReplicaRow r;
  r.image_id = img.id;
  r.node = "n1";
  r.digest = "ab";
  r.size = 3;
  ASSERT_TRUE(replicas->record_copy(r, std::nullopt).ok());  // +1 (insert)
  const auto seen = (*replicas->for_image(img.id))[0];
  ASSERT_TRUE(heal->mark_verified({{img.id, seen.version}}, "n1", true).ok());  // no state change: nothing
  ASSERT_TRUE(replicas->set_state(seen, ReplicaState::corrupt).ok());           // +1
  ASSERT_TRUE(images->transition(img.id, ImageStatus::active, ImageStatus::deactivated).ok());  // +1
  ASSERT_TRUE(replicas->forget(img.id, "n1").ok());  // +1
  const auto feed = settled(*heal, start, 4);
  ASSERT_EQ(feed.size(), 4u);
  for (const auto& e : feed) EXPECT_EQ(e.image_id, img.id);
  EXPECT_EQ((*heal->changes(feed.back().at, 100)).size(), 0u);
  EXPECT_GE(*heal->feed_head(), feed.back().at);
  // Copies: the image with its replica rows in one statement; unknown and malformed ids are skipped.
  ASSERT_TRUE(replicas->record_copy(r, std::nullopt).ok());
  auto copies = heal->copies({img.id, glint::random_uuid(), "not-a-uuid"});
  ASSERT_TRUE(copies.ok());
  ASSERT_EQ(copies->size(), 1u);
  EXPECT_EQ((*copies)[0].status, ImageStatus::deactivated);
  ASSERT_EQ((*copies)[0].replicas.size(), 1u);
  EXPECT_EQ((*copies)[0].replicas[0].digest.value_or(""), "ab");
  EXPECT_GT((*copies)[0].replicas[0].version, seen.version);
  // Checkpoints, orphans, the placement generation, flags.
  EXPECT_FALSE((*heal->checkpoint("n1", "auditor")).has_value());
  ASSERT_TRUE(heal->save_checkpoint("n1", "auditor", "42").ok());
  ASSERT_TRUE(heal->save_checkpoint("n1", "auditor", "43").ok());
  EXPECT_EQ((*heal->checkpoint("n1", "auditor")).value_or(""), "43");
  ASSERT_TRUE(heal->record_orphan("n1", img.id, 7).ok());
  ASSERT_TRUE(heal->clear_orphan("n1", img.id).ok());
  EXPECT_EQ(*heal->placement_generation(), "");
  ASSERT_TRUE(heal->set_placement_generation("g1").ok());
  ASSERT_TRUE(heal->set_placement_generation("g2").ok());
  EXPECT_EQ(*heal->placement_generation(), "g2");
  EXPECT_FALSE(*heal->is_flagged(img.id));
  ASSERT_TRUE(heal->flag_image(img.id, "copies agree, catalog differs").ok());
  ASSERT_TRUE(heal->flag_image(img.id, "again").ok());
  EXPECT_TRUE(*heal->is_flagged(img.id));
  ASSERT_EQ(heal->flagged(10)->size(), 1u);
  EXPECT_EQ(heal->flagged(10)->front().reason, "again");
  EXPECT_EQ(glint::db::cluster_counts(*pool_, 3)->flagged, 1);
  ASSERT_TRUE(heal->clear_flag(img.id).ok());
  EXPECT_TRUE(heal->flagged(10)->empty());
}

// A writer takes seq S, another takes S+1 and commits first; the first commits later. The old
// reader (seq > checkpoint, checkpoint = highest seq seen) jumps past S for ever. The feed only
// hands out entries of finished transactions, so a reader sees S, then S+1, and misses nothing.
TEST_F(DbTest, ChangeFeedNeverSkipsAWriterThatCommitsLate) {
  migrate();
  auto heal = glint::db::make_healing_repository(*pool_);
  const auto start = *heal->feed_head();
  pqxx::connection slow_c(url_), fast_c(url_);
  pqxx::work slow(slow_c);
  const std::string late = glint::random_uuid(), early = glint::random_uuid();
  const int64_t s_late = slow.exec_params1("INSERT INTO replication_log (image_id) VALUES ($1::uuid) RETURNING seq", late)[0].as<int64_t>();
  {
    pqxx::work fast(fast_c);
    fast.exec_params("INSERT INTO replication_log (image_id) VALUES ($1::uuid)", early);
    fast.commit();
  }
  // What the old reader saw at this moment: only the later seq, and it moved its checkpoint there.
  pqxx::connection probe(url_);
  int64_t legacy_checkpoint = 0;
  {
    pqxx::read_transaction t(probe);
    auto r = t.exec_params("SELECT max(seq) FROM replication_log WHERE seq > $1", start.seq);
    legacy_checkpoint = r[0][0].as<int64_t>();
  }
  EXPECT_GT(legacy_checkpoint, s_late);  // the old reader is now past the late writer's seq
  // The gap-proof feed hands out nothing yet: the early commit is not settled while the slow
  // writer (an older transaction) runs.
  auto now = heal->changes(start, 100);
  ASSERT_TRUE(now.ok());
  EXPECT_TRUE(now->empty());
  slow.commit();
  const auto later = settled(*heal, start, 2);
  ASSERT_EQ(later.size(), 2u);
  EXPECT_EQ(later[0].image_id, late);
  EXPECT_EQ(later[1].image_id, early);
  {
    pqxx::read_transaction t(probe);
    auto r = t.exec_params("SELECT count(*) FROM replication_log WHERE seq > $1", legacy_checkpoint);
    EXPECT_EQ(r[0][0].as<int64_t>(), 0);  // the old reader would never see `late`
  }
}

// Many writers commit (or roll back) in random order with random delays while a reader follows
// the feed: over thousands of transactions the reader sees every committed change exactly once
// and nothing that was rolled back.
TEST_F(DbTest, ChangeFeedReaderSeesEveryCommittedChangeUnderConcurrentWriters) {
  migrate();
  auto heal = glint::db::make_healing_repository(*pool_);
  const auto start = *heal->feed_head();
  constexpr int kWriters = 8, kPerWriter = 500;
  std::mutex mu;
  std::set<std::string> committed, rolled_back;
  std::atomic<int> writers_left{kWriters};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      pqxx::connection c(url_);
      std::mt19937 rng(static_cast<unsigned>(w * 7919 + 1));
      for (int i = 0; i < kPerWriter; ++i) {
        pqxx::work t(c);
        const std::string id = glint::random_uuid();
        t.exec_params("INSERT INTO replication_log (image_id) VALUES ($1::uuid)", id);
        // A random pause between taking the seq and committing: other writers overtake.
        if (rng() % 4 == 0) std::this_thread::sleep_for(std::chrono::microseconds(rng() % 3000));
        const bool keep = rng() % 10 != 0;
        if (keep) {
          t.commit();
        } else {
          t.abort();
        }
        std::lock_guard lk(mu);
        (keep ? committed : rolled_back).insert(id);
      }
      --writers_left;
    });
  }
  std::set<std::string> seen;
  size_t duplicates = 0, rounds = 0;
  glint::db::FeedPosition at = start;
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  for (;;) {
    const bool writers_done = writers_left.load() == 0;
    auto page = heal->changes(at, 50);
    ASSERT_TRUE(page.ok()) << page.error().message;
    ++rounds;
    for (const auto& e : *page) {
      EXPECT_GT(e.at, at);
      duplicates += !seen.insert(e.image_id).second;
      at = e.at;
    }
    if (writers_done && page->empty()) {
      // Everything of ours has finished; entries still unsettled wait only for other tests'
      // transactions (the feed is cluster-wide), so keep reading until ours are all in.
      std::lock_guard lk(mu);
      if (seen.size() >= committed.size()) break;
    }
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << seen.size() << " of " << committed.size();
  }
  for (auto& t : writers) t.join();
  EXPECT_EQ(duplicates, 0u);
  EXPECT_EQ(seen.size(), committed.size());
  EXPECT_EQ(seen, committed);
  for (const auto& id : rolled_back) EXPECT_EQ(seen.count(id), 0u);
  EXPECT_GT(rounds, 10u);
  std::cout << "feed: " << committed.size() << " committed, " << rolled_back.size() << " rolled back, "
            << rounds << " reader rounds, none missed\n";
}

TEST_F(DbTest, JobsCancelAndList) {
  migrate();
  auto jobs = glint::db::make_job_repository(*pool_);
  auto a = jobs->create("reaper", std::nullopt, "ops");
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(jobs->cancel(a->id).ok());
  EXPECT_EQ(jobs->cancel(a->id).code(), glint::Errc::conflict);
  EXPECT_EQ(jobs->cancel(glint::random_uuid()).code(), glint::Errc::not_found);
  EXPECT_FALSE((*jobs->claim("reaper", "w", std::chrono::seconds(5), "n1")).has_value());  // cancelled is not claimable
  auto b = jobs->create("reaper", std::nullopt, "ops");
  ASSERT_TRUE(b.ok());
  auto queued = jobs->list("queued", 10);
  ASSERT_TRUE(queued.ok());
  ASSERT_EQ(queued->size(), 1u);
  EXPECT_EQ(queued->front().id, b->id);
  EXPECT_EQ(jobs->list("", 10)->size(), 2u);
  EXPECT_EQ(jobs->create("", std::nullopt, "ops").code(), glint::Errc::invalid);
}
