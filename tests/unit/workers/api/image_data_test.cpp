// The data path through ApiHandler over fake storage nodes: quorum uploads, size cap, client
// aborts, failover reads, bad-replica marking and deletes. No sockets, no sleeps.
#include "workers/api/image_data.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "shared/core/uuid.hpp"
#include "shared/hash/hash.hpp"
#include "tests/support/fake_cache_repository.hpp"
#include "tests/support/fake_image_repository.hpp"
#include "tests/unit/workers/api/fake_data.hpp"
#include "workers/api/api_handler.hpp"

namespace glint::api {
namespace {

using json = nlohmann::json;

std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + i / 4099) & 0xff);
  return s;
}

class ImageDataTest : public ::testing::Test {
 protected:
  explicit ImageDataTest(DataOptions opts = {}, cache::ImageCache* cache = nullptr)
      : api_cache_(cache), data_(repo_, opts, cache) {}
  ApiOptions api_options() {
    ApiOptions o;
    o.cache = api_cache_;
    o.events = &data_.events;
    return o;
  }

  http::Request req(const std::string& method, const std::string& target) {
    http::Request r;
    r.method = method;
    r.target = r.path = target;
    r.headers.set("Host", "api.example:9292");
    r.headers.set("Accept", "application/json");
    r.request_id = "req-test";
    return r;
  }
  std::string create(const std::string& disk_format = "raw") {
    auto reply = handler_.handle_request(req("POST", "/v2/images"));
    const std::string body = R"({"name":"x","disk_format":")" + disk_format + R"(","container_format":"bare"})";
    EXPECT_TRUE(reply.sink->write(hash::as_bytes(body)).ok());
    return json::parse(reply.sink->finish().body)["id"];
  }
  // PUT …/file in chunks of `chunk` bytes; abort_after: stop after that many bytes as a client
  // that goes away would.
  http::Response upload(const std::string& id, const std::string& bytes, size_t chunk = 300000,
                        std::optional<size_t> abort_after = std::nullopt) {
    auto r = req("PUT", "/v2/images/" + id + "/file");
    r.headers.set("Content-Type", "application/octet-stream");
    r.content_length = bytes.size();
    auto reply = handler_.handle_request(r);
    if (!reply.sink) return std::move(reply.response);
    for (size_t pos = 0; pos < bytes.size(); pos += chunk) {
      if (abort_after && pos >= *abort_after) {
        reply.sink->abort();
        return http::Response{};
      }
      std::vector<std::byte> buf(reinterpret_cast<const std::byte*>(bytes.data()) + pos,
                                 reinterpret_cast<const std::byte*>(bytes.data()) + std::min(bytes.size(), pos + chunk));
      const size_t n = buf.size();
      if (Status s = reply.sink->write_owned(buf, n); !s) return reply.sink->failed(s);
    }
    auto resp = reply.sink->finish();
    // The Pg repository records the replica rows in the same transaction; the fake leaves it here.
    if (resp.status == 204) {
      for (const auto& copy : repo_.activated.back().replicas) {
        db::ReplicaRow row;
        row.image_id = id;
        row.node = copy.node;
        row.state = ReplicaState::ok;
        row.digest = copy.digest;
        row.size = static_cast<int64_t>(bytes.size());
        data_.replicas.put(row);
      }
    }
    return resp;
  }
  // GET …/file, draining the stream; status and body.
  std::pair<int, std::string> download(const std::string& id, const std::string& range = {}) {
    auto r = req("GET", "/v2/images/" + id + "/file");
    if (!range.empty()) r.headers.set("Range", range);
    auto resp = handler_.handle_request(r).response;
    std::string body = resp.body;
    if (resp.stream) {
      for (;;) {
        auto c = resp.stream->next();
        if (!c) return {-1, body};  // the server would cut the connection here
        if (c->empty()) break;
        body.append(reinterpret_cast<const char*>(c->data()), c->size());
      }
      EXPECT_EQ(body.size(), *resp.content_length);
    }
    return {resp.status, body};
  }
  json show(const std::string& id) {
    return json::parse(handler_.handle_request(req("GET", "/v2/images/" + id)).response.body);
  }
  int holders(const std::string& id) {
    int n = 0;
    for (int i = 1; i <= 3; ++i) n += data_.peer.holds("node" + std::to_string(i), id) ? 1 : 0;
    return n;
  }

