// The fixture of the data-path tests: ApiHandler over fake storage nodes (tests/support's fake
// cluster), with helpers to create, upload, download and show images; and a cache directory for
// the cached-download tests. No sockets, no sleeps.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "shared/core/uuid.hpp"
#include "shared/hash/hash.hpp"
#include "tests/support/fake_cache_repository.hpp"
#include "tests/support/fake_image_repository.hpp"
#include "tests/support/process.hpp"
#include "tests/unit/workers/api/fake_data.hpp"
#include "workers/api/api_handler.hpp"
#include "workers/api/image_data.hpp"

namespace glint::api::test {

using json = nlohmann::json;

inline std::string pattern(size_t n) {
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

// A cache directory for the download tests below; a base so that it exists before the data path.
struct CacheHolder {
  // Filled by downloads only unless fill_on_upload: most tests below are about misses.
  explicit CacheHolder(uint64_t max_size = 10ull << 30, bool fill_on_upload = false) {
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
  ~CacheHolder() { cache.reset(); }  // before its directory goes
  testing::TempDir tmp{"glint-apicache"};
  const std::string dir = tmp.path();
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

}  // namespace glint::api::test
