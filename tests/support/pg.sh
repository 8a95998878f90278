#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for integration tests, tests/run.sh and the quickstart.
#   pg.sh start DIR   initdb + start on a free loopback port; writes DIR/env and DIR/pid
#   pg.sh stop DIR    stop the server and remove its data directory
#   pg.sh pause DIR   stop the server, keeping its data (an outage)
#   pg.sh resume DIR  start it again on the same data and port
#   pg.sh --durable start|stop DIR
#                     the quickstart's database: data in DIR/data with fsync on, kept by stop and
#                     started again (same port when it is free) by the next start
# DIR/env holds GLINT_TEST_DATABASE_URL, GLINT_PG_DATA, GLINT_PG_BIN and GLINT_PG_PORT (KEY=VALUE lines).
set -euo pipefail

die() { echo "pg.sh: $*" >&2; exit 1; }
usage() { echo "usage: pg.sh [--durable] start|stop|pause|resume DIR" >&2; exit 2; }

durable=0
if [[ ${1:-} == --durable ]]; then
  durable=1
  shift
fi
[[ $# -eq 2 && ( $1 == start || $1 == stop || $1 == pause || $1 == resume ) ]] || usage
cmd=$1
mkdir -p "$2" || die "cannot create $2"
dir=$(cd "$2" && pwd)

# Serialise concurrent callers on the same DIR (ctest fixture and run.sh may overlap).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$dir/lock"
  flock 9
fi

# Server binaries: the highest /usr/lib/postgresql/<v>/bin (not on PATH on Debian), else PATH.
find_bindir() {
  local d
  d=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  if [[ -n $d && -x $d/initdb && -x $d/pg_ctl ]]; then echo "$d"; return; fi
  d=$(command -v initdb 2>/dev/null || true)
  [[ -n $d ]] || die "no PostgreSQL server binaries (initdb) found in /usr/lib/postgresql/*/bin or PATH"
  dirname "$d"
}

# postgres refuses to run as root, so as root everything runs as the postgres user. Descriptors
# above stderr are closed first: a postmaster inheriting our lock file or a caller's pipe (ctest's
# output capture) would hold it open for its whole life.
as_pg() {
  (
    cd /
    local f fd
    for f in /proc/"$BASHPID"/fd/*; do
      fd=${f##*/}
      if [[ $fd =~ ^[0-9]+$ ]] && ((fd > 2)); then eval "exec $fd>&-"; fi
    done
    if [[ $(id -u) -eq 0 ]]; then
      exec runuser -u postgres -- "$@"
    else
      exec "$@"
    fi
  )
}

ensure_pg_user() {
  [[ $(id -u) -eq 0 ]] || return 0
  id -u postgres >/dev/null 2>&1 && return 0
  useradd --system --no-create-home --shell /usr/sbin/nologin postgres \
    || die "cannot create the postgres user"
}

free_port() {
  if command -v python3 >/dev/null 2>&1 &&
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' 2>/dev/null; then
    return
  fi
  # No python3: probe random high ports; a refused connection means nobody listens there.
  local p _
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  die "no free loopback port found"
}

env_get() {  # env_get KEY FILE
  sed -n "s/^$1=//p" "$2" | head -n 1
}

# Only ever delete data directories this script made.
remove_data() {
  local data=$1
  case $data in
    /tmp/glint-pg.*) rm -rf -- "$data" || die "cannot remove $data" ;;
    *) [[ -z $data ]] || echo "pg.sh: not removing unexpected data dir '$data'" >&2 ;;
  esac
}

server_answers() {  # server_answers BIN PORT DATA
  local bin=$1 port=$2 data=$3
  [[ -n $port && -d $data ]] || return 1
  if [[ -x $bin/pg_isready ]]; then
    "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -t 3
  elif command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h 127.0.0.1 -p "$port" -t 3
  else
    as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1
  fi
}

# A stopped postmaster can linger as a zombie until its reaper (often PID 1) collects it: not alive.
alive() {
  local pid=$1 state
  kill -0 "$pid" 2>/dev/null || return 1
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || echo "?")
  [[ $state != Z && $state != X ]]
}

# Stops the cluster described by DIR/env (if any) and removes it; used by stop and for stale state.
stop_cluster() {
  local env=$dir/env data bin pid _
  [[ -f $env ]] || { rm -f "$dir/pid"; return 0; }
  data=$(env_get GLINT_PG_DATA "$env")
  bin=$(env_get GLINT_PG_BIN "$env")
  pid=""
  [[ -f $dir/pid ]] && pid=$(head -n 1 "$dir/pid")
  if [[ -n $data && -f $data/postmaster.pid && -x $bin/pg_ctl ]]; then
    as_pg "$bin/pg_ctl" -D "$data" -m fast -w -t 20 stop >/dev/null 2>&1 || true
  fi
  if [[ -n $pid ]] && alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
    fi
    ! alive "$pid" || die "postmaster $pid is still running"
  fi
  remove_data "$data"
  rm -f "$env" "$dir/pid"
}

