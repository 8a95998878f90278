// Instance lock: a second holder of the same node/worker lock is refused (naming the pid), other
// workers are independent, and the lock is released on destruction.
#include "shared/worker/instance_lock.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>

namespace glint::worker {
namespace {

namespace fs = std::filesystem;

class InstanceLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "glint-lock-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(InstanceLockTest, SecondAcquireConflictsAndNamesTheHolder) {
  auto first = acquire_instance_lock(dir_.string(), "node1", "auditor");
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->path(), (dir_ / "node1.auditor.lock").string());
  std::ifstream in(first->path());
  std::string pid;
  in >> pid;
  EXPECT_EQ(pid, std::to_string(::getpid()));

  auto second = acquire_instance_lock(dir_.string(), "node1", "auditor");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.code(), Errc::conflict);
  EXPECT_NE(second.error().message.find("pid " + std::to_string(::getpid())), std::string::npos)
      << second.error().message;
}

TEST_F(InstanceLockTest, OtherWorkersAndNodesAreIndependent) {
  auto a = acquire_instance_lock(dir_.string(), "node1", "auditor");
  auto b = acquire_instance_lock(dir_.string(), "node1", "replicator");
  auto c = acquire_instance_lock(dir_.string(), "node2", "auditor");
  EXPECT_TRUE(a.ok());
  EXPECT_TRUE(b.ok());
  EXPECT_TRUE(c.ok());
}

TEST_F(InstanceLockTest, ReleasedOnDestructionAndKeptAcrossMoves) {
  std::optional<InstanceLock> held;
  {
    auto first = acquire_instance_lock(dir_.string(), "node1", "reaper");
    ASSERT_TRUE(first.ok());
    held.emplace(std::move(*first));
  }  // the moved-from lock inside `first` released nothing
  EXPECT_EQ(acquire_instance_lock(dir_.string(), "node1", "reaper").code(), Errc::conflict);
  held.reset();
  auto again = acquire_instance_lock(dir_.string(), "node1", "reaper");
  EXPECT_TRUE(again.ok());
}

TEST_F(InstanceLockTest, CreatesTheDirectory) {
  auto lock = acquire_instance_lock((dir_ / "run" / "locks").string(), "node1", "updater");
  ASSERT_TRUE(lock.ok()) << lock.error().message;
  EXPECT_TRUE(fs::exists(dir_ / "run" / "locks" / "node1.updater.lock"));
}

TEST_F(InstanceLockTest, RejectsNamesThatAreNotPlainComponents) {
  for (const auto& [node, worker] : std::vector<std::pair<std::string, std::string>>{
           {"", "auditor"}, {"node1", ""}, {"../x", "auditor"}, {"node1", "a/b"}, {"..", "auditor"}}) {
    EXPECT_EQ(acquire_instance_lock(dir_.string(), node, worker).code(), Errc::invalid) << node << " " << worker;
  }
}

}  // namespace
}  // namespace glint::worker