  cache::ImageCache* api_cache_;
  testing::FakeImageRepository repo_;
  testing::FakeMemberRepository members_;
  testing::FakeData data_;
  metrics::Metrics metrics_;
  ApiHandler handler_{api_options(), repo_, members_, data_.data, metrics_, log::Logger::null()};
};

// The database committed the activation but its answer was lost (the connection broke during
// COMMIT). Treating that as a failure deleted every copy of what is now an active image.
TEST_F(ImageDataTest, AnActivateWhoseAnswerWasLostKeepsTheCopies) {
  const std::string id = create();
  const std::string bytes = pattern(70000);
  repo_.activate_answer_lost = true;
  auto r = upload(id, bytes);
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(show(id)["status"], "active");
  EXPECT_EQ(holders(id), 3);
  EXPECT_EQ(download(id), std::make_pair(200, bytes));
  EXPECT_NE(data_.metrics.render().find("glint_api_commit_in_doubt_total 1"), std::string::npos);
}

// When the database cannot even be asked afterwards, nothing is deleted: the outcome is unknown.
TEST_F(ImageDataTest, AnActivateInDoubtWithTheDatabaseGoneDeletesNothing) {
  const std::string id = create();
  repo_.activate_answer_lost = true;
  repo_.unavailable_after_activate = true;
  auto r = upload(id, pattern(70000));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(holders(id), 3);
  repo_.unavailable = false;
  EXPECT_EQ(show(id)["status"], "active");  // it had committed after all
}

TEST_F(ImageDataTest, UploadWritesEveryPlacedNodeAndRecordsDigests) {
  const std::string id = create();
  const std::string bytes = pattern(3 << 20);
  auto r = upload(id, bytes);
  ASSERT_EQ(r.status, 204) << r.body;
  auto img = show(id);
  EXPECT_EQ(img["status"], "active");
  EXPECT_EQ(img["size"], bytes.size());
  EXPECT_EQ(img["virtual_size"], bytes.size());  // raw
  hash::Digester md5("md5"), sha("sha512");
  md5.update(hash::as_bytes(bytes));
  sha.update(hash::as_bytes(bytes));
  EXPECT_EQ(img["checksum"], md5.finish_hex());
  EXPECT_EQ(img["os_hash_algo"], "sha512");
  EXPECT_EQ(img["os_hash_value"], sha.finish_hex());
  ASSERT_EQ(repo_.activated.size(), 1u);
  EXPECT_EQ(repo_.activated[0].replicas.size(), 3u);
  EXPECT_EQ(holders(id), 3);
  EXPECT_EQ(download(id), std::make_pair(200, bytes));
  EXPECT_EQ(data_.events.count("image.uploaded"), 1u);  // the replicator's doorbell
}

TEST_F(ImageDataTest, OneNodeDownStillMakesTheQuorum) {
  data_.peer.set_down("node2", true);
  const std::string id = create();
  ASSERT_EQ(upload(id, pattern(1 << 20)).status, 204);
  EXPECT_EQ(repo_.activated.at(0).replicas.size(), 2u);
  EXPECT_FALSE(data_.peer.holds("node2", id));
}

TEST_F(ImageDataTest, TwoNodesDownFailsWith503AndRequeues) {
  data_.peer.set_down("node1", true);
  data_.peer.set_down("node3", true);
  const std::string id = create();
  auto r = upload(id, pattern(2 << 20));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(show(id)["status"], "queued");
  EXPECT_EQ(holders(id), 0);  // what node2 took was removed
}

TEST_F(ImageDataTest, NodeBreakingMidStreamIsDroppedNotFatal) {
  data_.peer.set_cut_after("node1", 500000);
  const std::string id = create();
  ASSERT_EQ(upload(id, pattern(2 << 20)).status, 204);
  EXPECT_EQ(repo_.activated.at(0).replicas.size(), 2u);
}

