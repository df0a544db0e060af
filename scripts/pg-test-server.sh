#!/usr/bin/env bash
# A throw-away PostgreSQL server for the tests: initdb + pg_ctl in a private
# directory, listening on 127.0.0.1 at a free port and on a unix socket there.
#   pg-test-server.sh start DIR   -> writes DIR/uri (postgresql://...) and DIR/socket_uri
#   pg-test-server.sh stop DIR
#   pg-test-server.sh restart DIR (same port; for outage tests)
#   pg-test-server.sh resume DIR  (after stop: same data, same port; for outage tests)
set -euo pipefail
cmd=${1:?start|stop|restart|resume|status}
dir=$(realpath -m "${2:?directory}")
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[[ -x "$bindir/initdb" ]] || { echo "pg-test-server: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }

as_pg() {  # initdb and postgres refuse to run as root
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 - <<'PY'
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

case "$cmd" in
start)
  if [[ -f "$dir/data/postmaster.pid" ]] && as_pg "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    exit 0
  fi
  rm -rf "$dir"; mkdir -p "$dir"
  [[ $(id -u) -eq 0 ]] && chown postgres "$dir"
  chmod 700 "$dir"
  as_pg "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  port=$(free_port)
  cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
CONF
  as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null \
    || { cat "$dir/server.log" >&2; exit 1; }
  echo "postgresql://postgres@127.0.0.1:$port/postgres" >"$dir/uri"
  echo "postgresql://postgres@/postgres?host=$dir&port=$port" >"$dir/socket_uri"
  chmod 755 "$dir"
  ;;
stop)
  [[ -d "$dir/data" ]] && as_pg "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  ;;
restart)
  as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
  as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null
  ;;
resume)
  [[ -f "$dir/data/PG_VERSION" ]] || { echo "pg-test-server: no server in $dir to resume" >&2; exit 1; }
  as_pg "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1 && exit 0
  as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null
  ;;
status)
  as_pg "$bindir/pg_ctl" -D "$dir/data" status
  ;;
*) echo "usage: $0 start|stop|restart|resume|status DIR" >&2; exit 2 ;;
esac
