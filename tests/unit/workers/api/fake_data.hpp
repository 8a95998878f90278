// The data path of glint-api over the in-memory cluster of tests/support/fake_cluster.hpp:
// three live nodes, fake peers, and the ImageData under test. Declare it after the image repository.
#pragma once
#include "shared/core/clock.hpp"
#include "tests/support/fake_cluster.hpp"
#include "tests/support/recording_publisher.hpp"
#include "workers/api/image_data.hpp"

namespace glint::testing {

struct FakeData {
  explicit FakeData(db::ImageRepository& images, api::DataOptions opts = {}, cache::ImageCache* cache = nullptr)
      : data(quick(opts), images, nodes, replicas, peer, events, metrics, clock, log::Logger::null(), cache) {
    for (int i = 1; i <= 3; ++i) nodes.add_live(i);
    // As the database does: copies are recorded only for images that keep data.
    replicas.keeps_data = [&images](const std::string& id) {
      auto img = images.get(id);
      return img && *img && keeps_data((*img)->status);
    };
  }
  // Re-reads after a commit in doubt back off by a millisecond here, not 100 ms.
  static api::DataOptions quick(api::DataOptions o) {
    o.doubt_backoff = std::chrono::milliseconds(1);
    return o;
  }
  FakeNodeRepository nodes;
  FakeReplicaRepository replicas;
  FakeBlobPeer peer;
  RecordingPublisher events;
  SystemClock clock;
  metrics::Metrics metrics;
  api::ImageData data;
};

}  // namespace glint::testing
