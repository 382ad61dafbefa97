# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# The assertions of tests/host/*_test.sh: scripts/lib/check.sh's, with a scratch directory of
# their own that `finish` removes.

# shellcheck source=../../../scripts/lib/check.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../../scripts/lib/check.sh"

CHECK_TMP=$(mktemp -d /tmp/jit-host-test.XXXXXX)
_host_check_cleanup() { rm -rf "$CHECK_TMP"; }
CHECK_CLEANUP=_host_check_cleanup # shellcheck disable=SC2034  # read by finish