TEST_F(ImageDataTest, ClientAbortRequeuesAndRemovesPartialCopies) {
  const std::string id = create();
  upload(id, pattern(4 << 20), 300000, 1 << 20);
  EXPECT_EQ(show(id)["status"], "queued");
  EXPECT_EQ(holders(id), 0);
  // and the image can be uploaded again
  EXPECT_EQ(upload(id, pattern(1000)).status, 204);
}

// A qcow2 header (version 3, 64 KiB clusters, 1 GiB) naming a backing file, then data.
std::string qcow2_with_backing_file(size_t total) {
  std::string s(total, '\0');
  const unsigned char head[] = {'Q', 'F', 'I', 0xfb, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0x01, 0x20, 0, 0, 0, 9, 0, 0, 0, 16,
                                0, 0, 0, 0x40, 0, 0, 0, 0};
  std::copy(std::begin(head), std::end(head), s.begin());
  s[103] = 104;  // header_length
  s.replace(0x120, 9, "/etc/host");
  return s;
}

TEST_F(ImageDataTest, UnsafeDataIsRefusedAtItsHeaderAndNothingIsKept) {
  const std::string id = create("qcow2");
  auto r = upload(id, qcow2_with_backing_file(4 << 20), 65536);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("Image data failed the format safety check: qcow2 image has a backing file."), std::string::npos)
      << r.body;
  EXPECT_EQ(show(id)["status"], "queued");
  EXPECT_EQ(holders(id), 0);
  // Declared as something else, the same bytes are refused all the same.
  const std::string other = create("ami");
  EXPECT_EQ(upload(other, qcow2_with_backing_file(70000)).status, 400);
  EXPECT_EQ(show(other)["status"], "queued");
}

TEST_F(ImageDataTest, DataThatIsNotItsDiskFormatIsRefusedAndRequeued) {
  const std::string id = create("qcow2");
  auto r = upload(id, pattern(200000));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("Image data does not match disk_format qcow2: it was detected as raw."), std::string::npos)
      << r.body;
  EXPECT_EQ(show(id)["status"], "queued");
  EXPECT_EQ(holders(id), 0);
  // A fixed VHD looks raw until its last sector: refused as raw at the end of the upload.
  std::string vhd = pattern(100000);
  std::string footer(512, '\0');
  footer.replace(0, 8, "conectix");
  footer[53] = 0x10;  // current size 0x100000 (big-endian at 48)
  footer[63] = 2;     // fixed
  const std::string raw_id = create("raw");
  EXPECT_EQ(upload(raw_id, vhd + footer).status, 400);
  const std::string vhd_id = create("vhd");
  ASSERT_EQ(upload(vhd_id, vhd + footer).status, 204);
  EXPECT_EQ(show(vhd_id)["virtual_size"], 0x100000);
}

TEST_F(ImageDataTest, SecondUploadIsRefusedLikeGlance) {
  const std::string id = create();
  ASSERT_EQ(upload(id, pattern(1000)).status, 204);
  auto r = upload(id, pattern(1000));
  EXPECT_EQ(r.status, 409);
  EXPECT_NE(r.body.find("Image status transition from active to saving is not allowed"), std::string::npos);
}

TEST_F(ImageDataTest, ZeroByteUploadIsActiveWithNoVirtualSize) {
  const std::string id = create();
  ASSERT_EQ(upload(id, "").status, 204);
  auto img = show(id);
  EXPECT_EQ(img["status"], "active");
  EXPECT_EQ(img["size"], 0);
  EXPECT_EQ(img["virtual_size"], nullptr);
  EXPECT_EQ(download(id), std::make_pair(200, std::string()));
}

