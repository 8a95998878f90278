#include "workers/updater/backfill.hpp"

#include "shared/format/format.hpp"
#include "shared/hash/hash.hpp"

namespace glint::updater {

Expected<BackfillTally> Backfill::run_page(const worker::PassContext& ctx) {
  BackfillTally t;
  auto page = repo_.lacking(opts_.node, after_, opts_.page);
  if (!page) return page.error();
  after_ = page->size() < opts_.page ? "" : page->back().image_id;  // from the start again at the end
  for (const auto& item : *page) {
    if (!ctx.take_item()) break;
    if (!fill(item, ctx, t)) ++t.skipped;
  }
  return t;
}

// Streams the copy once through the inspector and the digests; false when it was not used.
bool Backfill::fill(const db::BackfillItem& item, const worker::PassContext& ctx, BackfillTally& t) {
  auto reader = blobs_.open(item.image_id);
  if (!reader) return false;  // gone or unreadable here: the auditor's business
  format::Inspector inspector;
  hash::Digester md5("md5"), os_hash(opts_.os_hash_algo);
  hash::Xxh128Stream xxh;
  std::vector<std::byte> buf;
  for (uint64_t b = 0; b < (*reader)->info().block_count; ++b) {
    auto block = (*reader)->read_block(b, buf);
    if (!block) return false;  // corrupt: never derive metadata from bad bytes
    if (!ctx.take_bytes(block->size())) return false;
    inspector.feed(*block);
    xxh.update(*block);
    md5.update(*block);
    if (item.needs_os_hash) os_hash.update(*block);
    t.bytes += block->size();
  }
  if (hash::digest_hex(xxh.digest()) != item.digest) return false;
  if (item.checksum && md5.finish_hex() != *item.checksum) return false;  // not the catalog's bytes
  const format::Verdict v = inspector.finish();
  const Status declared = format::check_declared(item.disk_format, v);
  if (!declared) {
    (void)heal_.flag_image(item.image_id, "format inspection: " + declared.message());
    ++t.flagged;
    ctx.logger.warn("backfill.flagged", {{"image", item.image_id}, {"reason", declared.message()}});
  }
  // A virtual size only from data that is what it says it is.
  std::optional<int64_t> vsize;
  if (item.needs_virtual_size && declared) vsize = format::recorded_virtual_size(item.disk_format, v);
  std::optional<std::string> algo, value;
  if (item.needs_os_hash) {
    algo = opts_.os_hash_algo;
    value = os_hash.finish_hex();
  }
  if (!vsize && !value) return false;
  if (Status s = repo_.backfill(item.image_id, item.checksum, vsize, algo, value); !s) return false;
  ++t.filled;
  ctx.logger.info("backfill.done", {{"image", item.image_id}, {"virtual_size", vsize.value_or(-1)},
                                    {"os_hash", value ? "set" : "kept"}});
  return true;
}

}  // namespace glint::updater
