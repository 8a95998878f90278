// The auditor over a real data directory and a real database: the quick pass finds a missing blob
// and an orphan, the deep pass finds a flipped byte (quarantined, replica corrupt, replica.bad),
// verifies the rest oldest-first, a blob that disagrees only with the catalog is cross-checked
// instead of quarantined, and a stopped deep pass resumes where it stopped.
#include "workers/auditor/auditor.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include <pqxx/pqxx>

#include "shared/core/uuid.hpp"
#include "shared/db/migrations.hpp"
#include "shared/db/pool.hpp"
#include "shared/worker/rate_limiter.hpp"
#include "tests/support/pg.hpp"
#include "tests/support/process.hpp"
#include "tests/support/recording_publisher.hpp"

namespace glint::auditor {
namespace {

class AuditorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::admin_database_url()) GTEST_SKIP() << "no PostgreSQL";
    db::PoolOptions po;
    po.url = url_ = testing::fresh_database_url("auditor");
    pool_ = std::make_unique<db::Pool>(po);
    ASSERT_TRUE(db::migrate(*pool_).ok());
    heal_ = db::make_healing_repository(*pool_);
    replicas_ = db::make_replica_repository(*pool_);
    images_ = db::make_image_repository(*pool_);
    jobs_ = db::make_job_repository(*pool_);
    db::NodeRow n;
    n.name = "n1";
    n.address = "127.0.0.1:1";
    ASSERT_TRUE(db::make_node_repository(*pool_)->register_node(n).ok());
    blob::FsOptions fs;
    fs.data_dir = dir_ / "data";
    fs.block_size = 4096;
    fs.fsync = false;
    fs.direct_io = false;
    auto store = blob::open_fs_store(fs);
    ASSERT_TRUE(store.ok());
    owner_ = std::move(*store);  // glint-store's side: writes
    fs.shared = true;
    auto shared = blob::open_fs_store(fs);  // the auditor's side, beside it
    ASSERT_TRUE(shared.ok()) << shared.error().message;
    blobs_ = std::move(*shared);
  }

  // An active image whose bytes are stored on n1 with an ok replica row; returns its id.
  std::string add_image(size_t size, bool with_row = true) {
    const std::string id = random_uuid();
    std::string bytes(size, '\0');
    for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>((i * 31 + size) & 0xff);
    auto w = owner_->create(id, size);
    EXPECT_TRUE(w.ok());
    EXPECT_TRUE((*w)->write(hash::as_bytes(bytes)).ok());
    auto info = (*w)->commit();
    EXPECT_TRUE(info.ok());
    if (!with_row) return id;
    db::ImageRow img;
    img.id = id;
    EXPECT_TRUE(images_->create(img).ok());
    hash::ImageHasher h("sha512");
    h.update(hash::as_bytes(bytes));
    const auto digests = h.finish();
    db::UploadedData up;
    up.image_id = id;
    up.size = static_cast<int64_t>(size);
    up.checksum = digests.checksum;
    up.os_hash_algo = "sha512";
    up.os_hash_value = digests.os_hash_value;
    up.replicas = {{"n1", hash::digest_hex(info->digest)}};
    EXPECT_TRUE(images_->transition(id, ImageStatus::queued, ImageStatus::saving).ok());
    EXPECT_TRUE(images_->activate(up).ok());
    return id;
  }
  std::string data_path(const std::string& id) {
    return std::string(dir_ / "data") + "/objects/" + id.substr(0, 2) + "/" + id.substr(2, 2) + "/" + id;
  }
  std::string state_of(const std::string& id) {
    auto rows = replicas_->for_image(id);
    return rows.ok() && !rows->empty() ? to_string(rows->front().state) : "none";
  }
  Auditor make(bool deep) {
    return Auditor(AuditorOptions{"n1", deep, std::chrono::hours(1), 2}, *blobs_, *heal_, *replicas_, *jobs_, events_,
                   metrics_, clock_);
  }
  // What a restored (older) database would say about an image: another digest or os_hash.
  void rewrite_catalog(const std::string& sql, const std::string& id) {
    pqxx::connection c(url_);
    pqxx::work w(c);
    w.exec_params(sql, id);
    w.commit();
  }

  testing::TempDir dir_{"glint-auditor-it"};
  std::string url_;
  std::unique_ptr<db::Pool> pool_;
  std::unique_ptr<db::HealingRepository> heal_;
  std::unique_ptr<db::ReplicaRepository> replicas_;
  std::unique_ptr<db::ImageRepository> images_;
  std::unique_ptr<db::JobRepository> jobs_;
  std::unique_ptr<blob::BlobStore> owner_, blobs_;
  testing::RecordingPublisher events_;
  metrics::Metrics metrics_;
  SystemClock clock_;
  worker::PassContext ctx_;
};

TEST_F(AuditorTest, QuickPassFindsMissingBlobsAndOrphans) {
  const std::string keep = add_image(10000);
  const std::string gone = add_image(5000);
  const std::string orphan = add_image(3000, /*with_row=*/false);
  ASSERT_EQ(std::remove(data_path(gone).c_str()), 0);
  auto quick = make(false);
  auto r = quick.run_once(ctx_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->items, 2u);
  EXPECT_EQ(state_of(keep), "ok");
  EXPECT_EQ(state_of(gone), "missing");
  EXPECT_EQ(events_.count("replica.bad"), 1u);
  EXPECT_NE(r->summary.find("orphans=1"), std::string::npos) << r->summary;
  EXPECT_NE(metrics_.render().find("glint_auditor_found_total{kind=\"orphan\"} 1"), std::string::npos);
  // Never deleted here: the orphan's file is still there.
  EXPECT_TRUE(blobs_->stat(orphan).ok());
}

