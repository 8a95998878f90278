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
  n.state = NodeState::down;
  n.zone = "z2";
  n.free = 512;
  v.nodes.push_back(n);
  v.counts.images_by_status = {{"active", 12}, {"queued", 1}};
  v.counts.under_replicated = 2;
  v.counts.corrupt = 1;
  v.counts.flagged = 1;
  v.flagged.push_back({"3f2504e0-4f89-41d3-9a0c-0305e82c3302", "3 copies agree with each other but not with the catalog",
                       at(1764190000)});
  db::JobRow j;
  j.id = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
  j.kind = "replicator";
  j.state = "running";
  j.progress = 0.25;
  j.created_at = at(1764190000);
  v.active_jobs.push_back(j);
  db::WorkerPassRow p;
  p.node = "node1";
  p.worker = "auditor";
  p.started_at = at(1764190000);
  p.finished_at = at(1764190000) + std::chrono::milliseconds(2500);
  p.items = 40;
  p.bytes = 3ull << 20;
  p.note = "quick";
  v.passes.push_back(p);
  p.worker = "replicator";
  p.ok = false;
  p.items = 0;
  p.bytes = 0;
  p.note = "database unreachable";
  v.passes.push_back(p);
  v.coordinator.endpoint = "tcp://127.0.0.1:9190";
  v.coordinator.reachable = true;
  v.coordinator.members = nlohmann::json::array({{{"node", "node1"}, {"role", "store"}, {"pid", 10}},
                                                 {{"node", "node2"}, {"role", "store"}, {"pid", 11}},
                                                 {{"node", "api1"}, {"role", "api"}, {"pid", 12}}});
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
            "UNDER-REPLICATED  CORRUPT  MISSING  EXCESS  FLAGGED\n"
            "2                 1        0        0       1\n"
            "\n"
            "Flagged images (catalog disagrees with the copies; no copy was changed)\n"
            "IMAGE                                 SINCE                 REASON\n"
            "3f2504e0-4f89-41d3-9a0c-0305e82c3302  2025-11-26T20:46:40Z  3 copies agree with each other but not with the catalog\n"
            "\n"
            "Workers (last pass)\n"
            "NODE   WORKER      FINISHED              TOOK  OUTCOME  ITEMS  FAILED  BYTES    BACKLOG  NOTE\n"
            "node1  auditor     2025-11-26T20:46:42Z  2.5s  ok       40     0       3.0 MiB  -        quick\n"
            "node1  replicator  2025-11-26T20:46:42Z  2.5s  failed   0      0       0 B      -        database unreachable\n"
            "\n"
            "Jobs (queued and running)\n"
            "JOB                                   KIND        TARGET  STATE    PROGRESS  CREATED\n"
            "3f2504e0-4f89-41d3-9a0c-0305e82c3301  replicator  -       running  25%       2025-11-26T20:46:40Z\n"
            "\n"
            "Coordinator\n"
            "tcp://127.0.0.1:9190 reachable; processes: api 1, store 2\n");
}

TEST(CtlRender, CoordinatorUnreachableOrOff) {
  StatusView v;
  v.coordinator.endpoint = "tcp://127.0.0.1:9190";
  v.coordinator.error = "no answer within 2000 ms";
  EXPECT_NE(render_status(v).find("Coordinator\ntcp://127.0.0.1:9190 unreachable: no answer within 2000 ms\n"),
            std::string::npos);
  EXPECT_EQ(status_json(v)["coordinator"]["reachable"], false);
  v.coordinator.endpoint.clear();
  EXPECT_NE(render_status(v).find("not configured"), std::string::npos);
  EXPECT_TRUE(status_json(v)["coordinator"].is_null());
}

TEST(CtlRender, StatusJson) {
  const auto j = status_json(sample());
  EXPECT_EQ(j.dump(),
            R"({"coordinator":{"endpoint":"tcp://127.0.0.1:9190","members":[{"node":"node1","pid":10,"role":"store"},)"
            R"({"node":"node2","pid":11,"role":"store"},{"node":"api1","pid":12,"role":"api"}],"reachable":true},)"
            R"("flagged":[{"image":"3f2504e0-4f89-41d3-9a0c-0305e82c3302","reason":"3 copies agree with each other )"
            R"(but not with the catalog","since":"2025-11-26T20:46:40Z"}],)"
            R"("images":{"active":12,"queued":1},"jobs":[{"created_at":"2025-11-26T20:46:40Z","finished_at":null,)"
            R"("id":"3f2504e0-4f89-41d3-9a0c-0305e82c3301","kind":"replicator","lease_owner":null,"progress":0.25,)"
            R"("requested_by":null,"result":null,"started_at":null,"state":"running","target":null}],)"
            R"("nodes":[{"address":"127.0.0.1:9001","capacity":1099511627776,"free":1610612736,)"
            R"("last_heartbeat":"2025-11-26T20:46:40Z","name":"node1","state":"up","weight":1.0,"zone":"zone1"},)"
            R"({"address":"127.0.0.1:9001","capacity":1099511627776,"free":512,"last_heartbeat":"2025-11-26T20:46:40Z",)"
            R"("name":"node22","state":"down","weight":1.0,"zone":"z2"}],)"
            R"("replicas":{"corrupt":1,"excess":0,"flagged":1,"missing":0,"r":3,"under_replicated":2},)"
            R"("workers":[{"backlog":null,"bytes":3145728,"failed":0,"finished_at":"2025-11-26T20:46:42Z","items":40,"node":"node1",)"
            R"("note":"quick","ok":true,"started_at":"2025-11-26T20:46:40Z","worker":"auditor"},)"
            R"({"backlog":null,"bytes":0,"failed":0,"finished_at":"2025-11-26T20:46:42Z","items":0,"node":"node1",)"
            R"("note":"database unreachable","ok":false,"started_at":"2025-11-26T20:46:40Z","worker":"replicator"}]})");
}

TEST(CtlRender, ImageReplicaMap) {
  ImageView v;
  v.image.id = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
  v.image.name = "cirros";
  v.image.status = ImageStatus::active;
  v.image.size = 1024;
  db::ReplicaRow r;
  r.node = "node1";
  r.state = ReplicaState::ok;
  r.size = 1024;
  r.verified_at = at(1764190000);
  v.replicas.push_back(r);
  r.node = "node9";
  r.state = ReplicaState::corrupt;
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