TEST_F(ImageDataTest, RangesAsGlance) {
  const std::string id = create();
  const std::string bytes = pattern(4096);
  ASSERT_EQ(upload(id, bytes).status, 204);
  EXPECT_EQ(download(id, "bytes=0-9"), std::make_pair(206, bytes.substr(0, 10)));
  EXPECT_EQ(download(id, "bytes=4090-"), std::make_pair(206, bytes.substr(4090)));
  EXPECT_EQ(download(id, "bytes=-6"), std::make_pair(206, bytes.substr(4090)));
  auto [status, body] = download(id, "bytes=5000-6000");
  EXPECT_EQ(status, 416);
  EXPECT_NE(body.find("Start position MUST be in the inclusive range [0, 4095]"), std::string::npos);
}

TEST_F(ImageDataTest, DownloadFailsOverMidStreamAtTheSameOffset) {
  const std::string id = create();
  const std::string bytes = pattern(3 << 20);
  ASSERT_EQ(upload(id, bytes).status, 204);
  // Every node breaks at a different point; together they still deliver everything.
  data_.peer.set_cut_after("node1", 1100000);
  data_.peer.set_cut_after("node2", 1200000);
  data_.peer.set_cut_after("node3", 1300000);
  auto [status, body] = download(id);
  EXPECT_EQ(status, 200);
  EXPECT_TRUE(body == bytes);
  // Unreachable nodes are not blamed: their copies stay ok.
  for (int i = 1; i <= 3; ++i) EXPECT_EQ(data_.replicas.state(id, "node" + std::to_string(i)), "ok");
}

TEST_F(ImageDataTest, CorruptCopiesAreSkippedAndMarked) {
  const std::string id = create();
  const std::string bytes = pattern(2 << 20);
  ASSERT_EQ(upload(id, bytes).status, 204);
  // Each copy turns out bad after 1 MB: the first two read are quarantined, the third finishes.
  data_.peer.corrupt_on_cut = {"node1", "node2", "node3"};
  for (int i = 1; i <= 3; ++i) data_.peer.set_cut_after("node" + std::to_string(i), 1000000);
  auto [status, body] = download(id);
  EXPECT_EQ(status, 200);
  EXPECT_TRUE(body == bytes);
  int corrupt = 0, ok = 0;
  for (int i = 1; i <= 3; ++i) {
    const std::string st = data_.replicas.state(id, "node" + std::to_string(i));
    corrupt += st == "corrupt";
    ok += st == "ok";
  }
  EXPECT_EQ(corrupt, 2);
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(data_.events.count("replica.bad"), 2u);
}

TEST_F(ImageDataTest, NoReadableReplicaIs503BeforeTheFirstByte) {
  const std::string id = create();
  ASSERT_EQ(upload(id, pattern(5000)).status, 204);
  for (int i = 1; i <= 3; ++i) data_.peer.set_down("node" + std::to_string(i), true);
  EXPECT_EQ(download(id).first, 503);
  EXPECT_EQ(data_.replicas.state(id, "node1"), "ok");  // a down node is not a bad copy
}

TEST_F(ImageDataTest, MissingCopiesAreMarkedMissing) {
  const std::string id = create();
  ASSERT_EQ(upload(id, pattern(5000)).status, 204);
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(data_.peer.remove({"node" + std::to_string(i), "127.0.0.1", 1}, id, "*").ok());
  EXPECT_EQ(download(id).first, 503);
  for (int i = 1; i <= 3; ++i) EXPECT_EQ(data_.replicas.state(id, "node" + std::to_string(i)), "missing");
}

TEST_F(ImageDataTest, DeleteRemovesCopiesAndRecordsUnreachableOnes) {
  const std::string id = create();
  ASSERT_EQ(upload(id, pattern(5000)).status, 204);
  data_.peer.set_down("node3", true);
  EXPECT_EQ(handler_.handle_request(req("DELETE", "/v2/images/" + id)).response.status, 204);
  EXPECT_FALSE(data_.peer.holds("node1", id));
  EXPECT_FALSE(data_.peer.holds("node2", id));
  EXPECT_EQ(data_.replicas.state(id, "node1"), "none");
  EXPECT_EQ(data_.replicas.state(id, "node3"), "excess");  // left for the reaper
  EXPECT_EQ(data_.events.count("image.deleted"), 1u);
}

