# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# The output and assertions every shell test and benchmark script shares (sourced by
# tests/integration/lib/harness.sh, tests/host/lib/check.sh and, through the harness,
# bench/run_*.sh).
#
# Assertions record a result and carry on; `finish` prints "NAME: N passed, M failed" and exits
# 1 if anything failed or nothing passed. `die` aborts (setup that cannot go on).
#
# The sourcing script sets:
#   CHECK_TMP                a directory where `run` keeps a command's output
#   CHECK_CLEANUP            optional: a command `finish` runs before it reports
#   CHECK_ONE_LINE_ERRORS=1  optional: `expect_exit` with a non-zero CODE also wants exactly
#                            one line on stderr (the rule for jitctl's refusals)

CHECK_NAME=${CHECK_NAME:-$(basename "$0" .sh)}
CHECK_PASSED=0
CHECK_FAILED=0
CHECK_TMP=${CHECK_TMP:-}
CHECK_CLEANUP=${CHECK_CLEANUP:-}
CHECK_ONE_LINE_ERRORS=${CHECK_ONE_LINE_ERRORS:-0}

# --- output -----------------------------------------------------------------------------------
check_ts() { date -u +%H:%M:%S; }
note() { printf '%s   %s\n' "$(check_ts)" "$*"; }
pass() {
    CHECK_PASSED=$((CHECK_PASSED + 1))
    printf '%s ok   %s\n' "$(check_ts)" "$*"
}
fail() {
    CHECK_FAILED=$((CHECK_FAILED + 1))
    printf '%s FAIL %s\n' "$(check_ts)" "$*"
}
die() {
    CHECK_FAILED=$((CHECK_FAILED + 1))
    printf '%s ABORT %s\n' "$(check_ts)" "$*"
    finish
}
finish() {
    [[ -n $CHECK_CLEANUP ]] && $CHECK_CLEANUP
    printf '%s: %d passed, %d failed\n' "$CHECK_NAME" "$CHECK_PASSED" "$CHECK_FAILED"
    if ((CHECK_FAILED > 0 || CHECK_PASSED == 0)); then
        exit 1
    fi
    exit 0
}

# Text a sanitizer prints when it finds something.
sanitizer_report() { grep -E -m1 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$@" 2>/dev/null; }

# --- running commands -------------------------------------------------------------------------
# run CMD...: runs a command, capturing stdout in $OUT, stderr in $ERR, exit status in $RC.
run() {
    "$@" >"$CHECK_TMP/.out" 2>"$CHECK_TMP/.err"
    RC=$?
    OUT=$(<"$CHECK_TMP/.out")
    ERR=$(<"$CHECK_TMP/.err")
    return 0
}

# expect_exit CODE[|CODE...] [-m DESCRIPTION] [--] CMD...
# Runs CMD (see run) and checks its exit status (CODE may list alternatives, e.g. 64|65).
# Sanitizer reports on stderr always fail; see CHECK_ONE_LINE_ERRORS. Returns 0 when it passed.
expect_exit() {
    local want=$1 desc=
    shift
    if [[ ${1:-} == -m ]]; then
        desc=$2
        shift 2
    fi
    [[ ${1:-} == -- ]] && shift
    [[ -n $desc ]] || desc="$*"
    run "$@"
    if sanitizer_report "$CHECK_TMP/.err" >/dev/null; then
        fail "$desc: sanitizer report: $(sanitizer_report "$CHECK_TMP/.err")"
        return 1
    fi
    if [[ "|$want|" != *"|$RC|"* ]]; then
        fail "$desc: exit $RC, want $want; stderr: ${ERR:0:600}; stdout: ${OUT:0:300}"
        return 1
    fi
    if [[ $want != 0 && $CHECK_ONE_LINE_ERRORS == 1 ]]; then
        if [[ -z $ERR ]]; then
            fail "$desc: exit $RC as wanted but stderr is empty"
            return 1
        fi
        if [[ $ERR == *$'\n'* ]]; then
            fail "$desc: exit $RC as wanted but stderr is not one line: ${ERR:0:400}"
            return 1
        fi
    fi
    pass "$desc${ERR:+ -> $ERR}"
}

# --- comparing --------------------------------------------------------------------------------
# check_that DESCRIPTION PASS-TEXT FAIL-TEXT CMD...: passes with PASS-TEXT when CMD succeeds.
check_that() {
    local desc=$1 passed=$2 failed=$3
    shift 3
    if "$@"; then
        pass "$desc$passed"
    else
        fail "$desc$failed"
        return 1
    fi
}
_equal() { [[ $1 == "$2" ]]; }
_contains() { [[ $1 == *"$2"* ]]; }
_has_number() { [[ $1 =~ (^|[^0-9])$2([^0-9]|$) ]]; }
_not() { ! "$@"; }

# expect_eq DESCRIPTION GOT WANT
expect_eq() { check_that "$1" " = ${3:0:120}" ": got '${2:0:600}', want '${3:0:400}'" _equal "$2" "$3"; }
# expect_ne DESCRIPTION GOT UNWANTED
expect_ne() { check_that "$1" " != ${3:0:120}" ": got '${2:0:400}', which it must not be" _not _equal "$2" "$3"; }
# expect_contains DESCRIPTION HAYSTACK NEEDLE
expect_contains() {
    check_that "$1" " contains '${3:0:120}'" ": '${2:0:600}' does not contain '${3:0:200}'" _contains "$2" "$3"
}
# expect_not_contains DESCRIPTION HAYSTACK NEEDLE
expect_not_contains() {
    check_that "$1" " lacks '${3:0:120}'" ": '${2:0:400}' contains '${3:0:200}'" _not _contains "$2" "$3"
}
# expect_number_in DESCRIPTION TEXT NUMBER: NUMBER appears in TEXT as a whole number.
expect_number_in() { check_that "$1" " mentions $3" ": '${2:0:400}' does not mention $3" _has_number "$2" "$3"; }

# expect_true DESCRIPTION CMD...: the command succeeds (its output is discarded).
expect_true() {
    local desc=$1
    shift
    check_that "$desc" "" " (failed: $*)" _quietly "$@"
}
_quietly() { "$@" >/dev/null 2>&1; }

# jq_eq DESCRIPTION JSON FILTER WANT: jq -r FILTER on JSON equals WANT.
jq_eq() {
    local got
    got=$(jq -r "$3" <<<"$2" 2>&1) || got="(jq failed: $got)"
    expect_eq "$1" "$got" "$4"
}

# --- waiting ----------------------------------------------------------------------------------
# wait_until SECONDS CMD...: polls CMD every 0.1s until it succeeds; 1 when the deadline passes.
# The deadline, not the interval, is the synchronisation.
wait_until() {
    local deadline=$(($(date +%s%N) + $1 * 1000000000))
    shift
    while :; do
        "$@" >/dev/null 2>&1 && return 0
        (($(date +%s%N) >= deadline)) && return 1
        sleep 0.1
    done
}

# expect_eventually SECONDS DESCRIPTION CMD...: wait_until as an assertion.
expect_eventually() {
    local secs=$1 desc=$2
    shift 2
    check_that "$desc" "" " (not within ${secs}s: $*)" wait_until "$secs" "$@"
}
