#include "workers/api/keystone/keystone_validator.hpp"

#include <atomic>
#include <algorithm>
#include <mutex>

#include <nlohmann/json.hpp>

#include "shared/config/config.hpp"
#include "shared/core/time_text.hpp"
#include "shared/http/client.hpp"

namespace glint::api {

namespace {

using nlohmann::json;
constexpr size_t kMaxKeystoneBody = 1 << 20;  // a token body without its catalog is a few KiB
// Renew the service token this long before Keystone says it expires.
constexpr auto kServiceTokenSlack = std::chrono::seconds(120);
constexpr auto kRenewEvery = std::chrono::seconds(10);
constexpr auto kBreak = std::chrono::seconds(2);

}  // namespace

Expected<KeystoneOptions> keystone_options(const config::Config& cfg) {
  const std::string s = "keystone_authtoken";
  KeystoneOptions o;
  o.auth_url = cfg.get_string(s, "auth_url");
  o.username = cfg.get_string(s, "username");
  o.password = cfg.get_string(s, "password");
  o.project_name = cfg.get_string(s, "project_name");
  o.user_domain_name = cfg.get_string(s, "user_domain_name");
  o.project_domain_name = cfg.get_string(s, "project_domain_name");
  o.user_domain_id = cfg.get_string(s, "user_domain_id");
  o.project_domain_id = cfg.get_string(s, "project_domain_id");
  o.timeout = cfg.get_duration(s, "http_connect_timeout");
  o.cafile = cfg.get_string(s, "cafile");
  // Half the request threads at most, so requests with cached tokens always find one.
  o.max_in_flight = std::max<int>(1, static_cast<int>(cfg.get_int("api", "io_threads")) / 2);
  for (const auto& [name, value] : {std::pair{"auth_url", &o.auth_url}, {"username", &o.username},
                                    {"password", &o.password}, {"project_name", &o.project_name}})
    if (value->empty()) return Error{Errc::invalid, "[keystone_authtoken] " + std::string(name) + " is required with auth_mode = keystone"};
  auto ep = parse_keystone_url(o.auth_url);
  if (!ep) return Error{Errc::invalid, "[keystone_authtoken] auth_url: " + ep.error().message};
  if (ep->https)
    if (auto tls = http::client_tls(http::TlsFiles{"", "", o.cafile}); !tls)
      return Error{Errc::invalid, "[keystone_authtoken] cafile: " + tls.error().message};
  return o;
}

namespace {

class KeystoneValidator final : public TokenValidator {
 public:
  KeystoneValidator(KeystoneOptions opts, KeystoneEndpoint ep, std::optional<http::ClientTls> tls, const Clock& clock,
                    log::Logger logger)
      : opts_(std::move(opts)), ep_(std::move(ep)), tls_(std::move(tls)), clock_(clock), log_(std::move(logger)) {}

  // Validations run on request threads, so two guards keep a slow or dead Keystone from taking
  // all of them: at most max_in_flight calls wait on Keystone at once, and after an unavailable
  // answer calls fail at once for kBreak (one probe per kBreak finds out when it is back).
  TokenCheck validate(const std::string& token) override {
    if (!plausible_token(token)) return TokenCheck::invalid("not a token");
    const auto now = clock_.now();
    if (now < broken_until_.load())
      return TokenCheck::unavailable("Keystone was unavailable moments ago; retrying shortly");
    if (in_flight_.fetch_add(1) >= opts_.max_in_flight) {
      in_flight_.fetch_sub(1);
      return TokenCheck::unavailable("too many token validations waiting on Keystone");
    }
    TokenCheck out = ask(token);
    in_flight_.fetch_sub(1);
    if (out.outcome == TokenCheck::Outcome::unavailable) broken_until_.store(clock_.now() + kBreak);
    return out;
  }

 private:
  TokenCheck ask(const std::string& token) {
    std::string refused;  // the service token Keystone refused, if it did
    for (int attempt = 0; attempt < 2; ++attempt) {
      auto service = service_token(refused);
      if (!service) return TokenCheck::unavailable(service.error().message);
      http::ClientRequest req;
      req.method = "GET";
      req.target = ep_.prefix + "/v3/auth/tokens?nocatalog";
      req.headers.set("X-Auth-Token", *service);
      req.headers.set("X-Subject-Token", token);
      req.headers.set("Accept", "application/json");
      auto resp = send(req);
      if (!resp) return TokenCheck::unavailable("Keystone: " + resp.error().message);
      if (resp->status == 200) {
        TokenCheck c = token_from_body(resp->body, clock_.wall());
        // A 200 that is no token document is a broken Keystone (or a proxy's page), not a verdict
        // on the token: cached as invalid it would lock its owner out for the whole TTL.
        if (c.outcome == TokenCheck::Outcome::invalid && c.reason == kNotATokenDocument) return TokenCheck::unavailable(c.reason);
        return c;
      }
      if (resp->status == 404) return TokenCheck::invalid("Keystone does not know the token");
      if (resp->status == 401 || resp->status == 403) {
        // Our own token was refused (expired early, revoked, rotated keys): renew once.
        log_.warn("keystone.service_token_refused", {{"status", static_cast<int64_t>(resp->status)}});
        refused = *service;
        continue;
      }
      return TokenCheck::unavailable("Keystone answered " + std::to_string(resp->status));
    }
    return TokenCheck::unavailable("Keystone refuses glint's service credentials");
  }

