#!/bin/bash
# How tests/data/storage-cascade.jsonl was made: the storage-cascade drill played headless at
# speed 100, with an operator's verbs (acknowledge, status, sends, mitigate, resolve) typed at
# scenario times. Run from the repository root after `cargo build`; the journal lands in $OUT.
set -u
B=$(realpath "${WARROOM:-target/debug/warroom}")
D=${OUT:-/tmp/drillfix}; rm -rf $D; mkdir -p $D/x; cd $D
export HOME=$D XDG_CONFIG_HOME=$D/x
J=$D/storage-cascade.jsonl
$B drill storage-cascade --speed 100 --headless -j $J --as alice@bastion > drill.out 2>&1 &
P=$!
at() { sleep "$1"; shift; "$@" >> verbs.out 2>&1 || echo "FAILED $*" >> verbs.out; }
V="$B -j $J --as alice@bastion"
(
at 1.9 $V milestone acknowledged
at 0.3 $V status identified
at 0.3 $V send staff --text "Storage failing; site and API degraded. Investigating." --yes
at 0.6 $V send status-page --text "We are investigating errors on the website and API." --yes
at 3.0 $V log "Rate limiting at the edge, relay restarted"
at 8.0 $V milestone mitigated
at 0.5 $V status monitoring
at 0.4 $V send status-page --text "A fix is in place; we are monitoring." --yes
at 10.0 $V send status-page --text "Resolved: the website and API are back to normal." --yes
at 0.3 $V status resolved
)
sleep 6; kill $P; wait $P
echo done
