#!/usr/bin/env bash
# A throw-away Keystone v3 on loopback for tests: Debian's keystone package on uwsgi, SQLite,
# fernet tokens, in-process cache (one worker, so it stays coherent).
#   keystone.sh start DIR   on a free port; writes DIR/env (KEYSTONE_URL, KEYSTONE_PID,
#                           KEYSTONE_ADMIN_PASSWORD, KEYSTONE_SERVICE_PASSWORD),
#                           DIR/admin-openrc and DIR/authtoken.ini (a [keystone_authtoken] section)
#   keystone.sh stop DIR    stops exactly the uwsgi it started (by PID) and removes DIR
#   keystone.sh down DIR    stops it and keeps DIR; the next start serves the same data on the
#                           same port and passwords (the quickstart's persistent Keystone)
# Users: admin (project admin, role admin) and glint (project service, roles admin + service).
set -euo pipefail
die() { echo "keystone.sh: $*" >&2; exit 1; }
[[ $# -eq 2 && ( $1 == start || $1 == stop || $1 == down ) ]] || { echo "usage: keystone.sh start|stop|down DIR" >&2; exit 2; }
mkdir -p "$2"
dir=$(cd "$2" && pwd)
py=/usr/bin/python3  # Debian's python, which has keystoneauth1 (a pyenv python may come first)

if [ "$1" = stop ] || [ "$1" = down ]; then
  if [ -s "$dir/env" ]; then
    pid=$(sed -n 's/^KEYSTONE_PID=//p' "$dir/env")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  [ "$1" = stop ] && rm -rf "$dir"
  exit 0
fi

for b in keystone-manage keystone-wsgi-public uwsgi; do
  command -v "$b" >/dev/null || die "$b not found (apt-get install keystone uwsgi-plugin-python3)"
done
fresh=1
if [ -s "$dir/env" ] && [ -s "$dir/keystone.sqlite" ]; then
  # Existing data (keystone.sh down): the same port and passwords; only uwsgi is started again.
  fresh=0
  url=$(sed -n 's/^KEYSTONE_URL=//p' "$dir/env")
  port=${url##*:}
  pid=$(sed -n 's/^KEYSTONE_PID=//p' "$dir/env")
  admin_pw=$(sed -n 's/^KEYSTONE_ADMIN_PASSWORD=//p' "$dir/env")
  service_pw=$(sed -n 's/^KEYSTONE_SERVICE_PASSWORD=//p' "$dir/env")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
     [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$url/v3" || true)" = 200 ]; then
    echo "$pid"
    exit 0
  fi
else
  port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  url=http://127.0.0.1:$port
  admin_pw=$(openssl rand -hex 12)
  service_pw=$(openssl rand -hex 12)
fi
mkdir -p "$dir/fernet" "$dir/credential" "$dir/log"
chmod 700 "$dir/fernet" "$dir/credential"
cat > "$dir/keystone.conf" <<CONF
[DEFAULT]
log_file = $dir/log/keystone.log
use_stderr = False
[database]
connection = sqlite:///$dir/keystone.sqlite
[token]
provider = fernet
expiration = 7200
[fernet_tokens]
key_repository = $dir/fernet/
[fernet_receipts]
key_repository = $dir/fernet/
[credential]
key_repository = $dir/credential/
[identity]
password_hash_rounds = 4
[cache]
enabled = True
backend = dogpile.cache.memory
[oslo_policy]
enforce_new_defaults = False
enforce_scope = False
CONF
km() { keystone-manage --config-file "$dir/keystone.conf" "$@" >> "$dir/log/manage.out" 2>&1 ||
         { tail -n 20 "$dir/log/manage.out" >&2; die "keystone-manage $1 failed"; }; }
if [ "$fresh" = 1 ]; then
  km db_sync
  sqlite3 "$dir/keystone.sqlite" 'PRAGMA journal_mode=WAL;' > /dev/null  # readers do not block commits
  km fernet_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)"
  km credential_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)"
  km bootstrap --bootstrap-password "$admin_pw" --bootstrap-username admin --bootstrap-project-name admin \
    --bootstrap-role-name admin --bootstrap-service-name keystone --bootstrap-region-id RegionOne \
    --bootstrap-admin-url "$url/v3" --bootstrap-public-url "$url/v3" --bootstrap-internal-url "$url/v3"
fi

# uwsgi closes the connection after each response without saying so; the header makes clients
# reconnect instead of failing on a reused connection.
setsid uwsgi --plugin python3 --http-socket "127.0.0.1:$port" --wsgi-file "$(command -v keystone-wsgi-public)" \
  --env "OS_KEYSTONE_CONFIG_FILES=$dir/keystone.conf" --master --processes 1 --threads 1 --enable-threads \
  --lazy-apps --die-on-term --no-orphans --buffer-size 65535 --add-header "Connection: close" \
  --logto "$dir/log/uwsgi.log" < /dev/null >> "$dir/log/uwsgi.out" 2>&1 &
pid=$!
printf 'KEYSTONE_URL=%s\nKEYSTONE_PID=%s\nKEYSTONE_ADMIN_PASSWORD=%s\nKEYSTONE_SERVICE_PASSWORD=%s\n' \
  "$url" "$pid" "$admin_pw" "$service_pw" > "$dir/env"
chmod 600 "$dir/env"
up=0
for _ in $(seq 1 600); do
  kill -0 "$pid" 2>/dev/null || { tail -n 30 "$dir/log/uwsgi.log" >&2; die "uwsgi exited during start-up"; }
  if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$url/v3" || true)" = 200 ]; then up=1; break; fi
  sleep 0.1
done
[ "$up" = 1 ] || die "keystone did not answer on $url within 60 s (see $dir/log)"

cat > "$dir/admin-openrc" <<RC
export OS_AUTH_URL=$url/v3 OS_IDENTITY_API_VERSION=3 OS_AUTH_TYPE=password OS_USERNAME=admin
export OS_PASSWORD=$admin_pw OS_PROJECT_NAME=admin OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default
export OS_REGION_NAME=RegionOne OS_INTERFACE=public
RC
cat > "$dir/authtoken.ini" <<INI
[keystone_authtoken]
auth_url = $url
www_authenticate_uri = $url
username = glint
password = $service_pw
project_name = service
INI
chmod 600 "$dir/admin-openrc" "$dir/authtoken.ini"

[ "$fresh" = 1 ] || { echo "$pid"; exit 0; }
OS_AUTH_URL=$url/v3 ADMIN_PW=$admin_pw SERVICE_PW=$service_pw "$py" - <<'PY' || die "creating the service user failed"
import os
from keystoneauth1 import session
from keystoneauth1.identity import v3
from keystoneclient.v3 import client
e = os.environ
ks = client.Client(session=session.Session(auth=v3.Password(
    auth_url=e["OS_AUTH_URL"], username="admin", password=e["ADMIN_PW"], project_name="admin",
    user_domain_id="default", project_domain_id="default")), interface="public")
project = ks.projects.create("service", "default")
service_role = ks.roles.create("service")
admin_role = ks.roles.list(name="admin")[0]
user = ks.users.create("glint", domain="default", default_project=project, password=e["SERVICE_PW"])
for role in (admin_role, service_role):
    ks.roles.grant(role, user=user, project=project)
PY
echo "$pid"
