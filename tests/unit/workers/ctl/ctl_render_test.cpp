// glintctl output, golden: the tables people read and the JSON scripts parse.
#include "workers/ctl/ctl_render.hpp"

#include <gtest/gtest.h>

namespace glint::ctl {
namespace {

db::Timestamp at(int64_t s) { return db::Timestamp(std::chrono::seconds(s)); }

StatusView sample() {
  StatusView v;
  db::NodeRow n;
  n.name = "node1";
  n.address = "127.0.0.1:9001";
  n.zone = "zone1";
  n.capacity = 1ull << 40;
  n.free = 3ull << 29;
  n.last_heartbeat = at(1764190000);
  v.nodes.push_back(n);
  n.name = "node22";
  n.state = "down";
  n.zone = "z2";
  n.free = 512;
  v.nodes.push_back(n);
  v.counts.images_by_status = {{"active", 12}, {"queued", 1}};
  v.counts.under_replicated = 2;
  v.counts.corrupt = 1;
  db::JobRow j;
  j.id = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
  j.kind = "replicator";
  j.state = "running";
  j.progress = 0.25;
  j.created_at = at(1764190000);
  v.active_jobs.push_back(j);
  return v;
}

TEST(CtlRender, StatusTable) {
  EXPECT_EQ(render_status(sample()),
            "Nodes\n"
            "NODE    STATE  ZONE   ADDRESS         FREE     CAPACITY  LAST HEARTBEAT\n"
            "node1   up     zone1  127.0.0.1:9001  1.5 GiB  1.0 TiB   2025-11-26T20:46:40Z\n"
            "node22  down   z2     127.0.0.1:9001  512 B    1.0 TiB   2025-11-26T20:46:40Z\n"
            "\n"
            "Images\n"
            "STATUS  COUNT\n"
            "active  12\n"
            "queued  1\n"
            "\n"
            "Replica health (R=3)\n"
            "UNDER-REPLICATED  CORRUPT  MISSING  EXCESS\n"
            "2                 1        0        0\n"
            "\n"
            "Jobs (queued and running)\n"
            "JOB                                   KIND        TARGET  STATE    PROGRESS  CREATED\n"
            "3f2504e0-4f89-41d3-9a0c-0305e82c3301  replicator  -       running  25%       2025-11-26T20:46:40Z\n");
}

TEST(CtlRender, StatusJson) {
  const auto j = status_json(sample());
  EXPECT_EQ(j.dump(),
            R"({"images":{"active":12,"queued":1},"jobs":[{"created_at":"2025-11-26T20:46:40Z","finished_at":null,)"
            R"("id":"3f2504e0-4f89-41d3-9a0c-0305e82c3301","kind":"replicator","lease_owner":null,"progress":0.25,)"
            R"("requested_by":null,"result":null,"started_at":null,"state":"running","target":null}],)"
            R"("nodes":[{"address":"127.0.0.1:9001","capacity":1099511627776,"free":1610612736,)"
            R"("last_heartbeat":"2025-11-26T20:46:40Z","name":"node1","state":"up","weight":1.0,"zone":"zone1"},)"
            R"({"address":"127.0.0.1:9001","capacity":1099511627776,"free":512,"last_heartbeat":"2025-11-26T20:46:40Z",)"
            R"("name":"node22","state":"down","weight":1.0,"zone":"z2"}],)"
            R"("replicas":{"corrupt":1,"excess":0,"missing":0,"r":3,"under_replicated":2}})");
}

TEST(CtlRender, ImageReplicaMap) {
  ImageView v;
  v.image.id = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
  v.image.name = "cirros";
  v.image.status = "active";
  v.image.size = 1024;
  db::ReplicaRow r;
  r.node = "node1";
  r.state = "ok";
  r.size = 1024;
  r.verified_at = at(1764190000);
  v.replicas.push_back(r);
  r.node = "node9";
  r.state = "corrupt";
  r.verified_at.reset();
  v.replicas.push_back(r);
  db::NodeRow n;
  n.name = "node1";
  v.nodes.push_back(n);
  EXPECT_EQ(render_image(v),
            "FIELD     VALUE\n"
            "id        3f2504e0-4f89-41d3-9a0c-0305e82c3301\n"
            "name      cirros\n"
            "status    active\n"
            "size      1.0 KiB\n"
            "checksum  -\n"
            "\n"
            "Replicas\n"
            "NODE   NODE STATE  REPLICA  SIZE  VERIFIED\n"
            "node1  up          ok       1024  2025-11-26T20:46:40Z\n"
            "node9  unknown     corrupt  1024  -\n");
  EXPECT_EQ(image_json(v)["replicas"][1]["state"], "corrupt");
}

TEST(CtlRender, HumanBytes) {
  EXPECT_EQ(human_bytes(0), "0 B");
  EXPECT_EQ(human_bytes(1023), "1023 B");
  EXPECT_EQ(human_bytes(1536), "1.5 KiB");
  EXPECT_EQ(human_bytes(5ull << 30), "5.0 GiB");
}

}  // namespace
}  // namespace glint::ctl
