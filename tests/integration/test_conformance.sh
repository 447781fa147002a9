#!/usr/bin/env bash
# The conformance suite (tests/conformance): every case built by kiln must give the tree and config BuildKit
# gave (committed `expected` files, made by tests/conformance/regen), or be listed in KNOWN_DIFFERENCES.
source "$(dirname "$0")/lib.sh"
KILN=$KILN KILN_TEST_WORK=$WORK "$(dirname "$0")/../conformance/run" || fail "kiln and BuildKit differ"
