// PUT /v2/images/{id}/file: the body fans out to R nodes while md5, os_hash and XXH3-128 are
// computed on two more threads and the format inspector reads the headers; a write quorum of
// nodes reporting the same size and digest makes the image active in one transaction. Any failure
// (including data that is not its disk_format, or is unsafe) puts the image back to queued and
// removes what was stored.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <thread>

#include "shared/hash/hash.hpp"
#include "shared/format/format.hpp"
#include "workers/api/fan_out.hpp"
#include "workers/api/image_data.hpp"
#include "workers/api/image_json.hpp"

namespace glint::api {

// One upload in flight: owns the sender and hash threads. Called by one server thread.
class UploadSink final : public http::BodySink {
 public:
  UploadSink(ImageData& data, const http::Request& req, db::ImageRow img, std::vector<peer::Endpoint> targets)
      : d_(data),
        req_(req),
        img_(std::move(img)),
        targets_(std::move(targets)),
        cache_fill_(data.cache_ && req.content_length ? data.cache_->begin_upload_fill(img_.id, *req.content_length)
                                                      : nullptr),
        fan_(targets_.size() + 2 + (cache_fill_ ? 1 : 0), std::max<size_t>(data.opts_.upload_buffer >> 20, 2)),
        results_(targets_.size()),
        md5_("md5"),
        os_hash_(data.opts_.os_hash_algo),
        started_(std::chrono::steady_clock::now()),
        last_touch_(data.clock_.now()) {
    for (size_t i = 0; i < targets_.size(); ++i) threads_.emplace_back([this, i] { send_to(i); });
    threads_.emplace_back([this] { hash_lane(targets_.size(), true); });
    threads_.emplace_back([this] { hash_lane(targets_.size() + 1, false); });
    if (cache_fill_) threads_.emplace_back([this] { cache_lane(targets_.size() + 2); });
  }
  ~UploadSink() override {
    if (!done_) abort();
  }

  Status write(std::span<const std::byte> chunk) override {
    scratch_.assign(chunk.begin(), chunk.end());
    return write_owned(scratch_, chunk.size());
  }

  Status write_owned(std::vector<std::byte>& buf, size_t n) override {
    received_ += n;
    d_.m_.upload_bytes.Increment(static_cast<double>(n));
    keep_alive();
    if (received_ > d_.opts_.image_size_cap) return Status(Errc::too_large, "image_size_cap exceeded");
    inspector_.feed({buf.data(), n});
    if (Status s = early_format_check(); !s) return s;
    if (targets_.size() - failed_senders_.load() < d_.opts_.write_quorum)
      return Status(Errc::unavailable, "too few storage nodes left");
    return fan_.push(buf, n);
  }

  http::Response finish() override {
    fan_.close();
    join();
    const format::Verdict verdict = inspector_.finish();
    if (Status s = format::check_declared(declared_format(), verdict); !s) return refuse_format(s);
    std::vector<db::UploadedData::Copy> good;
    bool all_full = true;
    for (size_t i = 0; i < targets_.size(); ++i) {
      const auto& r = *results_[i];
      if (r && r->size == received_ && r->digest == xxh_) good.push_back({targets_[i].node, r->digest});
      if (r || r.code() != Errc::no_space) all_full = false;
    }
    if (good.size() < d_.opts_.write_quorum) {
      return give_back(maybe_stored(), all_full ? 413 : 503,
                       all_full ? "Image storage media is full: no storage node has room for this image."
                                : "Not enough storage nodes stored the image data (" + std::to_string(good.size()) +
                                      " of " + std::to_string(d_.opts_.write_quorum) + " needed); try again later.");
    }
    db::UploadedData u;
    u.image_id = img_.id;
    u.size = static_cast<int64_t>(received_);
    u.checksum = md5_hex_;
    u.os_hash_algo = d_.opts_.os_hash_algo;
    u.os_hash_value = os_hash_hex_;
    u.virtual_size = format::recorded_virtual_size(declared_format(), verdict);
    u.replicas = good;
    Status s = d_.images_.activate(u);
    if (!s && s.code() != Errc::not_found && s.code() != Errc::conflict) {
      // The connection may have broken around COMMIT: the image may be active with these copies.
      // Never delete a copy before the database says the activation did not happen.
      d_.m_.commit_in_doubt.Increment();
      auto now = d_.reread_after_doubt(img_.id);
      if (!now) {
        done_ = true;  // copies kept; the image stays saving until the outcome is known
        d_.m_.uploads_failed.Increment();
        d_.log_.error("upload.outcome_unknown", {{"req", req_.request_id}, {"image", img_.id}, {"error", s.message()}});
        return glance_error(req_, 503, "The image catalog is unavailable; the upload's outcome is not known yet.");
      }
      if (now->id.empty() || now->status == ImageStatus::deleted || now->status == ImageStatus::pending_delete) {
        s = Status(Errc::not_found, "deleted during the upload");
      } else if (now->status == ImageStatus::active && now->checksum == u.checksum && now->size == u.size) {
        s = Status();  // it did commit
      }
    }
    if (!s) {
      if (s.code() == Errc::not_found) {
        done_ = true;
        d_.discard_copies(img_.id, maybe_stored());
        d_.m_.uploads_failed.Increment();
        return glance_error(req_, 410, "Image " + img_.id +
                                           " could not be found after upload. The image may have been deleted "
                                           "during the upload.");
      }
      return give_back(maybe_stored(), s.code() == Errc::conflict ? 409 : 503,
                       "The image could not be recorded: " + s.message());
    }
    // Copies that disagree with what the client sent are removed; the replicator fills the gap.
    std::vector<ImageData::Discard> wrong;
    for (size_t i = 0; i < targets_.size(); ++i) {
      const auto& r = *results_[i];
      if (r && (r->size != received_ || r->digest != xxh_)) wrong.push_back({targets_[i], r->digest});
    }
    d_.discard_copies(img_.id, wrong);
    // Published only now: the image is active and these are the bytes its copies hold.
    if (cache_fill_) d_.cache_->finish_upload_fill(std::move(cache_fill_), {img_.id, received_, xxh_});
    done_ = true;
    d_.m_.uploads_ok.Increment();
    d_.events_.publish("image.uploaded", {{"image", img_.id}, {"size", received_}, {"replicas", good.size()}});
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    d_.log_.info("upload.done", {{"req", req_.request_id}, {"image", img_.id}, {"size", received_},
                                 {"replicas", good.size()}, {"ms", static_cast<int64_t>(secs * 1000)}});
    return no_content();
  }

