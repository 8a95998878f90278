// Fuzzes what glint-store checks before it touches a blob: the signature fields of a request
// (method, target, date, node, nonce, framing, conditions), the replay cache, and the job target
// parser every worker uses. Input: newline-separated "method, target, date, node, nonce,
// If-Match, expected digest, length, job target". Never crashes; a request verifies only with the
// right signature, and a nonce is admitted at most once.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "shared/core/job_target.hpp"
#include "shared/http/auth.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> f;
  size_t start = 0;
  for (size_t i = 0; i <= in.size() && f.size() < 9; ++i) {
    if (i == in.size() || in[i] == '\n') {
      f.push_back(in.substr(start, i - start));
      start = i + 1;
    }
  }
  f.resize(9);
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
  glint::http::Request req;
  req.method = f[0];
  req.target = f[1];
  req.headers.set("X-Glint-Date", f[2]);
  req.headers.set("X-Glint-Node", f[3]);
  req.headers.set("X-Glint-Nonce", f[4]);
  if (!f[5].empty()) req.headers.set("If-Match", f[5]);
  if (!f[6].empty()) req.headers.set("X-Glint-Expect-Digest", f[6]);
  if (f[7] == "chunked") req.chunked = true;
  else if (!f[7].empty()) req.content_length = f[7].size();
  req.headers.set("Authorization", "GLINT-HMAC-SHA256 " + f[8]);
  // A forged signature never verifies.
  if (glint::http::verify(req, "fuzz-secret", f[3], now, std::chrono::seconds(300)).ok()) std::abort();
  // The same fields, signed properly, verify; the nonce is then good exactly once.
  glint::http::Request good = req;
  glint::http::sign_headers(good.headers, "fuzz-secret",
                            glint::http::fields_for(good.method, good.target, f[3],
                                                    glint::http::body_binding(good.content_length, good.chunked),
                                                    good.headers),
                            now);
  auto v = glint::http::verify(good, "fuzz-secret", f[3], now, std::chrono::seconds(300));
  if (!v.ok()) std::abort();
  glint::http::NonceCache cache(16, std::chrono::seconds(300));
  if (!cache.admit(v->nonce, v->date, now).ok() || cache.admit(v->nonce, v->date, now).ok()) std::abort();
  (void)cache.admit(f[4], 1'800'000'000, now);
  // Job targets: whatever parses formats back to itself.
  auto t = glint::JobTarget::parse(f[8]);
  if (t && glint::JobTarget::parse(t->text()).value() != *t) std::abort();
  return 0;
}
