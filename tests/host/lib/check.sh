# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Assertions for tests/host/*_test.sh: each records a result and carries on; `finish` prints
# "N passed, M failed" and exits 1 when anything failed. `die` ends the test early (a setup
# step that the rest depends on failed).

CHECK_PASSED=0
CHECK_FAILED=0
CHECK_TMP=$(mktemp -d /tmp/jit-host-test.XXXXXX)

_check_ts() { date -u +%H:%M:%S; }
note() { printf '%s   %s\n' "$(_check_ts)" "$*"; }
pass() {
    CHECK_PASSED=$((CHECK_PASSED + 1))
    printf '%s ok   %s\n' "$(_check_ts)" "$*"
}
fail() {
    CHECK_FAILED=$((CHECK_FAILED + 1))
    printf '%s FAIL %s\n' "$(_check_ts)" "$*"
}
finish() {
    rm -rf "$CHECK_TMP"
    echo "$CHECK_PASSED passed, $CHECK_FAILED failed"
    ((CHECK_FAILED == 0)) && exit 0
    exit 1
}
die() {
    fail "$*"
    finish
}

# run CMD...: stdout in $OUT, stderr in $ERR, exit status in $RC.
run() {
    "$@" >"$CHECK_TMP/out" 2>"$CHECK_TMP/err"
    RC=$?
    OUT=$(<"$CHECK_TMP/out")
    ERR=$(<"$CHECK_TMP/err")
    return 0
}

# expect_exit CODE DESCRIPTION CMD...: runs CMD (see run) and checks its exit status.
expect_exit() {
    local want=$1 desc=$2
    shift 2
    run "$@"
    if [[ $RC == "$want" ]]; then
        pass "$desc"
        return 0
    fi
    fail "$desc: exit $RC, want $want; stderr: ${ERR:0:600}; stdout: ${OUT:0:300}"
    return 1
}

expect_eq() {
    if [[ $2 == "$3" ]]; then
        pass "$1 = ${3:0:120}"
        return 0
    fi
    fail "$1: got '${2:0:600}', want '$3'"
    return 1
}

expect_contains() {
    if [[ $2 == *"$3"* ]]; then
        pass "$1 (has '${3:0:120}')"
        return 0
    fi
    fail "$1: '$3' not in '${2:0:600}'"
    return 1
}

# jq_eq DESCRIPTION JSON FILTER WANT
jq_eq() {
    local got
    got=$(jq -r "$3" <<<"$2" 2>&1)
    expect_eq "$1" "$got" "$4"
}

# poll_until SECONDS CMD...: runs CMD until it succeeds or SECONDS have passed; returns its last
# status. The interval is short: the deadline, not the interval, is the synchronisation.
poll_until() {
    local deadline=$((SECONDS + $1))
    shift
    while :; do
        "$@" && return 0
        ((SECONDS >= deadline)) && return 1
        sleep 0.1
    done
}
