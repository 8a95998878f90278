// PostgreSQL for integration tests: where the throwaway cluster of tests/support/pg.sh is, and a
// fresh, empty database per test. Free functions; safe to call from any thread.
#pragma once
#include <optional>
#include <string>

namespace glint::testing {

// The admin URL (database "postgres") from env GLINT_TEST_DATABASE_URL, else from the
// GLINT_TEST_DATABASE_URL= line of the file named by env GLINT_PG_ENV, else of the build's
// fixture file GLINT_TEST_PG_ENV (<build>/pg/env, written by pg.sh start); nullopt when none is.
std::optional<std::string> admin_database_url();

// Creates a new empty database named <prefix>_<pid>_<random>, lower-case and sanitised, on the
// admin server and returns its URL (same host and port). Throws std::runtime_error when no
// PostgreSQL is configured or the database cannot be created (a test-setup failure).
std::string fresh_database_url(const std::string& prefix);

// One statement on `url`, committed (test setup; throws on error).
void exec_sql(const std::string& url, const std::string& sql);
// The first column of the first row of `sql` on `url` as text; "" when there is none or it is NULL.
std::string query_one(const std::string& url, const std::string& sql);

}  // namespace glint::testing