start() {
  if [[ -f $dir/env ]]; then
    if server_answers "$(env_get GLINT_PG_BIN "$dir/env")" "$(env_get GLINT_PG_PORT "$dir/env")" \
      "$(env_get GLINT_PG_DATA "$dir/env")"; then
      echo "pg.sh: already running ($(env_get GLINT_TEST_DATABASE_URL "$dir/env"))"
      return 0
    fi
    echo "pg.sh: removing stale cluster state in $dir" >&2
    stop_cluster
  fi

  local bin data out port attempt pid
  bin=$(find_bindir)
  ensure_pg_user
  # Short path: the socket DATA/.s.PGSQL.PORT must stay under 107 bytes.
  data=$(mktemp -d /tmp/glint-pg.XXXXXX) || die "mktemp failed"
  if [[ $(id -u) -eq 0 ]]; then
    chown postgres: "$data" || { remove_data "$data"; die "cannot chown $data to postgres"; }
  fi
  if ! out=$(as_pg "$bin/initdb" -D "$data" -A trust -E UTF8 --locale=C.UTF-8 -U postgres 2>&1); then
    echo "$out" >&2
    remove_data "$data"
    die "initdb failed"
  fi

  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    if as_pg "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 30 -o \
      "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$data -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null 2>&1; then
      break
    fi
    # Another process may have taken the port between probing and binding: try another one.
    if [[ $attempt -lt 5 ]] && grep -qE 'could not bind|Address already in use|could not create any TCP/IP sockets' "$data/server.log" 2>/dev/null; then
      echo "pg.sh: port $port taken, retrying" >&2
      as_pg "$bin/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
      continue
    fi
    tail -n 20 "$data/server.log" >&2 2>/dev/null || true
    as_pg "$bin/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
    remove_data "$data"
    die "server failed to start (port $port, attempt $attempt)"
  done

  pid=$(head -n 1 "$data/postmaster.pid" 2>/dev/null || true)
  [[ -n $pid ]] || { remove_data "$data"; die "no postmaster.pid after start"; }
  echo "$pid" >"$dir/pid"
  cat >"$dir/env.tmp" <<EOF
GLINT_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:$port/postgres
GLINT_PG_DATA=$data
GLINT_PG_BIN=$bin
GLINT_PG_PORT=$port
EOF
  mv -f "$dir/env.tmp" "$dir/env"
  echo "pg.sh: started PostgreSQL on 127.0.0.1:$port (data $data, pid $pid)"
}

pause() {
  [[ -f $dir/env ]] || die "no cluster in $dir"
  as_pg "$(env_get GLINT_PG_BIN "$dir/env")/pg_ctl" -D "$(env_get GLINT_PG_DATA "$dir/env")" -m fast -w -t 20 stop \
    >/dev/null 2>&1 || die "pg_ctl stop failed"
  echo "pg.sh: paused"
}

resume() {
  [[ -f $dir/env ]] || die "no cluster in $dir"
  local bin data port
  bin=$(env_get GLINT_PG_BIN "$dir/env")
  data=$(env_get GLINT_PG_DATA "$dir/env")
  port=$(env_get GLINT_PG_PORT "$dir/env")
  as_pg "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 30 -o \
    "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$data -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null 2>&1 || die "pg_ctl start failed (port $port)"
  head -n 1 "$data/postmaster.pid" >"$dir/pid"
  echo "pg.sh: resumed on 127.0.0.1:$port"
}

# The quickstart's cluster: initdb once into DIR/data, then start and stop it on the same data.
# fsync stays on (the default): this database holds a catalog someone means to keep.
durable_start() {
  local bin data port old
  bin=$(find_bindir)
  ensure_pg_user
  data=$dir/data
  if [[ -f $dir/env ]] && server_answers "$bin" "$(env_get GLINT_PG_PORT "$dir/env")" "$data"; then
    echo "pg.sh: already running ($(env_get GLINT_TEST_DATABASE_URL "$dir/env"))"
    return 0
  fi
  if [[ ! -f $data/PG_VERSION ]]; then
    mkdir -p "$data"
    [[ $(id -u) -eq 0 ]] && chown postgres: "$data"
    chmod 700 "$data"
    as_pg "$bin/initdb" -D "$data" -A trust -E UTF8 --locale=C.UTF-8 -U postgres >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  fi
  old=$( [[ -f $dir/env ]] && env_get GLINT_PG_PORT "$dir/env" || true)
  port=$old
  if [[ -z $port ]] || (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then port=$(free_port); fi
  as_pg "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 -o \
    "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=''" start >/dev/null 2>&1 ||
    { tail -n 20 "$data/server.log" >&2 2>/dev/null; die "server failed to start (port $port)"; }
  head -n 1 "$data/postmaster.pid" >"$dir/pid"
  printf 'GLINT_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:%s/postgres\nGLINT_PG_DATA=%s\nGLINT_PG_BIN=%s\nGLINT_PG_PORT=%s\n' \
    "$port" "$data" "$bin" "$port" >"$dir/env.tmp"
  mv -f "$dir/env.tmp" "$dir/env"
  echo "pg.sh: started PostgreSQL on 127.0.0.1:$port (durable data $data)"
}

durable_stop() {
  local bin data
  [[ -f $dir/env ]] || { echo "pg.sh: not running"; return 0; }
  bin=$(env_get GLINT_PG_BIN "$dir/env")
  data=$(env_get GLINT_PG_DATA "$dir/env")
  if [[ -f $data/postmaster.pid ]]; then
    as_pg "$bin/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null 2>&1 || die "pg_ctl stop failed"
  fi
  rm -f "$dir/pid"
  echo "pg.sh: stopped (data kept in $data)"
}

if [[ $durable == 1 ]]; then
  case $cmd in
    start) durable_start ;;
    stop) durable_stop ;;
    *) usage ;;
  esac
  exit 0
fi

case $cmd in
  start) start ;;
  pause) pause ;;
  resume) resume ;;
  stop)
    stop_cluster
    echo "pg.sh: stopped"
    ;;
  *) usage ;;
esac