class SmallCapTest : public ImageDataTest {
 protected:
  static DataOptions opts() {
    DataOptions o;
    o.image_size_cap = 1 << 20;
    o.delayed_delete = true;
    return o;
  }
  SmallCapTest() : ImageDataTest(opts()) {}
};

TEST_F(SmallCapTest, OverTheCapIs413AndRequeued) {
  const std::string id = create();
  auto r = upload(id, pattern((1 << 20) + 1));
  EXPECT_EQ(r.status, 413);
  EXPECT_NE(r.body.find("The incoming image is too large"), std::string::npos);
  EXPECT_EQ(show(id)["status"], "queued");
  EXPECT_EQ(holders(id), 0);
}

TEST_F(SmallCapTest, DelayedDeleteKeepsTheData) {
  const std::string id = create();
  ASSERT_EQ(upload(id, pattern(1000)).status, 204);
  EXPECT_EQ(handler_.handle_request(req("DELETE", "/v2/images/" + id)).response.status, 204);
  EXPECT_EQ(handler_.handle_request(req("GET", "/v2/images/" + id)).response.status, 404);
  EXPECT_EQ(holders(id), 3);  // the reaper's job
}

// A cache directory for the download tests below; a base so that it exists before the data path.
struct CacheHolder {
  // Filled by downloads only unless fill_on_upload: most tests below are about misses.
  explicit CacheHolder(uint64_t max_size = 10ull << 30, bool fill_on_upload = false) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "glint-apicache-XXXXXX").string();
    EXPECT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir = tmpl;
    cache::CacheOptions o;
    o.dir = dir;
    o.node = "api1";
    o.block_size = 64 * 1024;
    o.max_size = max_size;
    o.fill_on_upload = fill_on_upload;
    auto c = cache::ImageCache::open(o, rows, metrics, log::Logger::null());
    EXPECT_TRUE(c.ok());
    if (c) cache = std::move(*c);
  }
  ~CacheHolder() {
    cache.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string dir;
  testing::FakeCacheRepository rows;
  metrics::Metrics metrics;
  std::unique_ptr<cache::ImageCache> cache;
};

class CachedDownloadTest : public CacheHolder, public ImageDataTest {
 protected:
  explicit CachedDownloadTest(uint64_t max_size = 10ull << 30, bool fill_on_upload = false)
      : CacheHolder(max_size, fill_on_upload), ImageDataTest({}, cache.get()) {}
  bool cached_soon(const std::string& id) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      // The file is published before its row is written: both, for the tests that read rows.
      auto ids = cache->cached_ids();
      auto nodes = rows.nodes_caching(id);
      if (std::find(ids.begin(), ids.end(), id) != ids.end() && nodes.ok() && !nodes->empty()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return false;
  }
  void all_nodes(bool down) {
    for (int i = 1; i <= 3; ++i) data_.peer.set_down("node" + std::to_string(i), down);
  }
};

TEST_F(CachedDownloadTest, AHotImageDownloadsFromTheCacheWithEveryNodeDownAnUncachedOneIs503) {
  const std::string bytes = pattern(300000);
  const std::string hot = create(), cold = create();
  ASSERT_EQ(upload(hot, bytes).status, 204);
  ASSERT_EQ(upload(cold, bytes).status, 204);
  EXPECT_EQ(download(hot), std::make_pair(200, bytes));  // a miss: fetched into the cache
  ASSERT_TRUE(cached_soon(hot));
  all_nodes(true);
  EXPECT_EQ(download(hot), std::make_pair(200, bytes));
  EXPECT_EQ(download(hot, "bytes=70000-70009"), std::make_pair(206, bytes.substr(70000, 10)));
  EXPECT_EQ(download(cold).first, 503);
  EXPECT_EQ(rows.nodes_caching(hot)->size(), 1u);
}

TEST_F(CachedDownloadTest, ADeactivatedImageIsNeverServedFromTheCache) {
  const std::string bytes = pattern(200000);
  const std::string id = create();
  ASSERT_EQ(upload(id, bytes).status, 204);
  EXPECT_EQ(download(id), std::make_pair(200, bytes));
  ASSERT_TRUE(cached_soon(id));
  ASSERT_TRUE(repo_.transition(id, ImageStatus::active, ImageStatus::deactivated).ok());
  all_nodes(true);
  EXPECT_EQ(download(id).first, 503);  // (admins may download it: from the nodes only)
}

