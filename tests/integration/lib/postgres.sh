# SPDX-License-Identifier: Apache-2.0
# A throw-away PostgreSQL 15 server for tests: data, socket and log in one directory, reachable
# only through the unix socket in DIR/socket (no TCP), trust authentication for the postgres
# role. Runs as the postgres user (initdb refuses root).
#   postgres.sh start DIR        initdb (first time) and start; returns once it accepts
#   postgres.sh fresh DIR        stop whatever runs in DIR, remove it, and start anew
#   postgres.sh stop DIR [MODE]  pg_ctl stop -m MODE (fast by default; immediate = crash)
# The unit tests run it as a program; integration tests may source pg_start/pg_stop.
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

pg_as_postgres() {
    runuser -u postgres -- "$@"
}

pg_start() {
    local dir=$1
    if [[ ! -d $dir/data ]]; then
        mkdir -p "$dir/socket"
        chown postgres: "$dir" "$dir/socket"
        chmod 0755 "$dir"
        pg_as_postgres "$PG_BIN/initdb" --pgdata="$dir/data" --username=postgres \
            --auth=trust --encoding=UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 ||
            { cat "$dir/initdb.log" >&2; return 1; }
        {
            echo "listen_addresses = ''"
            echo "unix_socket_directories = '$dir/socket'"
            echo "fsync = off"
            echo "max_connections = 200"
        } >>"$dir/data/postgresql.conf"
    fi
    pg_as_postgres "$PG_BIN/pg_ctl" --pgdata="$dir/data" --log="$dir/server.log" \
        --wait --timeout=60 start >/dev/null ||
        { cat "$dir/server.log" >&2; return 1; }
}

pg_stop() {
    local dir=$1 mode=${2:-fast}
    pg_as_postgres "$PG_BIN/pg_ctl" --pgdata="$dir/data" --mode="$mode" --wait \
        --timeout=60 stop >/dev/null
}

# conninfo for database NAME of the server in DIR
pg_conninfo() {
    echo "host=$1/socket dbname=$2 user=postgres"
}

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
