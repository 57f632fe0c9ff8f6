#!/usr/bin/env bash
# Start a throw-away PostgreSQL cluster owned by the unprivileged 'postgres'
# user, listening only on a Unix socket in a temporary directory (no TCP
# port). Prints shell exports for the test suite; .ci/stop-postgres.sh stops it.
set -euo pipefail
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$BIN/initdb" ] || { echo "echo 'PostgreSQL is not installed; team tests will be skipped' >&2"; exit 0; }
RUN_AS=()
if [ "$(id -u)" -eq 0 ]; then RUN_AS=(runuser -u postgres --); fi
DIR=$(mktemp -d /tmp/kpidesk-pg.XXXXXX)
chmod 755 "$DIR"
[ "$(id -u)" -eq 0 ] && chown postgres: "$DIR"
"${RUN_AS[@]}" "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1
"${RUN_AS[@]}" "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
  -o "-c listen_addresses='' -c unix_socket_directories='$DIR' -c fsync=off -c max_connections=60" start >/dev/null
"${RUN_AS[@]}" "$BIN/createdb" -h "$DIR" -U postgres kpidesk_test
echo "export KPIDESK_TEST_PG_DIR='$DIR'"
echo "export KPIDESK_TEST_PG_BIN='$BIN'"
echo "export KPIDESK_TEST_PG_URL='postgresql://postgres@/kpidesk_test?host=$DIR'"
