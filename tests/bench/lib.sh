# Helpers shared by the benchmark scripts (sourced). Details go to stderr as `# ...`.
log() { echo "# $*" >&2; }
now_ms() { date +%s%3N; }
# drop_caches: sync, and drop the page cache when allowed (else both sides run as they find it).
drop_caches() {
  sync
  if [ -w /proc/sys/vm/drop_caches ]; then echo 3 > /proc/sys/vm/drop_caches; else log "page cache not dropped (not writable)"; fi
}
# bench_fresh_dir DIR: stops what an earlier run left in DIR (its pid files, its PostgreSQL), empties it
# and makes DIR/log, DIR/run and DIR/etc; sets dir to its absolute path.
bench_fresh_dir() {
  dir=$1
  if [ -d "$dir/run" ]; then for f in "$dir"/run/*.pid; do glint_stop_pid "$f"; done; fi
  [ -s "$dir/pg/env" ] && "$root/tests/support/pg.sh" stop "$dir/pg" >/dev/null
  rm -rf "$dir" && mkdir -p "$dir/log" "$dir/run" "$dir/etc"
  dir=$(cd "$dir" && pwd)
}
# bench_pg DIR DB: an ephemeral PostgreSQL in DIR/pg (log in DIR/log/pg.log) with database DB;
# sets pg_started, admin_url, pg_bin, db_url and defines psql_q SQL.
bench_pg() {
  "$root/tests/support/pg.sh" start "$1/pg" >>"$1/log/pg.log"
  pg_started=1
  admin_url=$(sed -n 's/^GLINT_TEST_DATABASE_URL=//p' "$1/pg/env")
  pg_bin=$(sed -n 's/^GLINT_PG_BIN=//p' "$1/pg/env")
  db_url=${admin_url%/postgres}/$2
  "$pg_bin/psql" -q "$admin_url" -c "create database $2" >/dev/null
}
psql_q() { "$pg_bin/psql" -qAt -v ON_ERROR_STOP=1 "$db_url" -c "$1"; }
# bench_nginx WORKDIR ROOT PORT: nginx (sendfile on, one worker) serving the files under ROOT on
# 127.0.0.1:PORT, its temp files in WORKDIR; sets nginx_pid (stop it with kill) once it answers.
bench_nginx() {
  mkdir -p "$1"
  cat > "$1/nginx.conf" <<NGX
daemon off; worker_processes 1; error_log $1/nginx-error.log; pid $1/nginx.pid;
events { worker_connections 64; }
http { access_log off; sendfile on; tcp_nopush on;
  client_body_temp_path $1; proxy_temp_path $1; fastcgi_temp_path $1; uwsgi_temp_path $1; scgi_temp_path $1;
  server { listen 127.0.0.1:$3; root $2; } }
NGX
  nginx -c "$1/nginx.conf" &
  nginx_pid=$!
  glint_wait_for 30 curl -s -o /dev/null "http://127.0.0.1:$3/"
}
