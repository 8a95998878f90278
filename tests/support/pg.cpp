#include "tests/support/pg.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include <pqxx/pqxx>

#include "shared/core/uuid.hpp"

namespace glint::testing {

namespace {

constexpr const char* kUrlKey = "GLINT_TEST_DATABASE_URL";

std::optional<std::string> url_from_env_file(const char* path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  const std::string prefix = std::string(kUrlKey) + "=";
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) == 0 && line.size() > prefix.size()) return line.substr(prefix.size());
  }
  return std::nullopt;
}

std::string sanitized(const std::string& prefix) {
  std::string out;
  for (char ch : prefix) {
    const auto c = static_cast<unsigned char>(ch);
    out += std::isalnum(c) ? static_cast<char>(std::tolower(c)) : '_';
  }
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out.insert(0, "t_");
  // PostgreSQL truncates identifiers at 63 bytes; keep room for _<pid>_<12 hex>.
  if (out.size() > 36) out.resize(36);
  return out;
}

// The admin URL with its database replaced: URIs keep host, port and query; keyword DSNs get a
// dbname= keyword appended (the last one wins in libpq).
std::string with_database(const std::string& url, const std::string& db) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return url + " dbname=" + db;
  const auto path = url.find('/', scheme + 3);
  const auto query = url.find('?', scheme + 3);
  const std::string authority = url.substr(0, std::min(path, query));
  const std::string rest = query == std::string::npos ? std::string() : url.substr(query);
  return authority + "/" + db + rest;
}

}  // namespace

std::optional<std::string> admin_database_url() {
  if (const char* v = std::getenv(kUrlKey); v != nullptr && *v != '\0') return std::string(v);
  if (const char* f = std::getenv("GLINT_PG_ENV"); f != nullptr && *f != '\0') return url_from_env_file(f);
#ifdef GLINT_TEST_PG_ENV
  // The build's own fixture (tests/support/CMakeLists.txt): <build>/pg/env.
  return url_from_env_file(GLINT_TEST_PG_ENV);
#else
  return std::nullopt;
#endif
}

std::string fresh_database_url(const std::string& prefix) {
  auto admin = admin_database_url();
  if (!admin) throw std::runtime_error("no PostgreSQL configured (GLINT_TEST_DATABASE_URL / GLINT_PG_ENV)");
  // pid keeps concurrent test processes apart; the random part keeps reruns (pid reuse) and
  // several databases in one process apart without any process-wide counter.
  const std::string name =
      sanitized(prefix) + "_" + std::to_string(::getpid()) + "_" + random_uuid().substr(24, 12);
  pqxx::connection c(*admin);
  pqxx::nontransaction tx(c);  // CREATE DATABASE cannot run inside a transaction block
  tx.exec("CREATE DATABASE " + tx.quote_name(name));
  return with_database(*admin, name);
}

void exec_sql(const std::string& url, const std::string& sql) {
  pqxx::connection c(url);
  pqxx::work w(c);
  w.exec(sql);
  w.commit();
}

std::string query_one(const std::string& url, const std::string& sql) {
  pqxx::connection c(url);
  pqxx::read_transaction t(c);
  auto r = t.exec(sql);
  return r.empty() || r[0][0].is_null() ? "" : r[0][0].as<std::string>();
}

}  // namespace glint::testing

// libpqxx 6.4 leaks the PGresult of a statement that finds its connection dead: make_result() asks
// for the client encoding (which throws broken_connection) before it owns the result. Tests that
// kill sessions on purpose would fail under LeakSanitizer for a bug that is not ours; this hook is
// read only by sanitizer runtimes and is inert otherwise.
extern "C" const char* __lsan_default_suppressions() { return "leak:PQmakeEmptyPGresult\n"; }
