// The option catalog: every option of every glint process with its type, default and operator help.
// deploy/glint.conf.sample is rendered from this list, so the help texts are operator documentation.
#include "shared/config/config.hpp"

namespace glint::config {

const std::vector<OptionSpec>& catalog() {
  // Function-local static: built once, thread-safe, and the only global state of the module.
  static const std::vector<OptionSpec> specs = {
      // [DEFAULT]: settings shared by every glint process on the node.
      {.section = "DEFAULT", .name = "log_level", .type = Type::String, .default_value = "info",
       .help = "Minimum severity of the log events that are written; one of debug, info, warn or error.",
       .choices = {"debug", "info", "warn", "error"}},
      {.section = "DEFAULT", .name = "log_file", .type = Type::String, .default_value = "",
       .help = "File that log lines are appended to. Empty means standard error, which is what you want "
               "under systemd (the journal captures it)."},
      {.section = "DEFAULT", .name = "strict_permissions", .type = Type::Bool, .default_value = "false",
       .help = "Refuse to start (exit 1) when a configuration file that holds a secret (the shared secret, "
               "a database password) is readable by group or others; by default that is a warning."},
      {.section = "DEFAULT", .name = "node_name", .type = Type::String, .default_value = "",
       .help = "Identity of this node in the nodes table; it must stay the same across restarts and be "
               "unique in the deployment. Empty means the host name."},

      // [database]: the PostgreSQL database holding the image catalog and the nodes table.
      {.section = "database", .name = "connection", .type = Type::String,
       .default_value = "postgresql://glint@127.0.0.1:5432/glint",
       .help = "libpq connection URI of the PostgreSQL database that holds the image catalog and the "
               "nodes table. Prefer ~/.pgpass or PGPASSWORD over a password in this URI (a file with one "
               "must be private: see strict_permissions); it is never logged.",
       .secret_if_password = true},
      {.section = "database", .name = "pool_size", .type = Type::Int, .default_value = "4",
       .help = "Number of database connections each process keeps open.", .min = 1},
      {.section = "database", .name = "connect_timeout", .type = Type::Duration, .default_value = "5s",
       .help = "How long one attempt to open a database connection may take before it is abandoned."},
      {.section = "database", .name = "retry_budget", .type = Type::Duration, .default_value = "10s",
       .help = "Total time an operation keeps retrying after transient database errors (lost "
               "connection, serialization failure) before it gives up and reports the error."},

      // [auth]: authentication between glint processes.
      {.section = "auth", .name = "shared_secret", .type = Type::String, .default_value = "",
       .help = "HMAC key that signs requests between glint processes; every process of the deployment "
               "must use the same value. Required by glint-store. Keep this file readable only by the "
               "glint user.",
       .secret = true},
      {.section = "auth", .name = "max_clock_skew", .type = Type::Duration, .default_value = "300s",
       .help = "Largest accepted difference between the timestamp of a signed request and the local "
               "clock; requests outside this window are rejected so that captured requests cannot be "
               "replayed later. Keep node clocks in sync with NTP."},
      {.section = "auth", .name = "nonce_cache", .type = Type::Int, .default_value = "200000",
       .help = "Signed requests a storage node remembers within the clock-skew window, so none can be "
               "replayed; when full, further requests get 503 until old ones expire.",
       .min = 1000, .max = 100000000},

      // [store]: glint-store, the per-node blob server.
      {.section = "store", .name = "bind_host", .type = Type::String, .default_value = "127.0.0.1",
       .help = "Address the store's HTTP API listens on."},
      {.section = "store", .name = "bind_port", .type = Type::Int, .default_value = "0",
       .help = "TCP port the store's HTTP API listens on. 0 means any free port chosen at start-up; "
               "use port_file to learn which one.",
       .min = 0, .max = 65535},
      {.section = "store", .name = "port_file", .type = Type::String, .default_value = "",
       .help = "If set, the port actually bound is written to this file once the store listens "
               "(useful with bind_port = 0)."},
      {.section = "store", .name = "advertise_address", .type = Type::String, .default_value = "",
       .help = "host:port that other nodes use to reach this store, as recorded in the nodes table. "
               "Empty means bind_host and the bound port; set it when the store is behind NAT or "
               "listens on 0.0.0.0."},
      {.section = "store", .name = "data_dir", .type = Type::String, .default_value = "/var/lib/glint/store",
       .help = "Directory holding this node's image data; it is created if missing and may be used by "
               "one store process only."},
      {.section = "store", .name = "stale_temp_after", .type = Type::Duration, .default_value = "1h",
       .help = "Temp files of uploads that are not running and have not been written for this long are "
               "removed (checked every 10 minutes; every leftover also goes when the store starts)."},
      {.section = "store", .name = "zone", .type = Type::String, .default_value = "default",
       .help = "Failure domain of this node (for example a rack or a room); copies of an image are "
               "spread across zones."},
      {.section = "store", .name = "weight", .type = Type::Double, .default_value = "1.0",
       .help = "Relative share of new images placed on this node compared with the other nodes, "
               "usually proportional to its capacity; 0 means no new images are placed here.",
       .min = 0},
      {.section = "store", .name = "block_size", .type = Type::Size, .default_value = "1M",
       .help = "Size of the blocks new images are checksummed in; every read verifies whole blocks. "
               "Images already stored keep the block size they were written with.",
       .min = 4096, .max = 64.0 * 1024 * 1024},
      {.section = "store", .name = "reserve", .type = Type::Size, .default_value = "1G",
       .help = "Free space always left on the data filesystem; uploads that would cross it are refused "
               "so the node never fills its disk completely."},
      {.section = "store", .name = "direct_io", .type = Type::Bool, .default_value = "true",
       .help = "Write uploads with O_DIRECT (bypassing the page cache) where the filesystem allows it. "
               "It saves the CPU of copying every byte into the page cache, which a storage node "
               "rarely reads back soon; false writes through the page cache."},
      {.section = "store", .name = "direct_reads", .type = Type::Bool, .default_value = "false",
       .help = "Serve downloads with O_DIRECT reads. Off (the default), downloads read through the "
               "page cache with kernel read-ahead, so an image read again (a boot storm, a replica "
               "being copied) comes from memory. The auditor and the updater always read directly: "
               "they read everything once and would only push hot images out of the cache."},
      {.section = "store", .name = "fsync", .type = Type::Bool, .default_value = "true",
       .help = "Flush image data to disk before an upload is acknowledged. Turn off only for tests: a "
               "power loss could then lose acknowledged images."},
      {.section = "store", .name = "io_threads", .type = Type::Int, .default_value = "4",
       .help = "Number of threads serving HTTP requests and disk I/O.", .min = 1, .max = 256},
      {.section = "store", .name = "read_timeout", .type = Type::Duration, .default_value = "30s",
       .help = "Timeout on every read from a client; a client that sends nothing for this long is "
               "disconnected."},
      {.section = "store", .name = "idle_timeout", .type = Type::Duration, .default_value = "60s",
       .help = "How long an idle keep-alive connection is kept open waiting for the next request."},
      {.section = "store", .name = "max_header_bytes", .type = Type::Size, .default_value = "8K",
       .help = "Largest accepted size of a request's header section; requests with larger headers are "
               "rejected."},
      {.section = "store", .name = "heartbeat_interval", .type = Type::Duration, .default_value = "10s",
       .help = "How often this node refreshes its row (free space, last heartbeat) in the nodes table, "
               "which tells the other processes that it is alive."},
      {.section = "store", .name = "drain_timeout", .type = Type::Duration, .default_value = "10s",
       .help = "On SIGTERM, how long open requests may run to completion before the store exits anyway."},

      // [api]: glint-api, the OpenStack Image API v2 endpoint.
      {.section = "api", .name = "bind_host", .type = Type::String, .default_value = "127.0.0.1",
       .help = "Address the Image API listens on."},
      {.section = "api", .name = "bind_port", .type = Type::Int, .default_value = "9292",
       .help = "TCP port of the Image API (Glance's is 9292); 0 picks any free port (see port_file).",
       .min = 0, .max = 65535},
      {.section = "api", .name = "port_file", .type = Type::String, .default_value = "",
       .help = "File the bound port is written to after start-up (useful with bind_port = 0). Empty: "
               "not written."},
      {.section = "api", .name = "io_threads", .type = Type::Int, .default_value = "4",
       .help = "Number of threads serving API requests.", .min = 1, .max = 256},
      {.section = "api", .name = "read_timeout", .type = Type::Duration, .default_value = "60s",
       .help = "Timeout on every read from a client."},
      {.section = "api", .name = "idle_timeout", .type = Type::Duration, .default_value = "60s",
       .help = "How long an idle keep-alive connection is kept open."},
      {.section = "api", .name = "drain_timeout", .type = Type::Duration, .default_value = "30s",
       .help = "On SIGTERM, how long open requests (uploads, downloads) may run before the API exits."},
      {.section = "api", .name = "max_header_bytes", .type = Type::Size, .default_value = "16K",
       .help = "Largest accepted size of a request's header section (Keystone tokens are large)."},
      {.section = "api", .name = "tls_cert_file", .type = Type::String, .default_value = "",
       .help = "PEM certificate chain: when set (with tls_key_file), the Image API serves HTTPS only (TLS 1.2+, "
               "ECDHE with AES-GCM or ChaCha20). SIGHUP reloads both files without dropping connections; a "
               "pair that does not load, or a certificate that is not valid now, is refused at start (exit 1) "
               "and at reload (the old one stays)."},
      {.section = "api", .name = "tls_key_file", .type = Type::String, .default_value = "",
       .help = "PEM private key of tls_cert_file. Keep it readable only by the glint user."},
      {.section = "tls", .name = "ca_file", .type = Type::String, .default_value = "",
       .help = "The cluster CA (PEM) for traffic between glint processes. Set on every node, with "
               "cert_file and key_file: glint-store then serves HTTPS only and accepts only clients whose "
               "certificate this CA signed; glint-api and the replicator reach stores over HTTPS and accept "
               "a store only if its certificate, signed by this CA, names the node (its node_name as a DNS "
               "subject alternative name), whatever address it is reached at. Empty: plain HTTP between "
               "nodes (requests are still signed with [auth] shared_secret, but image bytes travel in clear)."},
      {.section = "tls", .name = "cert_file", .type = Type::String, .default_value = "",
       .help = "This node's certificate (PEM chain) signed by ca_file, naming node_name; the store serves it "
               "and clients present it. SIGHUP makes glint-store reload it."},
      {.section = "tls", .name = "key_file", .type = Type::String, .default_value = "",
       .help = "Private key of cert_file. Keep it readable only by the glint user."},
      {.section = "api", .name = "auth_mode", .type = Type::String, .default_value = "noauth",
       .help = "keystone: validate every request's X-Auth-Token against Keystone ([keystone_authtoken]) "
               "and take project, user and roles from the token only. noauth: Glance's no-Keystone "
               "behaviour (every request sees and changes every image; nobody may publicize). headers: "
               "trust X-Project-Id and X-Roles as sent; only behind an authenticating proxy that sets "
               "and strips them, since any client can claim to be admin.",
       .choices = {"noauth", "keystone", "headers"}},
      {.section = "api", .name = "limit_param_default", .type = Type::Int, .default_value = "25",
       .help = "Page size of image lists when the request gives no limit.", .min = 1},
      {.section = "api", .name = "api_limit_max", .type = Type::Int, .default_value = "1000",
       .help = "Largest page size a request may ask for; larger limits are reduced to it.", .min = 1},
      {.section = "api", .name = "image_size_cap", .type = Type::Size, .default_value = "1T",
       .help = "Largest image a client may upload (Glance's image_size_cap); a larger upload is refused "
               "with 413 and the image goes back to queued.",
       .min = 1},
      {.section = "api", .name = "delayed_delete", .type = Type::Bool, .default_value = "false",
       .help = "false: deleting an image removes its data from every node at once. true: the image goes "
               "to pending_delete and its data is left for the reaper (Glance's scrubber)."},
      {.section = "api", .name = "peer_timeout", .type = Type::Duration, .default_value = "30s",
       .help = "Timeout on every connect, read and write between glint-api and a storage node; a node "
               "that stalls longer is dropped from the transfer and another replica is used."},
      {.section = "api", .name = "local_store_node", .type = Type::String, .default_value = "",
       .help = "Short-circuit reads: the node_name of a glint-store on this machine whose data_dir "
               "(local_store_dir) this process may read. Downloads and cache fills read that node's ok "
               "copies in place, every block verified, instead of over loopback HTTP; a copy that cannot "
               "be read so is read from the nodes as usual. Empty (the default): off."},
      {.section = "api", .name = "local_store_dir", .type = Type::String, .default_value = "",
       .help = "The [store] data_dir of local_store_node (set both or neither). Read only: the store "
               "keeps writing, replacing and quarantining its files as before."},
      {.section = "api", .name = "upload_buffer", .type = Type::Size, .default_value = "8M",
       .help = "Image data held in memory per upload while it is sent to the storage nodes; when the "
               "slowest node falls this far behind, reading from the client pauses (back-pressure).",
       .min = 1024 * 1024, .max = 1024.0 * 1024 * 1024},

      // [keystone_authtoken]: Keystone token validation (auth_mode = keystone); the names are
      // keystonemiddleware's, so a Glance section can be reused.
      {.section = "keystone_authtoken", .name = "auth_url", .type = Type::String, .default_value = "",
       .help = "Keystone endpoint used to validate tokens, http[s]://HOST:PORT[/PATH] (with or without "
               "/v3). https: Keystone's certificate is verified against cafile and its host name."},
      {.section = "keystone_authtoken", .name = "cafile", .type = Type::String, .default_value = "",
       .help = "PEM CA bundle for an https auth_url. Empty: the system's trusted CAs."},
      {.section = "keystone_authtoken", .name = "www_authenticate_uri", .type = Type::String, .default_value = "",
       .help = "Keystone endpoint named to clients in the WWW-Authenticate header of a 401. Empty: auth_url."},
      {.section = "keystone_authtoken", .name = "auth_type", .type = Type::String, .default_value = "password",
       .help = "How glint authenticates its own service user; only password is supported.",
       .choices = {"password"}},
      {.section = "keystone_authtoken", .name = "username", .type = Type::String, .default_value = "",
       .help = "Service user that validates tokens (needs the admin or service role)."},
      {.section = "keystone_authtoken", .name = "password", .type = Type::String, .default_value = "",
       .help = "Password of the service user. Keep this file readable only by the glint user.", .secret = true},
      {.section = "keystone_authtoken", .name = "project_name", .type = Type::String, .default_value = "",
       .help = "Project the service user's token is scoped to (usually service)."},
      {.section = "keystone_authtoken", .name = "user_domain_name", .type = Type::String, .default_value = "Default",
       .help = "Domain of the service user."},
      {.section = "keystone_authtoken", .name = "project_domain_name", .type = Type::String, .default_value = "Default",
       .help = "Domain of the service project."},
      {.section = "keystone_authtoken", .name = "user_domain_id", .type = Type::String, .default_value = "",
       .help = "Domain id of the service user; used instead of user_domain_name when set."},
      {.section = "keystone_authtoken", .name = "project_domain_id", .type = Type::String, .default_value = "",
       .help = "Domain id of the service project; used instead of project_domain_name when set."},
      {.section = "keystone_authtoken", .name = "region_name", .type = Type::String, .default_value = "",
       .help = "Accepted for compatibility with Glance's section; glint talks to auth_url directly."},
      {.section = "keystone_authtoken", .name = "http_connect_timeout", .type = Type::Duration, .default_value = "5s",
       .help = "Timeout on every connect, read and write to Keystone; a Keystone that does not answer in "
               "time makes requests with uncached tokens fail with 503."},
      {.section = "keystone_authtoken", .name = "token_cache_time", .type = Type::Duration, .default_value = "300s",
       .help = "How long a token Keystone validated is trusted without asking again (never past its "
               "expiry); a revoked token stops working within this time. While Keystone is unavailable, "
               "tokens validated before keep working until they expire."},
      {.section = "keystone_authtoken", .name = "token_cache_size", .type = Type::Int, .default_value = "10000",
       .help = "Tokens remembered (least recently used go first).", .min = 1, .max = 10000000},

      // [oslo_policy]: who may do what in the Images API (Glance's rules and option names).
      {.section = "oslo_policy", .name = "policy_file", .type = Type::String, .default_value = "",
       .help = "A policy file in oslo.policy's YAML (or JSON) format whose rules replace Glance's defaults "
               "(e.g. \"publicize_image\": \"role:admin\"). Unknown rule names and bad syntax stop glint-api "
               "at start with file and line. Empty: Glance 25's defaults."},
      {.section = "oslo_policy", .name = "enforce_new_defaults", .type = Type::Bool, .default_value = "false",
       .help = "false (Glance 25's default): the legacy rules, where owners change their images and admins "
               "everything. true: Glance's secure-RBAC personas (admin; a project's member changes its "
               "images; its reader only reads), as Glance with enforce_secure_rbac = true."},

      // [bus]: the ZeroMQ control plane (glint-coordinator). PostgreSQL stays the truth; a lost
      // message only delays work until the next scheduled pass.
      {.section = "bus", .name = "router_endpoint", .type = Type::String, .default_value = "tcp://127.0.0.1:9190",
       .help = "ZeroMQ endpoint of the coordinator's ROUTER socket (registration, heartbeats, events, "
               "commands). The coordinator binds it (tcp://HOST:* picks a free port; see "
               "[coordinator] endpoint_file); every other process connects to it. Empty: no bus."},
      {.section = "bus", .name = "pub_endpoint", .type = Type::String, .default_value = "tcp://127.0.0.1:9191",
       .help = "ZeroMQ endpoint of the coordinator's PUB socket, where events are fanned out."},
      {.section = "bus", .name = "curve_key_file", .type = Type::String, .default_value = "",
       .help = "This process's CURVE key pair (glintctl keys --out FILE; 0600). With curve_server_key, the "
               "bus is encrypted and the coordinator admits only keys it lists ([coordinator] "
               "curve_authorized_keys). On the coordinator: its own key pair. Empty: no CURVE (only on a "
               "trusted network: anything that reaches the ports could drain nodes or forge heartbeats)."},
      {.section = "bus", .name = "curve_server_key", .type = Type::String, .default_value = "",
       .help = "The coordinator's CURVE public key (40 Z85 characters), which clients check."},
      {.section = "bus", .name = "heartbeat_interval", .type = Type::Duration, .default_value = "5s",
       .help = "How often every process tells the coordinator it is alive."},

      // [coordinator]: glint-coordinator, the control-plane hub.
      {.section = "coordinator", .name = "endpoint_file", .type = Type::String, .default_value = "",
       .help = "If set, the endpoints actually bound (router=… and pub=… lines) are written here at "
               "start-up (useful with tcp://HOST:*)."},
      {.section = "coordinator", .name = "curve_authorized_keys", .type = Type::String, .default_value = "",
       .help = "With [bus] curve_key_file: the keys that may connect, one \"ROLE NAME PUBLIC_KEY\" per line. "
               "ROLE is store (speaks only as the store NAME), worker (the workers of node NAME), api, or "
               "operator (glintctl; the only role that may send commands). Unknown keys are refused and "
               "counted (glint_coordinator_auth_refused_total)."},
      {.section = "coordinator", .name = "max_members", .type = Type::Int, .default_value = "10000",
       .help = "Processes the coordinator remembers; beyond that the one heard from longest ago is forgotten.",
       .min = 1, .max = 10000000},
      {.section = "coordinator", .name = "sweep_interval", .type = Type::Duration, .default_value = "1s",
       .help = "How often node liveness is checked against node_down_after."},
      {.section = "coordinator", .name = "bind_host", .type = Type::String, .default_value = "127.0.0.1",
       .help = "Address of the coordinator's HTTP endpoint (/healthcheck, /metrics)."},
      {.section = "coordinator", .name = "bind_port", .type = Type::Int, .default_value = "9192",
       .help = "Port of the coordinator's HTTP endpoint; 0 picks a free one (see port_file).", .min = 0, .max = 65535},
      {.section = "coordinator", .name = "port_file", .type = Type::String, .default_value = "",
       .help = "File the HTTP port is written to after start-up. Empty: not written."},
      {.section = "coordinator", .name = "io_threads", .type = Type::Int, .default_value = "1",
       .help = "Threads serving the coordinator's HTTP endpoint.", .min = 1, .max = 16},
      {.section = "coordinator", .name = "read_timeout", .type = Type::Duration, .default_value = "10s",
       .help = "Timeout on every read from an HTTP client."},
      {.section = "coordinator", .name = "idle_timeout", .type = Type::Duration, .default_value = "30s",
       .help = "How long an idle HTTP keep-alive connection is kept."},
      {.section = "coordinator", .name = "drain_timeout", .type = Type::Duration, .default_value = "5s",
       .help = "On SIGTERM, how long open HTTP requests may run before the coordinator exits."},
      {.section = "coordinator", .name = "max_header_bytes", .type = Type::Size, .default_value = "8K",
       .help = "Largest accepted HTTP request header section."},

      // [worker]: what every worker process (replicator, auditor, …) shares.
      {.section = "worker", .name = "schedule_defaults", .type = Type::String,
       .default_value = "/etc/glint/schedules.conf",
       .help = "Schedule file with the default interval or cron, jitter, window and rate limits of "
               "every worker (schedules/default.conf in the source tree); --schedule-file adds overrides."},
      {.section = "worker", .name = "lock_dir", .type = Type::String, .default_value = "/run/glint",
       .help = "Directory of the per-node instance locks: one process per node and worker."},
      {.section = "worker", .name = "job_lease", .type = Type::Duration, .default_value = "60s",
       .help = "Lease on a claimed job; renewed every third of it while the job runs, so another worker "
               "takes the job over this long after its worker died."},
      {.section = "worker", .name = "metrics_address", .type = Type::String, .default_value = "",
       .help = "host:port where the worker serves /metrics for Prometheus; empty: no endpoint."},

      // [auditor]: glint-auditor, on every storage node (reads the [store] data_dir beside glint-store).
      {.section = "auditor", .name = "os_hash_interval", .type = Type::Duration, .default_value = "30d",
       .help = "A deep pass also recomputes the image's os_hash on replicas whose last such check is older "
               "than this (block checks happen on every deep pass)."},
      {.section = "auditor", .name = "nice", .type = Type::Int, .default_value = "10",
       .help = "CPU niceness of the auditor process (0 = unchanged), so audits yield to client traffic."},
      {.section = "auditor", .name = "ionice_idle", .type = Type::Bool, .default_value = "false",
       .help = "Run the auditor in the idle I/O class (only when the disk is otherwise idle)."},

      // [replicator]: glint-replicator, on every storage node (each node pulls what it should hold).
      {.section = "replicator", .name = "replicate_after_down", .type = Type::Duration, .default_value = "10m",
       .help = "A storage node down for longer than this loses its placement slots: its images are copied "
               "to the next nodes in placement order. Its copies count again when it comes back."},
      {.section = "replicator", .name = "dry_run", .type = Type::Bool, .default_value = "false",
       .help = "Log the excess replicas that would be removed instead of removing them (copies still happen)."},
      {.section = "replicator", .name = "peer_timeout", .type = Type::Duration, .default_value = "30s",
       .help = "Timeout of every read and write between the replicator and a storage node."},
      {.section = "replicator", .name = "full_scan_interval", .type = Type::Duration, .default_value = "1d",
       .help = "Safety net under the change feed: every replicator scans every image at least this often "
               "even when the feed reports nothing. At most 6 days: shorter than the feed's retention (7 days).",
       .min = 60e3, .max = 6 * 86400e3},
      {.section = "replicator", .name = "stall_polls", .type = Type::Int, .default_value = "3",
       .help = "A drain, rebalance or repair job that sees no progress for this many polls makes the next "
               "pass scan every image instead of trusting the change feed.", .min = 1, .max = 1000},

      // [cache]: the image cache of an API node (glint-api serves and fills it, glint-prefetcher
      // warms, prunes and cleans it).
      {.section = "cache", .name = "dir", .type = Type::String, .default_value = "",
       .help = "Directory of this API node's image cache (whole images, verified block by block when "
               "served). Empty: no cache; every download reads the storage nodes."},
      {.section = "cache", .name = "max_size", .type = Type::Size, .default_value = "10G",
       .help = "Soft limit of the cache: an image larger than this is never cached, and the prefetcher "
               "removes least recently used entries until the cache is below it."},
      {.section = "cache", .name = "stall_time", .type = Type::Duration, .default_value = "24h",
       .help = "Incomplete or invalid cache files untouched for this long are removed by the prefetcher."},
      {.section = "cache", .name = "fsync", .type = Type::Bool, .default_value = "false",
       .help = "Flush cache files to disk before they are published. Off by default: every block is "
               "verified when served, so a file torn by a crash is found and refetched, never sent."},
      {.section = "cache", .name = "fill_on_upload", .type = Type::Bool, .default_value = "true",
       .help = "Keep the bytes of every image uploaded through this API node in its cache (published "
               "once the image is active, with the replicas' digest), so the first downloads after an "
               "upload come from local memory or disk, as Glance serves its just-written file."},

      // [reaper]: glint-reaper, on every storage node (each deletes its own node's copies).
      {.section = "reaper", .name = "scrub_time", .type = Type::Duration, .default_value = "0s",
       .help = "How long a delayed delete ([api] delayed_delete) stays restorable (glintctl restore) "
               "before the reaper claims it and deletes its copies (Glance's scrub_time)."},
      {.section = "reaper", .name = "orphan_grace", .type = Type::Duration, .default_value = "7d",
       .help = "How long a file no replica row names (found by the quick audit) is kept before the "
               "reaper deletes it; it is re-checked against the database just before."},
      {.section = "reaper", .name = "purge_after", .type = Type::Duration, .default_value = "30d",
       .help = "Rows of images deleted longer ago than this are purged with their properties, tags and "
               "members (glance-manage db purge; glintctl purge --age-in-days N does it by hand); a purged "
               "id can never be used again. 0: never purge."},
      {.section = "reaper", .name = "stale_upload_after", .type = Type::Duration, .default_value = "15m",
       .help = "A saving image whose upload has not reported progress for this long (glint-api reports "
               "every 30 s while bytes flow) goes back to queued, as after a failed upload.",
       .min = 120e3},
      {.section = "reaper", .name = "dry_run", .type = Type::Bool, .default_value = "false",
       .help = "Log what would be deleted (reap.would_delete, with the reason) and delete nothing; "
               "delayed deletes are not claimed either, so they stay restorable."},
      {.section = "reaper", .name = "peer_timeout", .type = Type::Duration, .default_value = "30s",
       .help = "Timeout of every request from the reaper to its node's glint-store."},

      // [journal] and [updater]: metadata writes kept on the node while PostgreSQL is down.
      {.section = "journal", .name = "dir", .type = Type::String, .default_value = "/var/lib/glint/journal",
       .help = "Directory of this node's journal: writes the store's workers (auditor, replicator, reaper, every "
               "worker's pass record) could not commit because the database was unavailable, kept durably until "
               "glint-updater replays them. Shared by every glint process of the node; give each node its own."},
      {.section = "updater", .name = "max_attempts", .type = Type::Int, .default_value = "3",
       .help = "Passes a journal record may fail for a reason other than the database being down before it is "
               "moved to the journal's quarantine/ directory (counted, logged, never retried).",
       .min = 1, .max = 1000},

      // [cluster]: replication settings every process of the deployment must agree on.
      {.section = "cluster", .name = "replicas", .type = Type::Int, .default_value = "3",
       .help = "Number of copies (R) kept of every image, on distinct nodes and zones where possible.",
       .min = 1, .max = 16},
      {.section = "cluster", .name = "write_quorum", .type = Type::Int, .default_value = "2",
       .help = "Copies that must be written and verified before an upload succeeds; the replicator "
               "creates the rest later. At most replicas.",
       .min = 1, .max = 16},
      {.section = "cluster", .name = "node_down_after", .type = Type::Duration, .default_value = "30s",
       .help = "A storage node whose last heartbeat is older than this is treated as down: no new data "
               "is placed on it and reads go to other replicas first."},
  };
  return specs;
}

}  // namespace glint::config
