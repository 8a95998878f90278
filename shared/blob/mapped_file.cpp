#include "shared/blob/mapped_file.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <csetjmp>
#include <csignal>
#include <pthread.h>
#include <algorithm>
#include <atomic>
#include <mutex>
#include <string>
#include <utility>

#include "shared/blob/fs_util.hpp"
#include "shared/hash/hash.hpp"

namespace glint::blob {

namespace {

// The range a thread is hashing and where to resume if one of its pages faults. Thread-local:
// each thread guards only its own reads, and a SIGBUS is delivered to the thread that faulted.
struct Guard {
  sigjmp_buf jump;
  const std::byte* lo;
  const std::byte* hi;
};
thread_local Guard* tl_guard = nullptr;
struct sigaction previous_bus {};

void on_sigbus(int sig, siginfo_t* info, void* ctx) {
  Guard* g = tl_guard;
  const auto* addr = static_cast<const std::byte*>(info->si_addr);
  if (info->si_code > 0 && g != nullptr && addr >= g->lo && addr < g->hi) siglongjmp(g->jump, 1);
  // Not a read of ours: what the process would have done without this handler.
  if ((previous_bus.sa_flags & SA_SIGINFO) != 0 && previous_bus.sa_sigaction != nullptr) {
    previous_bus.sa_sigaction(sig, info, ctx);
    return;
  }
  if ((previous_bus.sa_flags & SA_SIGINFO) == 0 && previous_bus.sa_handler != SIG_DFL &&
      previous_bus.sa_handler != SIG_IGN) {
    previous_bus.sa_handler(sig);
    return;
  }
  if (info->si_code <= 0 && previous_bus.sa_handler == SIG_IGN) return;  // an ignored kill -BUS stays ignored
  std::signal(SIGBUS, SIG_DFL);
  if (info->si_code <= 0) std::raise(SIGBUS);  // sent by kill(): deliver it again, now with the default
  // A fault: returning runs the faulting instruction again, which now ends the process as before.
}

// The handler is process-wide by nature (signal dispositions are); installed at the first mapping.
// A handler installed later for SIGBUS would replace it: nothing in glint does.
void install_handler_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGBUS, &sa, &previous_bus);
  });
}

}  // namespace

Expected<MappedFile> MappedFile::map(int fd, uint64_t size, const std::string& path) {
  install_handler_once();
  if (size == 0) return MappedFile(nullptr, 0, path);  // mmap refuses empty lengths; nothing to read
  void* p = ::mmap(nullptr, static_cast<size_t>(size), PROT_READ, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return fsutil::sys_error(Errc::io_error, "mmap", path, errno);
  return MappedFile(static_cast<std::byte*>(p), static_cast<size_t>(size), path);
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : base_(std::exchange(other.base_, nullptr)), size_(std::exchange(other.size_, 0)), path_(std::move(other.path_)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    if (base_ != nullptr) ::munmap(base_, size_);
    base_ = std::exchange(other.base_, nullptr);
    size_ = std::exchange(other.size_, 0);
    path_ = std::move(other.path_);
  }
  return *this;
}

MappedFile::~MappedFile() {
  if (base_ != nullptr) ::munmap(base_, size_);
}

Expected<uint64_t> MappedFile::xxh3(uint64_t offset, size_t len) const {
  if (offset > size_ || len > size_ - offset) return Error{Errc::invalid, path_ + ": range outside the mapping"};
  Guard guard;
  guard.lo = base_ + offset;
  guard.hi = guard.lo + len;
  // The signal mask is not saved (that would be a syscall per block on the hot path); after a
  // fault the handler left SIGBUS blocked, so it is unblocked here, on the rare path.
  if (sigsetjmp(guard.jump, 0) != 0) {  // a page of the range faulted (SIGBUS)
    tl_guard = nullptr;
    sigset_t bus;
    sigemptyset(&bus);
    sigaddset(&bus, SIGBUS);
    pthread_sigmask(SIG_UNBLOCK, &bus, nullptr);
    return Error{Errc::io_error, path_ + ": unreadable page in bytes " + std::to_string(offset) + "+" +
                                     std::to_string(len)};
  }
  tl_guard = &guard;
  // The fences keep the compiler from moving the page reads outside the guarded window (only
  // the signal handler reads tl_guard, so without them the stores could be dropped or sunk).
  std::atomic_signal_fence(std::memory_order_seq_cst);
  const uint64_t h = hash::block_xxh3(hash::Bytes(guard.lo, len));
  std::atomic_signal_fence(std::memory_order_seq_cst);
  tl_guard = nullptr;
  return h;
}

void MappedFile::release(uint64_t offset, size_t len) const {
  if (base_ == nullptr || offset >= size_) return;
  static const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));  // madvise wants an aligned start
  const uint64_t start = offset / page * page;
  const uint64_t end = std::min<uint64_t>(size_, offset + len);
  (void)::madvise(base_ + start, static_cast<size_t>(end - start), MADV_DONTNEED);
}

}  // namespace glint::blob
