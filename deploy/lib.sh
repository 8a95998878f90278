# Shared shell helpers for deploy/quickstart.sh and tests/bench/*.sh (source it; bash only).

# glint_sign SECRET NODE METHOD TARGET LENGTH IF_MATCH -> prints the curl -H arguments (one per
# line) of a request signed for storage node NODE: date, node, a fresh nonce (a signed request is
# good once) and the signature over method, target, date, node, nonce, body length ("" without a
# body, the byte count, or "chunked"), expected digest (unused here) and If-Match.
glint_sign() {
  local secret=$1 node=$2 method=$3 target=$4 length=$5 if_match=$6 date nonce sig
  date=$(date +%s)
  nonce=$(cat /proc/sys/kernel/random/uuid)
  sig=$(printf '%s\n' "$method" "$target" "$date" "$node" "$nonce" "$length" "" "$if_match" |
        openssl dgst -sha256 -hmac "$secret" -r | cut -d' ' -f1)
  printf '%s\n' -H "X-Glint-Date: $date" -H "X-Glint-Node: $node" -H "X-Glint-Nonce: $nonce" \
    -H "Authorization: GLINT-HMAC-SHA256 $sig"
  if [ -n "$if_match" ]; then printf '%s\n' -H "If-Match: $if_match"; fi
}

# glint_curl [-T FILE] [-m IF_MATCH] SECRET NODE METHOD URL [curl args...]: a signed request to the
# glint-store of node NODE. -T uploads FILE (its size is signed); -m names the copy a DELETE means
# ('"<digest>"' or '*').
glint_curl() {
  local upload="" if_match="" OPTIND=1 opt
  while getopts "T:m:" opt; do
    case $opt in
      T) upload=$OPTARG ;;
      m) if_match=$OPTARG ;;
      *) return 2 ;;
    esac
  done
  shift $((OPTIND - 1))
  local secret=$1 node=$2 method=$3 url=$4
  shift 4
  local target="/${url#*://*/}" length=""
  local -a sig extra=()
  if [ -n "$upload" ]; then
    length=$(stat -c %s "$upload")
    [ "$length" = 0 ] && length=""
    extra=(-T "$upload")
  fi
  mapfile -t sig < <(glint_sign "$secret" "$node" "$method" "$target" "$length" "$if_match")
  curl -sS -X "$method" "${sig[@]}" "${extra[@]}" "$@" "$url"
}

# glint_wait_for SECONDS CMD...: polls CMD until it succeeds or the deadline passes.
glint_wait_for() {
  local deadline=$(( $(date +%s) + $1 ))
  shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -ge "$deadline" ] && return 1
    sleep 0.1  # poll interval
  done
}

# glint_alive PID: true if PID runs (a zombie waiting to be reaped does not count).
glint_alive() {
  local st
  st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ $st != Z* ]]
}

# glint_pid_alive PIDFILE: true if the process named in PIDFILE runs.
glint_pid_alive() {
  [ -s "$1" ] && glint_alive "$(cat "$1")"
}

# glint_started PORTFILE PID: done waiting (the port file exists, or the process is gone).
glint_started() { [ -s "$1" ] || ! glint_alive "$2"; }

# glint_start_service BIN CONF NAME PIDFILE LOG PORTFILE: starts a glint process detached and waits
# for its /healthcheck.
# GLINT_EXTRA_CONFIG (a file, when set and present) is passed after CONF, so its options win.
glint_extra_config() { if [ -n "${GLINT_EXTRA_CONFIG:-}" ] && [ -f "$GLINT_EXTRA_CONFIG" ]; then printf '%s\n' --config-file "$GLINT_EXTRA_CONFIG"; fi; }
glint_start_service() {
  local bin=$1 conf=$2 name=$3 pidfile=$4 log=$5 portfile=$6 extra=()
  mapfile -t extra < <(glint_extra_config)
  rm -f "$portfile"
  setsid "$bin" --config-file "$conf" "${extra[@]}" >>"$log" 2>&1 < /dev/null &
  echo $! > "$pidfile"
  # A process that exits (bad config, port in use) fails at once instead of after the deadline.
  glint_wait_for 30 glint_started "$portfile" "$(cat "$pidfile")" || { echo "$name did not start; see $log" >&2; return 1; }
  [ -s "$portfile" ] || { echo "$name exited at start-up; see $log" >&2; return 1; }
  # GLINT_HEALTH_BASE (default http://127.0.0.1) and GLINT_HEALTH_CURL_OPTS reach an HTTPS service.
  # shellcheck disable=SC2086
  glint_wait_for 30 curl -sf ${GLINT_HEALTH_CURL_OPTS:-} "${GLINT_HEALTH_BASE:-http://127.0.0.1}:$(cat "$portfile")/healthcheck" ||
    { echo "$name not healthy; see $log" >&2; return 1; }
}

# glint_start_worker BIN CONF NAME PIDFILE OUT LOGFILE [ARGS...]: starts a worker daemon detached and
# waits until its loop runs (a new event=daemon.start line in LOGFILE, the log_file of CONF).
glint_start_worker() {
  local bin=$1 conf=$2 name=$3 pidfile=$4 out=$5 logfile=$6 before=0 extra=()
  shift 6
  mapfile -t extra < <(glint_extra_config)
  [ -f "$logfile" ] && before=$(wc -l < "$logfile")
  setsid "$bin" --config-file "$conf" "${extra[@]}" "$@" >>"$out" 2>&1 < /dev/null &
  echo $! > "$pidfile"
  glint_wait_for 30 glint_worker_started "$logfile" "$before" "$(cat "$pidfile")" ||
    { echo "$name did not start; see $out and $logfile" >&2; return 1; }
  glint_alive "$(cat "$pidfile")" || { echo "$name exited at start-up; see $out" >&2; return 1; }
}
glint_worker_started() {  # LOGFILE LINES_BEFORE PID: the loop started, or the process is gone
  ! glint_alive "$3" || tail -n +"$(($2 + 1))" "$1" 2>/dev/null | grep -q 'event=daemon.start'
}

# glint_stop_pid PIDFILE [SECONDS]: SIGTERM, wait, then SIGKILL; removes the pid file.
glint_stop_pid() {
  local pidfile=$1 secs=${2:-20} pid
  [ -s "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  if glint_alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    glint_wait_for "$secs" eval "! glint_alive $pid" || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}
