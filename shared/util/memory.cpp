#include "shared/util/memory.hpp"

#include <malloc.h>

namespace glint::util {

void tune_malloc() {
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);  // a fixed value also disables glibc's dynamic raise
  mallopt(M_ARENA_MAX, 4);
}

}  // namespace glint::util
