// Downloads through a node's image cache over fake storage nodes: hits with every node down,
// deactivated and re-made images never served from the cache, the cache API, warm on upload,
// prune, and invalidation on delete. No sockets.
#include "tests/unit/workers/api/image_data_fixture.hpp"

namespace glint::api::test {
namespace {

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
}  // namespace glint::api::test