TEST_F(AuditorTest, DeepPassQuarantinesAFlippedByteAndVerifiesTheRest) {
  const std::string good = add_image(20000);
  const std::string bad = add_image(20000);
  {
    std::fstream f(data_path(bad), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(12345);
    f.put('\x5a');
  }
  auto deep = make(true);
  auto r = deep.run_once(ctx_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->items, 2u);
  EXPECT_EQ(r->bytes, 20000u + 12288u) << "the bad blob is read up to its bad block";
  EXPECT_EQ(state_of(bad), "corrupt");
  EXPECT_EQ(blobs_->stat(bad).code(), Errc::not_found);  // out of service: in quarantine
  EXPECT_EQ(events_.count("replica.bad"), 1u);
  auto rows = replicas_->for_image(good);
  ASSERT_TRUE(rows.ok() && !rows->empty());
  EXPECT_TRUE(rows->front().verified_at.has_value());
  // The upload hashed these bytes moments ago: os_hash is not due yet.
  EXPECT_NE(r->summary.find("os_hash_checked=0"), std::string::npos) << r->summary;
  // Everything verified since the pass began: the next pass starts afresh and verifies again; an
  // operator's deep audit (job target ";deep") recomputes os_hash as well.
  worker::PassContext forced;
  forced.job_target = JobTarget::node("n1", false, true);
  auto again = deep.run_once(forced);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->items, 1u);
  EXPECT_NE(again->summary.find("os_hash_checked=1"), std::string::npos) << again->summary;
}

// A blob that agrees with itself but not with the catalog is not proven corrupt (the catalog may be
// the wrong one): it stays in service, and a repair job compares it with the other copies.
TEST_F(AuditorTest, ACatalogMismatchIsCrossCheckedNotQuarantined) {
  const std::string by_digest = add_image(9000);
  const std::string by_hash = add_image(9000);
  rewrite_catalog("UPDATE replicas SET digest = '00000000000000000000000000000000' WHERE image_id = $1::uuid", by_digest);
  rewrite_catalog("UPDATE images SET os_hash_value = repeat('0', 128) WHERE id = $1::uuid", by_hash);
  auto deep = make(true);
  worker::PassContext forced;  // os_hash is checked on an operator's deep audit
  forced.job_target = JobTarget::node("n1", false, true);
  auto r = deep.run_once(forced);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_NE(r->summary.find("catalog_mismatch=2"), std::string::npos) << r->summary;
  for (const auto& id : {by_digest, by_hash}) {
    EXPECT_EQ(state_of(id), "ok") << id;
    EXPECT_TRUE(blobs_->stat(id).ok()) << "never quarantined on the catalog's word: " << id;
  }
  EXPECT_EQ(events_.count("replica.bad"), 0u);
  auto jobs = jobs_->list("queued", 10);
  ASSERT_TRUE(jobs.ok());
  std::set<std::string> targets;
  for (const auto& j : *jobs) {
    EXPECT_EQ(j.kind, "replicator");
    targets.insert(j.target.value_or(""));
  }
  EXPECT_EQ(targets, (std::set<std::string>{"image:" + by_digest, "image:" + by_hash}));
  EXPECT_EQ(events_.count("job.queued"), 2u);
  EXPECT_NE(metrics_.render().find("glint_auditor_found_total{kind=\"catalog_mismatch\"} 2"), std::string::npos);
  // Audited again before the repair ran: the same job, not a second one.
  auto again = deep.run_once(forced);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(jobs_->list("queued", 10)->size(), 2u);
  // The quick pass treats a size that only the catalog disagrees with the same way.
  rewrite_catalog("UPDATE replicas SET size = 1 WHERE image_id = $1::uuid", by_digest);
  auto quick = make(false);
  auto q = quick.run_once(ctx_);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(state_of(by_digest), "ok");
  EXPECT_TRUE(blobs_->stat(by_digest).ok());
}

TEST_F(AuditorTest, AStoppedDeepPassResumesWithWhatItHadNotVerified) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(add_image(4096 * 3));
  worker::StopSource stop;
  int seen = 0;
  worker::PassContext ctx;
  ctx.stop = stop.token();
  ctx.progress = [&](uint64_t done, uint64_t) {
    if (++seen == 2 && done == 2) stop.stop();
  };
  auto deep = make(true);
  auto first = deep.run_once(ctx);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->items, 2u);
  auto rest = deep.run_once(ctx_);  // a new process would do the same: the start time is a checkpoint
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->items, 3u);
}

// The deep pass reads no faster than its bytes/s budget: 6 MiB at 4 MiB/s (bursts of a tenth of a
// second, as worker_main sets them) take 1.5 s, within ±10% (real clock: this is a rate test).
TEST_F(AuditorTest, DeepPassHoldsItsByteRate) {
  for (int i = 0; i < 3; ++i) add_image(2 << 20);
  const double rate = 4 << 20;
  worker::TokenBucket bucket(rate, rate / 10, clock_);
  (void)bucket.reserve(rate / 10);  // start empty: the burst is not part of the measured rate
  worker::PassContext ctx;
  ctx.bytes = &bucket;
  auto deep = make(true);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = deep.run_once(ctx);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->bytes, 3u << 21);
  const double measured = static_cast<double>(r->bytes) / secs;
  EXPECT_GT(measured, rate * 0.9) << secs << " s";
  EXPECT_LT(measured, rate * 1.1) << secs << " s";
}

}  // namespace
}  // namespace glint::auditor
