#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every C++ file is as clang-format (15 or later: .clang-format uses InsertBraces) leaves it.
# The check first proves on a scratch file that it notices an unformatted body, then checks the
# tracked sources. Usage: format_test.sh [SOURCE_DIR]
set -euo pipefail
source_dir=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
formatter=$(command -v clang-format-15 || command -v clang-format-16 || true)
[[ -n $formatter ]] || { echo "FAIL clang-format-15 is not installed (scripts/install-deps.sh)"; exit 1; }

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp "$source_dir/.clang-format" "$scratch/"
printf 'int f(int x) {\n    if (x)\n        return 1;\n    return 0;\n}\n' >"$scratch/planted.cpp"
if "$formatter" --dry-run --Werror "$scratch/planted.cpp" 2>/dev/null; then
    echo "FAIL the check does not notice an unbraced body"
    exit 1
fi
echo "ok   an unbraced body is noticed"

cd "$source_dir"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.h')
else
    mapfile -t files < <(find . -path ./build -prune -o -path './build-*' -prune -o \
        \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' \) -print)
fi
if ! "$formatter" --dry-run --Werror "${files[@]}" 2>"$scratch/out"; then
    grep -o '^[^:]*' "$scratch/out" | sort -u | sed 's/^/FAIL not formatted: /'
    exit 1
fi
echo "ok   ${#files[@]} files formatted"
