// glint-api's request handler: the Images API v2 as Glance answers it (version discovery, image
// records, tags, actions). Plain code over the ImageRepository seam, called concurrently by the
// server's threads; thread-safe.
#pragma once
#include <functional>
#include <cstddef>

#include "shared/db/repositories.hpp"
#include "shared/http/message.hpp"
#include "shared/log/log.hpp"
#include "shared/metrics/metrics.hpp"
#include "workers/api/api_routes.hpp"
#include "workers/api/identity.hpp"
#include "workers/api/image_patch.hpp"
#include "workers/api/image_policy.hpp"
#include "workers/api/image_data.hpp"

namespace glint::api {

struct ApiOptions {
  size_t limit_default = 25;
  size_t limit_max = 1000;
  AuthMode auth_mode = AuthMode::noauth;
  // keystone mode: validates X-Auth-Token (the cache in front of Keystone); the URI a 401 names.
  TokenValidator* tokens = nullptr;
  std::string www_authenticate_uri = {};
  // Glance's rules ([oslo_policy]); nullptr: Glance's defaults, legacy behaviour.
  const Policy* policy = nullptr;
  // Whether the catalog is reachable (the pool's breaker); /healthcheck reports it without a
  // database call. Unset: always reachable.
  std::function<bool()> database_up = {};
  // This node's image cache (the /v2/cache API); nullptr: "not supported at this site" (404).
  cache::ImageCache* cache = nullptr;
  // The doorbell that tells every API node's prefetcher its queue grew (cache.queue).
  bus::Publisher* events = nullptr;
};

class ApiHandler final : public http::Handler {
 public:
  ApiHandler(ApiOptions opts, db::ImageRepository& images, db::MemberRepository& members, ImageData& data,
             metrics::Metrics& metrics, log::Logger logger);
  http::Reply handle_request(const http::Request& req) override;
  void on_complete(const http::Request& req, int status, uint64_t bytes_in, uint64_t bytes_out,
                   double seconds) override;

 private:
  http::Response versions(const http::Request& req, int status);
  http::Reply route_request(const http::Request& req, const Identity& who);
  // keystone mode: the token's identity, or the 401/503 to answer instead.
  http::Reply route_with_token(const http::Request& req);
  http::Response unauthorized(const http::Request& req);
  http::Response create(const http::Request& req, const Identity& who, const std::string& body);
  http::Response show(const http::Request& req, const Identity& who, const std::string& id);
  http::Response list(const http::Request& req, const Identity& who);
  http::Response patch(const http::Request& req, const Identity& who, const std::string& id, const std::string& body,
                       PatchDialect dialect);
  http::Response remove(const http::Request& req, const Identity& who, const std::string& id);
  http::Response tag(const http::Request& req, const Identity& who, const std::string& id, const std::string& tag);
  http::Response members(const http::Request& req, const Identity& who, const std::string& id,
                         const std::string& member, const std::string& body);
  http::Reply file(const http::Request& req, const Identity& who, const std::string& id);
  http::Response action(const http::Request& req, const Identity& who, const std::string& id, const std::string& name);
  // The cache API (cache_api.cpp): GET/DELETE /v2/cache, PUT/DELETE /v2/cache/{id},
  // GET /v2/cache/nodes/{id}, as Glance answers them, POST /v2/cache/clean|prune; admin only by
  // Glance's default policy.
  http::Response cache_api(const http::Request& req, const Identity& who, ApiRoute::Kind kind, const std::string& id);
  http::Response cache_queue(const http::Request& req, const Identity& who, const std::string& id);
  http::Response cache_delete(const http::Request& req, const Identity& who, const std::string& id);
  http::Response cache_clear(const http::Request& req, const Identity& who);
  // POST /v2/cache/clean (stale partial and quarantined files) and /v2/cache/prune (LRU down to
  // max_size): what this node's prefetcher does on its schedule, now.
  http::Response cache_maintain(const http::Request& req, const Identity& who, ApiRoute::Kind kind);
  bool may_manage_cache(const Identity& who, Action a, const PolicyTarget& target) const;
  // The image if `who` may see it (nullopt: answer 404), or the database error.
  Expected<std::optional<db::ImageRow>> visible_image(const Identity& who, const std::string& id);
  http::Response unavailable(const http::Request& req, const Error& e);
  // Policy (image_policy.cpp): whether `who` may do `a`; for an existing image, the refusal Glance
  // answers (404 when `who` may not even get it, 403 otherwise); for a visibility, its rule's 403.
  const Policy& policy() const { return opts_.policy ? *opts_.policy : default_policy_; }
  bool allows(const Identity& who, Action a, const PolicyTarget& target) const;
  std::optional<http::Response> refuse(const http::Request& req, const Identity& who, Action a, const db::ImageRow& img) const;
  std::optional<http::Response> refuse_visibility(const http::Request& req, const Identity& who, const std::string& visibility,
                                                  const PolicyTarget& target) const;
  // The identity with its admin flag from the context_is_admin rule.
  Identity with_policy(Identity who) const;

  ApiOptions opts_;
  const Policy default_policy_ = Policy::defaults(false);
  db::ImageRepository& images_;
  db::MemberRepository& members_;
  ImageData& data_;
  metrics::Metrics& metrics_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Histogram& latency_;
  log::Logger log_;
};

}  // namespace glint::api
