// The data path through ApiHandler over fake storage nodes: quorum uploads, size cap, client
// aborts, failover reads, bad-replica marking and deletes. No sockets, no sleeps.
#include "tests/unit/workers/api/image_data_fixture.hpp"

namespace glint::api::test {
namespace {

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

}  // namespace
}  // namespace glint::api::test