TEST_F(CachedDownloadTest, ACopyRemadeWithOtherBytesIsNotServedFromTheOldEntry) {
  const std::string bytes = pattern(200000);
  const std::string id = create();
  ASSERT_EQ(upload(id, bytes).status, 204);
  EXPECT_EQ(download(id), std::make_pair(200, bytes));
  ASSERT_TRUE(cached_soon(id));
  for (int i = 1; i <= 3; ++i)
    data_.replicas.tamper(id, "node" + std::to_string(i), [](db::ReplicaRow& r) { r.digest = std::string(32, 'a'); });
  all_nodes(true);
  EXPECT_EQ(download(id).first, 503);
  EXPECT_TRUE(cache->cached_ids().empty());
}

// The cache API as glanceclient calls it: queue (every node), list, nodes, delete, clear.
TEST_F(CachedDownloadTest, TheCacheApiQueuesListsDeletesAndClearsAsGlance) {
  auto call = [&](const std::string& method, const std::string& target, const std::string& clear = {}) {
    auto r = req(method, target);
    if (!clear.empty()) r.headers.set("x-image-cache-clear-target", clear);
    return handler_.handle_request(r).response;
  };
  const std::string bytes = pattern(150000);
  const std::string id = create(), queued_only = create();
  EXPECT_EQ(call("PUT", "/v2/cache/" + queued_only).status, 400);  // not active yet
  ASSERT_EQ(upload(id, bytes).status, 204);
  ASSERT_EQ(upload(queued_only, bytes).status, 204);
  EXPECT_EQ(call("PUT", "/v2/cache/" + random_uuid()).status, 404);
  EXPECT_EQ(call("PUT", "/v2/cache/not-an-id").status, 404);
  EXPECT_EQ(call("PUT", "/v2/cache/" + queued_only).status, 202);
  EXPECT_EQ(data_.events.count("cache.queue"), 1u);
  auto state = json::parse(call("GET", "/v2/cache").body);
  EXPECT_EQ(state["queued_images"], json::array({queued_only}));
  EXPECT_EQ(state["cached_images"], json::array());

  EXPECT_EQ(download(id), std::make_pair(200, bytes));
  ASSERT_TRUE(cached_soon(id));
  state = json::parse(call("GET", "/v2/cache").body);
  ASSERT_EQ(state["cached_images"].size(), 1u);
  EXPECT_EQ(state["cached_images"][0]["image_id"], id);
  EXPECT_EQ(state["cached_images"][0]["size"], bytes.size());
  EXPECT_EQ(json::parse(call("GET", "/v2/cache/nodes/" + id).body)["nodes"], json::array({"api1"}));

  EXPECT_EQ(call("DELETE", "/v2/cache", "everything").status, 400);
  auto cleared = call("DELETE", "/v2/cache", "queue");
  EXPECT_EQ(cleared.status, 204);  // as Glance (and tempest) has it
  EXPECT_TRUE(cleared.body.empty());
  EXPECT_TRUE(json::parse(call("GET", "/v2/cache").body)["queued_images"].empty());
  EXPECT_EQ(call("DELETE", "/v2/cache/" + id).status, 204);
  EXPECT_TRUE(cache->cached_ids().empty());
  EXPECT_EQ(call("DELETE", "/v2/cache/" + random_uuid()).status, 404);
  EXPECT_EQ(call("POST", "/v2/cache").status, 405);

  // What the prefetcher does on its schedule, on demand (v2.18), and the versions that say so.
  auto cleaned = call("POST", "/v2/cache/clean");
  EXPECT_EQ(cleaned.status, 200);
  EXPECT_EQ(json::parse(cleaned.body)["cleaned_files"], 0);
  auto pruned = call("POST", "/v2/cache/prune");
  EXPECT_EQ(pruned.status, 200);
  EXPECT_EQ(json::parse(pruned.body)["pruned_files"], 0);
  EXPECT_EQ(call("GET", "/v2/cache/prune").status, 405);
  auto versions = json::parse(call("GET", "/versions").body)["versions"];
  EXPECT_EQ(versions[0]["id"], "v2.18");
  EXPECT_EQ(versions[0]["status"], "CURRENT");
}