  http::Response failed(const Status& why) override {
    fan_.abort();
    join();
    if (why.code() == Errc::too_large)
      return give_back(maybe_stored(), 413, "The incoming image is too large: The provided image is too large.");
    if (why.code() == Errc::invalid) return refuse_format(why);
    return give_back(maybe_stored(), 503, "The upload failed: " + why.message());
  }

  void abort() override {
    fan_.abort();
    join();
    (void)give_back(maybe_stored(), 499, "client went away");
  }

 private:
  void send_to(size_t i) {
    LaneSource src(fan_, i);
    auto r = d_.peer_.put(targets_[i], img_.id, src, req_.content_length);
    if (!r) {
      failed_senders_.fetch_add(1);
      fan_.leave(i);  // the others go on without this node
      if (r.code() != Errc::cancelled)
        d_.log_.warn("upload.node_failed", {{"image", img_.id}, {"node", targets_[i].node}, {"error", r.error().message}});
    }
    results_[i].emplace(std::move(r));
  }

  void hash_lane(size_t lane, bool md5_lane) {
    hash::Xxh128Stream xxh;
    for (;;) {
      auto c = fan_.pop(lane);
      if (!c || !*c) break;
      const hash::Bytes b((*c)->data(), (*c)->size());
      if (md5_lane) {
        md5_.update(b);
        xxh.update(b);
      } else {
        os_hash_.update(b);
      }
    }
    if (md5_lane) {
      md5_hex_ = md5_.finish_hex();
      xxh_ = hash::digest_hex(xxh.digest());
    } else {
      os_hash_hex_ = os_hash_.finish_hex();
    }
  }

  // Warm on upload: the bytes also go to this node's cache; a failure there only ends the fill
  // (the lane leaves, so it never holds the upload back), never the upload.
  void cache_lane(size_t lane) {
    for (;;) {
      auto c = fan_.pop(lane);
      if (!c || !*c) {
        if (!c) cache_fill_.reset();  // aborted upload: the temp file goes with the writer
        return;
      }
      if (Status s = cache_fill_->write({(*c)->data(), (*c)->size()}); !s) {
        d_.log_.info("upload.cache_fill_stopped", {{"image", img_.id}, {"error", s.message()}});
        cache_fill_.reset();
        fan_.leave(lane);
        return;
      }
    }
  }

  void join() {
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }

  std::string declared_format() const { return img_.disk_format.value_or(""); }

  // Refuses the upload as soon as the headers show the data is unsafe or not its disk_format, so
  // a bad 10 GiB upload is not stored first. A raw-looking head declared vhd waits for the end: a
  // fixed VHD's footer is its last sector.
  Status early_format_check() {
    const auto& v = inspector_.early();
    if (!v || early_checked_) return {};
    early_checked_ = true;
    if (v->detected == format::Format::raw && declared_format() == "vhd" && v->refusal.empty()) return {};
    return format::check_declared(declared_format(), *v);
  }

  http::Response refuse_format(const Status& why) {
    d_.m_.uploads_refused_format.Increment();
    return give_back(maybe_stored(), 400, why.message());
  }

