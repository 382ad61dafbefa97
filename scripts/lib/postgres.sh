# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# A throw-away PostgreSQL 15 server: data, socket and log in one directory, reachable only
# through the unix socket in DIR/socket (no TCP), trust authentication for the postgres role.
# It runs as the postgres user (initdb refuses root). Sourced by scripts/demo.sh --fleet and by
# tests/integration/lib/postgres.sh (the tests' command-line wrapper).
#   pg_start DIR          initdb (first time) and start; returns once it accepts
#   pg_stop DIR [MODE]    pg_ctl stop -m MODE (fast by default; immediate = a crash)
#   pg_conninfo DIR NAME  the libpq connection string of database NAME
#   pg_createdb DIR NAME  creates database NAME

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

pg_conninfo() {
    echo "host=$1/socket dbname=$2 user=postgres"
}

pg_createdb() {
    pg_as_postgres "$PG_BIN/psql" -q -v ON_ERROR_STOP=1 -h "$1/socket" -U postgres \
        -c "CREATE DATABASE \"$2\"" postgres >/dev/null
}