  Expected<http::ClientResponse> send(http::ClientRequest& req) {
    auto body = std::make_shared<std::string>();
    req.on_body = [body](std::span<const std::byte> chunk) {
      if (body->size() + chunk.size() > kMaxKeystoneBody) return false;
      body->append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
      return true;
    };
    http::Client client(ep_.host, ep_.port, opts_.timeout, tls_);
    auto resp = client.send(req);
    if (resp && resp->status >= 200 && resp->status < 300) resp->body = std::move(*body);
    return resp;
  }

  // The service user's token, fetched when missing or close to expiry, or when Keystone refused
  // `refused` and no other thread has renewed it since. Renewals after a refusal are at most one
  // per kRenewEvery: a permanent refusal must not turn every request into a password login.
  Expected<std::string> service_token(const std::string& refused) {
    std::lock_guard<std::mutex> lk(mu_);
    const bool fresh = !service_token_.empty() && clock_.wall() + kServiceTokenSlack < service_expires_;
    if (fresh && (refused.empty() || refused != service_token_)) return service_token_;
    if (fresh && clock_.now() - last_forced_renewal_ < kRenewEvery)
      return Error{Errc::unavailable, "Keystone refuses glint's service token (renewed less than 10 s ago)"};
    if (!refused.empty()) last_forced_renewal_ = clock_.now();
    auto domain = [](const std::string& id, const std::string& name) {
      return id.empty() ? json{{"name", name}} : json{{"id", id}};
    };
    json auth = {{"auth",
                  {{"identity",
                    {{"methods", {"password"}},
                     {"password", {{"user", {{"name", opts_.username}, {"domain", domain(opts_.user_domain_id, opts_.user_domain_name)},
                                             {"password", opts_.password}}}}}}},
                   {"scope", {{"project", {{"name", opts_.project_name},
                                           {"domain", domain(opts_.project_domain_id, opts_.project_domain_name)}}}}}}}};
    http::ClientRequest req;
    req.method = "POST";
    req.target = ep_.prefix + "/v3/auth/tokens?nocatalog";
    req.headers.set("Content-Type", "application/json");
    req.headers.set("Accept", "application/json");
    req.body = auth.dump();
    auto resp = send(req);
    if (!resp) return Error{Errc::unavailable, "Keystone: " + resp.error().message};
    const std::string subject = resp->header("x-subject-token");
    if (resp->status != 201 || subject.empty()) {
      log_.error("keystone.service_auth_failed", {{"status", static_cast<int64_t>(resp->status)}, {"user", opts_.username}});
      return Error{Errc::unavailable, "Keystone refused glint's service user (" + std::to_string(resp->status) + ")"};
    }
    const TokenCheck mine = token_from_body(resp->body, clock_.wall());
    service_token_ = subject;
    service_expires_ = mine.outcome == TokenCheck::Outcome::valid ? mine.info.expires_at : clock_.wall() + kServiceTokenSlack * 2;
    log_.info("keystone.service_token", {{"expires_at", iso8601_utc(service_expires_)}});
    return service_token_;
  }

  const KeystoneOptions opts_;
  const KeystoneEndpoint ep_;
  const std::optional<http::ClientTls> tls_;  // https: Keystone verified by its host name
  const Clock& clock_;
  log::Logger log_;
  std::mutex mu_;  // guards the service token; held across its renewal so only one thread renews
  std::string service_token_;
  std::chrono::system_clock::time_point service_expires_{};
  std::chrono::steady_clock::time_point last_forced_renewal_{};
  std::atomic<int> in_flight_{0};
  std::atomic<std::chrono::steady_clock::time_point> broken_until_{};
};

}  // namespace

std::unique_ptr<TokenValidator> make_keystone_validator(KeystoneOptions opts, const Clock& clock, log::Logger logger) {
  auto ep = parse_keystone_url(opts.auth_url);
  if (!ep) return nullptr;
  std::optional<http::ClientTls> tls;
  if (ep->https) {
    auto ctx = http::client_tls(http::TlsFiles{"", "", opts.cafile});
    if (!ctx) return nullptr;  // keystone_options() reported why
    tls = http::ClientTls{*ctx, ep->host};
  }
  return std::make_unique<KeystoneValidator>(std::move(opts), std::move(*ep), std::move(tls), clock, std::move(logger));
}

}  // namespace glint::api
