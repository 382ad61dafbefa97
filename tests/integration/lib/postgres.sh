# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# A throw-away PostgreSQL 15 server for tests (scripts/lib/postgres.sh, shared with
# scripts/demo.sh --fleet): data, socket and log in one directory, reachable only through the
# unix socket in DIR/socket (no TCP), trust authentication for the postgres role.
#   postgres.sh start DIR        initdb (first time) and start; returns once it accepts
#   postgres.sh fresh DIR        stop whatever runs in DIR, remove it, and start anew
#   postgres.sh stop DIR [MODE]  pg_ctl stop -m MODE (fast by default; immediate = crash)
# The unit tests run it as a program; integration tests may source pg_start/pg_stop.
set -euo pipefail

# shellcheck source=../../../scripts/lib/postgres.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../../scripts/lib/postgres.sh"

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    case ${1:-} in
        start) pg_start "$2" ;;
        fresh)
            [[ -f $2/data/postmaster.pid ]] && { pg_stop "$2" immediate || true; }
            rm -rf "$2"
            mkdir -p "$2"
            pg_start "$2"
            ;;
        stop) pg_stop "$2" "${3:-fast}" ;;
        *) echo "usage: postgres.sh start DIR | stop DIR [MODE]" >&2; exit 64 ;;
    esac
fi
