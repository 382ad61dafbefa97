#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The repository stands alone: no tracked file outside .ci/ may cite a contract document that is
# not in it. Such references belong to docs/ pages and man pages instead. The check first proves
# on two scratch trees that it finds a planted reference and passes a clean tree, then scans the
# source tree (tracked files when it is a git checkout, else every file but build trees).
# Usage: standalone_test.sh [SOURCE_DIR]
set -euo pipefail

source_dir=${1:-${JIT_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}}

# Assembled from pieces so that this file does not match itself.
spec_word="SP""EC"
pattern="${spec_word} §|shared/${spec_word}|\\.\\./shared"

# Prints every offending line of the files under $1 (NUL-separated list on stdin); returns 1 when
# there is one.
scan() {
    local dir=$1
    local hits
    hits=$(cd "$dir" && xargs -0 -r grep -n -I -E -- "$pattern" || true)
    if [[ -n $hits ]]; then
        printf '%s\n' "$hits"
        return 1
    fi
}

list_files() {
    local dir=$1
    if git -C "$dir" rev-parse --is-inside-work-tree >/dev/null 2>&1 &&
        [[ $(git -C "$dir" rev-parse --show-toplevel) == "$(cd "$dir" && pwd -P)" ]]; then
        git -C "$dir" ls-files -z -- ':!.ci'
    else
        (cd "$dir" && find . \( -name .git -o -name .ci -o -name 'build*' -o -name demo \) -prune \
            -o -type f -print0)
    fi
}

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# The check must be able to fail: a planted citation is found, a clean tree passes.
mkdir -p "$scratch/dirty/src" "$scratch/clean/src"
printf '// Who may do what (%s §4).\n' "$spec_word" >"$scratch/dirty/src/a.hpp"
printf '// Who may do what (docs/concepts.md).\n' >"$scratch/clean/src/a.hpp"
if list_files "$scratch/dirty" | scan "$scratch/dirty" >/dev/null; then
    echo "FAIL: the check missed a planted citation" >&2
    exit 1
fi
if ! list_files "$scratch/clean" | scan "$scratch/clean" >/dev/null; then
    echo "FAIL: the check flagged a clean tree" >&2
    exit 1
fi

if ! list_files "$source_dir" | scan "$source_dir"; then
    echo "FAIL: the lines above cite a document outside the repository;" \
        "point to a docs/ page or a man page instead" >&2
    exit 1
fi
echo "ok: no file outside .ci/ cites a document outside the repository"
