// The data path of glint-api over the in-memory cluster of tests/support/fake_cluster.hpp:
// three live nodes, fake peers, and the ImageData under test. Declare it after the image repository.
#pragma once
#include "shared/core/clock.hpp"
#include "tests/support/fake_cluster.hpp"
#include "tests/support/recording_publisher.hpp"
#include "workers/api/image_data.hpp"

namespace glint::testing {

struct FakeData {
  explicit FakeData(db::ImageRepository& images, api::DataOptions opts = {})
      : data(opts, images, nodes, replicas, peer, events, metrics, clock, log::Logger::null()) {
    for (int i = 1; i <= 3; ++i) nodes.add_live(i);
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
