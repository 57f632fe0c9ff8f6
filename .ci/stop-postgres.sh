#!/usr/bin/env bash
# Stop the cluster started by .ci/start-postgres.sh and remove its directory.
set -u
[ -n "${KPIDESK_TEST_PG_DIR:-}" ] || exit 0
RUN_AS=()
if [ "$(id -u)" -eq 0 ]; then RUN_AS=(runuser -u postgres --); fi
"${RUN_AS[@]}" "$KPIDESK_TEST_PG_BIN/pg_ctl" -D "$KPIDESK_TEST_PG_DIR/data" -m fast -w stop >/dev/null 2>&1
rm -rf "$KPIDESK_TEST_PG_DIR"
