// Short-circuit reads ([api] local_store_node): the local store's copy is read in place, every
// block verified; a corrupt block blames the copy and the nodes serve the rest at that offset; a
// file holding other bytes than its replica row, or a copy the plan would not read, is left alone.
#include <fstream>
#include <sstream>

#include "shared/blob/blob_store.hpp"
#include "shared/blob/fs_store.hpp"
#include "tests/unit/workers/api/image_data_fixture.hpp"

namespace glint::api::test {
namespace {

// node1's data directory on "this machine"; a base so that it exists before the data path.
struct LocalStoreHolder {
  LocalStoreHolder() {
    blob::FsOptions o;
    o.data_dir = dir;
    o.block_size = 64 * 1024;
    auto s = blob::open_fs_store(o);
    EXPECT_TRUE(s.ok());
    if (s) store = std::move(*s);
  }
  ~LocalStoreHolder() { store.reset(); }  // before its directory goes
  static DataOptions opts(const std::string& dir) {
    DataOptions o;
    o.local_store_node = "node1";
    o.local_store_dir = dir;
    return o;
  }
  // What node1's glint-store would hold for `id`.
  void put(const std::string& id, const std::string& bytes) {
    auto w = store->create(id, bytes.size());
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->write(hash::as_bytes(bytes)).ok());
    ASSERT_TRUE((*w)->commit().ok());
  }
  std::string file(const std::string& id) const {
    return blob::data_path_in(dir + "/objects", id);
  }
  testing::TempDir tmp{"glint-localstore"};
  const std::string dir = tmp.path();
  std::unique_ptr<blob::BlobStore> store;
};

class LocalReadTest : public LocalStoreHolder, public ImageDataTest {
 protected:
  LocalReadTest() : ImageDataTest(opts(dir)) {}
  void all_nodes(bool down) {
    for (int i = 1; i <= 3; ++i) data_.peer.set_down("node" + std::to_string(i), down);
  }
  double local_reads(const std::string& outcome) {  // from the exposition text, as Prometheus reads it
    const std::string key = "glint_api_local_reads_total{outcome=\"" + outcome + "\"} ";
    std::istringstream text(data_.metrics.render());
    for (std::string line; std::getline(text, line);)
      if (line.rfind(key, 0) == 0) return std::stod(line.substr(key.size()));
    return 0;
  }
};

TEST_F(LocalReadTest, TheLocalCopyIsReadInPlaceWholeAndInRanges) {
  const std::string bytes = pattern(300000);
  const std::string id = create();
  ASSERT_EQ(upload(id, bytes).status, 204);
  put(id, bytes);
  all_nodes(true);  // nothing can come over the network: these bytes are node1's file
  EXPECT_EQ(download(id), std::make_pair(200, bytes));
  EXPECT_EQ(download(id, "bytes=70000-200009"), std::make_pair(206, bytes.substr(70000, 130010)));
  EXPECT_EQ(local_reads("served"), 2);
}

TEST_F(LocalReadTest, ACorruptBlockIsNeverSentTheNodesServeTheRestAndTheCopyIsMarked) {
  const std::string bytes = pattern(300000);
  const std::string id = create();
  ASSERT_EQ(upload(id, bytes).status, 204);
  put(id, bytes);
  {
    std::fstream f(file(id), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(150000);
    f.put(static_cast<char>(bytes[150000] ^ 0x40));  // in the third 64 KiB block
  }
  data_.peer.set_down("node1", true);  // node1's glint-store would refuse the block too
  EXPECT_EQ(download(id), std::make_pair(200, bytes));
  EXPECT_EQ(local_reads("corrupt"), 1);
  EXPECT_EQ(data_.replicas.state(id, "node1"), "corrupt");
  EXPECT_EQ(data_.events.count("replica.bad"), 1u);
}

TEST_F(LocalReadTest, AFileWithOtherBytesThanItsRowOrACopyNotOkIsLeftToTheNodes) {
  const std::string bytes = pattern(200000);
  const std::string id = create();
  ASSERT_EQ(upload(id, bytes).status, 204);
  std::string other = bytes;
  other[5] ^= 1;
  put(id, other);  // re-made locally with other bytes: the row does not vouch for them
  EXPECT_EQ(download(id), std::make_pair(200, bytes));
  EXPECT_EQ(local_reads("unreadable"), 1);
  EXPECT_EQ(data_.replicas.state(id, "node1"), "ok");  // not corruption: just not the row's bytes

  const std::string id2 = create();
  ASSERT_EQ(upload(id2, bytes).status, 204);
  put(id2, other);
  data_.replicas.tamper(id2, "node1", [](db::ReplicaRow& r) { r.state = ReplicaState::corrupt; });
  EXPECT_EQ(download(id2), std::make_pair(200, bytes));  // the plan skips node1: no local read
  EXPECT_EQ(local_reads("unreadable"), 1);
  EXPECT_EQ(local_reads("served"), 0);
}

}  // namespace
}  // namespace glint::api::test