  // Nodes that stored a copy or whose transfer broke at an unknown point (after join()). A node
  // that was unreachable or whose PUT was cancelled holds nothing: the store drops cut uploads.
  // The image is not active (that is why they are discarded): "*" removes whatever it holds.
  std::vector<ImageData::Discard> maybe_stored() const {
    std::vector<ImageData::Discard> out;
    for (size_t i = 0; i < targets_.size(); ++i) {
      const auto& r = *results_[i];
      if (r || r.code() == Errc::io_error) out.push_back({targets_[i], "*"});
    }
    return out;
  }

  // The failure path: remove what may have been stored, image back to queued as in Glance.
  http::Response give_back(const std::vector<ImageData::Discard>& stored, int status, const std::string& message) {
    done_ = true;
    // Back to queued first: the copies are discarded only once the image is known not active.
    Status s = d_.images_.transition(img_.id, ImageStatus::saving, ImageStatus::queued);
    bool discardable = s.ok();
    if (!s) {  // not saving any more, or unknown: discard only what an image without data holds
      auto now = d_.images_.get(img_.id);
      discardable = now && (!*now || !keeps_data((*now)->status));
    }
    if (!discardable) {
      d_.m_.uploads_failed.Increment();
      d_.log_.error("upload.failed", {{"req", req_.request_id}, {"image", img_.id}, {"status", status},
                                      {"reason", message}, {"copies", "kept: the image's state is not known"}});
      return glance_error(req_, status, message);
    }
    d_.discard_copies(img_.id, stored);
    d_.m_.uploads_failed.Increment();
    d_.log_.warn("upload.failed", {{"req", req_.request_id}, {"image", img_.id}, {"received", received_},
                                   {"status", status}, {"reason", message},
                                   {"requeued", s ? "yes" : s.message()}});
    return glance_error(req_, status, message);
  }

  // Tells the catalog this upload is alive, at most every kTouchEvery, so the reaper's
  // stale_upload_after (at least 2 min) only ever requeues an upload whose API is gone. A failed
  // touch is only logged: the bytes keep flowing.
  static constexpr auto kTouchEvery = std::chrono::seconds(30);
  void keep_alive() {
    const auto now = d_.clock_.now();
    if (now - last_touch_ < kTouchEvery) return;
    last_touch_ = now;
    if (Status s = d_.images_.touch_upload(img_.id); !s)
      d_.log_.warn("upload.heartbeat_failed", {{"req", req_.request_id}, {"image", img_.id}, {"error", s.message()}});
  }

  ImageData& d_;
  const http::Request req_;
  const db::ImageRow img_;
  const std::vector<peer::Endpoint> targets_;
  // Before fan_ (its lane is counted there); the cache lane's alone until join(), then finish()'s.
  std::unique_ptr<blob::BlobWriter> cache_fill_;
  FanOut fan_;
  std::vector<std::optional<Expected<peer::StoredBlob>>> results_;  // per target, set by its thread
  std::atomic<size_t> failed_senders_{0};
  hash::Digester md5_;
  hash::Digester os_hash_;
  std::string md5_hex_, os_hash_hex_, xxh_;  // set by the hash threads before join()
  std::vector<std::thread> threads_;
  format::Inspector inspector_;
  bool early_checked_ = false;
  std::vector<std::byte> scratch_;
  uint64_t received_ = 0;
  bool done_ = false;
  const std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point last_touch_;
};

Expected<std::unique_ptr<http::BodySink>> ImageData::begin_upload(const http::Request& req, const db::ImageRow& img) {
  if (req.content_length && *req.content_length > opts_.image_size_cap)
    return Error{Errc::too_large, "The incoming image is too large: The provided image is too large."};
  auto targets = placed_nodes(img.id, opts_.replicas);
  if (!targets) {
    log_.error("db.failed", {{"req", req.request_id}, {"error", targets.error().message}});
    return Error{Errc::unavailable, "The image catalog is unavailable; try again later."};
  }
  if (targets->size() < opts_.write_quorum)
    return Error{Errc::unavailable, "Not enough storage nodes are available (" + std::to_string(targets->size()) +
                                        " of " + std::to_string(opts_.write_quorum) + " needed); try again later."};
  // Leftovers of an earlier failed attempt on these nodes would make the store refuse the PUT.
  if (auto old = replicas_.for_image(img.id); old && !old->empty()) {
    std::vector<Discard> stale;
    for (const auto& t : *targets)
      for (const auto& r : *old)
        if (r.node == t.node) stale.push_back({t, "*"});
    discard_copies(img.id, stale);
  }
  return std::unique_ptr<http::BodySink>(std::make_unique<UploadSink>(*this, req, img, std::move(*targets)));
}

}  // namespace glint::api