class UploadWarmedTest : public CachedDownloadTest {
 protected:
  UploadWarmedTest() : CachedDownloadTest(10ull << 30, true) {}
};

// The API node that took an upload serves the first download from its cache (as Glance serves its
// just-written file); an upload that fails leaves nothing in the cache.
TEST_F(UploadWarmedTest, AnUploadFillsTheCacheOnlyWhenItSucceeds) {
  const std::string bytes = pattern(300000);
  const std::string id = create();
  ASSERT_EQ(upload(id, bytes).status, 204);
  EXPECT_EQ(cache->cached_ids(), std::vector<std::string>{id});  // no download yet
  EXPECT_EQ(rows.nodes_caching(id)->size(), 1u);
  all_nodes(true);
  EXPECT_EQ(download(id), std::make_pair(200, bytes));
  EXPECT_EQ(download(id, "bytes=1000-1009"), std::make_pair(206, bytes.substr(1000, 10)));
  all_nodes(false);

  const std::string failed = create();
  data_.peer.set_down("node1", true);
  data_.peer.set_down("node2", true);  // below the write quorum: 503, back to queued
  EXPECT_EQ(upload(failed, bytes).status, 503);
  all_nodes(false);
  EXPECT_EQ(cache->cached_ids(), std::vector<std::string>{id});
}

// Room for one image of 120000 bytes: the second fills over max_size (soft), prune brings it back.
class SmallCachedDownloadTest : public CachedDownloadTest {
 protected:
  SmallCachedDownloadTest() : CachedDownloadTest(150000) {}
};

// Prune on demand: least recently used first, down to max_size.
TEST_F(SmallCachedDownloadTest, PruneOnDemandRemovesTheLeastRecentlyUsedDownToMaxSize) {
  const std::string bytes = pattern(120000);
  const std::string old_one = create(), new_one = create();
  ASSERT_EQ(upload(old_one, bytes).status, 204);
  ASSERT_EQ(upload(new_one, bytes).status, 204);
  EXPECT_EQ(download(old_one), std::make_pair(200, bytes));
  ASSERT_TRUE(cached_soon(old_one));
  EXPECT_EQ(download(new_one), std::make_pair(200, bytes));
  ASSERT_TRUE(cached_soon(new_one));
  EXPECT_EQ(download(new_one), std::make_pair(200, bytes));  // a hit: new_one is the recent one
  auto pruned = handler_.handle_request(req("POST", "/v2/cache/prune")).response;
  ASSERT_EQ(pruned.status, 200);
  EXPECT_EQ(json::parse(pruned.body)["pruned_files"], 1);
  EXPECT_EQ(json::parse(pruned.body)["pruned_bytes"], bytes.size());
  EXPECT_EQ(cache->cached_ids(), std::vector<std::string>{new_one});
}

TEST_F(CachedDownloadTest, DeletingOrDeactivatingAnImageDropsItFromThisNodesCache) {
  const std::string bytes = pattern(100000);
  const std::string a = create(), b = create();
  ASSERT_EQ(upload(a, bytes).status, 204);
  ASSERT_EQ(upload(b, bytes).status, 204);
  EXPECT_EQ(download(a), std::make_pair(200, bytes));
  EXPECT_EQ(download(b), std::make_pair(200, bytes));
  ASSERT_TRUE(cached_soon(a));
  ASSERT_TRUE(cached_soon(b));
  EXPECT_EQ(handler_.handle_request(req("DELETE", "/v2/images/" + a)).response.status, 204);
  EXPECT_EQ(handler_.handle_request(req("POST", "/v2/images/" + b + "/actions/deactivate")).response.status, 204);
  EXPECT_TRUE(cache->cached_ids().empty());
}

}  // namespace
}  // namespace glint::api
