#include "shared/journal/record.hpp"

#include <xxhash.h>

#include <algorithm>
#include <cstring>

#include "shared/core/time_text.hpp"

namespace glint::journal {

namespace {
constexpr char kMagic[4] = {'G', 'J', 'R', '1'};

void put(std::vector<std::byte>& out, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; ++i) out.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xff));
}
uint64_t get(std::span<const std::byte> b, size_t at, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(b[at + i]) << (8 * i);
  return v;
}
uint64_t checksum(uint64_t seq, std::span<const std::byte> payload) {
  XXH3_state_t* st = XXH3_createState();
  XXH3_64bits_reset(st);
  std::byte s[8];
  for (size_t i = 0; i < 8; ++i) s[i] = static_cast<std::byte>((seq >> (8 * i)) & 0xff);
  XXH3_64bits_update(st, s, sizeof s);
  XXH3_64bits_update(st, payload.data(), payload.size());
  const uint64_t h = XXH3_64bits_digest(st);
  XXH3_freeState(st);
  return h;
}

// A frame at `at`, if one is complete and intact there.
enum class At { good, bad, partial };
At frame_at(std::span<const std::byte> b, size_t at, Record& out, size_t& len) {
  if (b.size() - at < kHeaderBytes) return std::memcmp(b.data() + at, kMagic, std::min<size_t>(4, b.size() - at)) == 0 ? At::partial : At::bad;
  if (std::memcmp(b.data() + at, kMagic, 4) != 0) return At::bad;
  len = get(b, at + 4, 4);
  if (len > kMaxPayload) return At::bad;
  if (b.size() - at - kHeaderBytes < len) return At::partial;
  const uint64_t seq = get(b, at + 8, 8);
  const auto payload = b.subspan(at + kHeaderBytes, len);
  if (checksum(seq, payload) != get(b, at + 16, 8)) return At::bad;
  auto j = nlohmann::json::parse(reinterpret_cast<const char*>(payload.data()),
                                 reinterpret_cast<const char*>(payload.data()) + payload.size(), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("body") || !j["kind"].is_string() || !j["at"].is_string())
    return At::bad;
  auto kind = parse_kind(j["kind"].get<std::string>());
  if (!kind || !parse_iso8601(j["at"].get<std::string>(), out.at)) return At::bad;
  out.seq = seq;
  out.kind = *kind;
  out.body = std::move(j["body"]);
  return At::good;
}
}  // namespace

std::string_view kind_name(Kind k) {
  switch (k) {
    case Kind::replica_state: return "replica_state";
    case Kind::replica_copy: return "replica_copy";
    case Kind::verified: return "verified";
    case Kind::orphan: return "orphan";
    case Kind::worker_pass: return "worker_pass";
  }
  return "?";
}

std::optional<Kind> parse_kind(std::string_view s) {
  for (Kind k : {Kind::replica_state, Kind::replica_copy, Kind::verified, Kind::orphan, Kind::worker_pass})
    if (kind_name(k) == s) return k;
  return std::nullopt;
}

std::vector<std::byte> encode(const Record& r) {
  const std::string payload =
      nlohmann::json{{"kind", kind_name(r.kind)}, {"at", iso8601_utc(r.at)}, {"body", r.body}}.dump();
  std::vector<std::byte> out;
  out.reserve(kHeaderBytes + payload.size());
  for (char c : kMagic) out.push_back(static_cast<std::byte>(c));
  put(out, payload.size(), 4);
  put(out, r.seq, 8);
  const auto* p = reinterpret_cast<const std::byte*>(payload.data());
  put(out, checksum(r.seq, {p, payload.size()}), 8);
  out.insert(out.end(), p, p + payload.size());
  return out;
}

FrameReader::FrameReader(Source source, uint64_t base, bool final)
    : source_(std::move(source)), final_(final), base_(base), good_end_(base) {}

namespace {
constexpr size_t kFrameMax = kHeaderBytes + kMaxPayload;
constexpr size_t kChunk = 64 * 1024;  // bytes asked of the source at a time
}  // namespace

// Makes `want` bytes available from pos_ (fewer only where the source ends); the buffer never
// holds more than max(want, kChunk), and want never exceeds one largest frame.
void FrameReader::fill(size_t want) {
  if (eof_ || buf_.size() - pos_ >= want) return;
  buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(pos_));
  consumed_ += pos_;
  pos_ = 0;
  size_t have = buf_.size();
  buf_.resize(std::max(want, kChunk));
  while (have < want) {
    const size_t n = source_(buf_.data() + have, buf_.size() - have);
    if (n == 0) {
      eof_ = true;
      break;
    }
    have += n;
  }
  buf_.resize(have);
}

std::optional<Frame> FrameReader::next() {
  while (!partial_tail_) {
    fill(1);
    if (pos_ >= buf_.size()) return std::nullopt;
    Record r;
    size_t len = 0;
    const At got = frame_at(buf_, pos_, r, len);
    if (got == At::good) {
      const uint64_t at = base_ + consumed_ + pos_;
      pos_ += kHeaderBytes + len;
      good_end_ = at + kHeaderBytes + len;
      skipping_ = false;
      return Frame{std::move(r), at, good_end_};
    }
    if (got == At::partial && !eof_) {  // more bytes may complete it: ask for more, look again
      const size_t ahead = buf_.size() - pos_;
      fill(std::min(kFrameMax, std::max(2 * ahead, kChunk)));
      continue;
    }
    if (got == At::partial && !final_) {
      partial_tail_ = true;
      break;
    }
    if (!skipping_) ++corrupt_;
    skipping_ = true;
    ++pos_;
  }
  return std::nullopt;
}

Decoded decode(std::span<const std::byte> b, uint64_t base, bool final) {
  size_t at = 0;
  FrameReader reader(
      [&](std::byte* out, size_t max) {
        const size_t n = std::min(max, b.size() - at);
        if (n > 0) std::memcpy(out, b.data() + at, n);
        at += n;
        return n;
      },
      base, final);
  Decoded d;
  while (auto f = reader.next()) d.frames.push_back(std::move(*f));
  d.corrupt = reader.corrupt();
  d.good_end = reader.good_end();
  d.partial_tail = reader.partial_tail();
  return d;
}

}  // namespace glint::journal
