#!/bin/bash
# By hand, as root, on a Linux 6.x host (NOT in CI: the real KSM is global
# state): N processes with known contents made mergeable for real, captured
# with `ksmctl snapshot`, then left to the real KSM for K full scans; the
# real pages_shared, pages_sharing and general_profit beside what
# `ksmctl estimate --era v3:6.18` predicts after the same number of scans.
#
#   bench/snapshot-real-ksm.sh synthetic [N] [K]   # pages.c: shared, zero and private pages, MADV_MERGEABLE
#   bench/snapshot-real-ksm.sh python [N] [K]      # N identical python3 interpreters under prctl(PR_SET_MEMORY_MERGE)
#
# Every /sys/kernel/mm/ksm knob is saved first and restored on exit; the
# script refuses to run while KSM is in use (run != 0, or pages shared).
set -euo pipefail
MODE=${1:-synthetic}
N=${2:-4}
K=${3:-4}
PTS=${PTS:-100}
KSM=/sys/kernel/mm/ksm
ROOT=$(cd "$(dirname "$0")/.." && pwd)
KSMCTL="node $ROOT/dist/src/cli/ksmctl.js"
DIR=$(mktemp -d /tmp/ksm-real.XXXXXX)
KNOBS="pages_to_scan sleep_millisecs max_page_sharing use_zero_pages smart_scan stable_node_chains_prune_millisecs merge_across_nodes"
declare -A SAVED
PIDS=()

[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 2; }
if [ "$(cat $KSM/run)" != 0 ] || [ "$(cat $KSM/pages_shared)" != 0 ] || [ "$(cat $KSM/pages_sharing)" != 0 ]; then
  echo "KSM is in use (run=$(cat $KSM/run), pages_shared=$(cat $KSM/pages_shared)): try again later" >&2
  exit 3
fi
for k in $KNOBS; do SAVED[$k]=$(cat $KSM/$k); done
restore() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  # ksmd drops an exited process's KSM pages on its next pass: let it, up to 30 s.
  echo 1 > $KSM/run
  for _ in $(seq 300); do
    [ "$(cat $KSM/pages_shared)" = 0 ] && [ "$(cat $KSM/pages_sharing)" = 0 ] && break
    sleep 0.1
  done
  echo 0 > $KSM/run
  for k in $KNOBS; do echo "${SAVED[$k]}" > $KSM/$k 2>/dev/null || true; done
  rm -rf "$DIR"
}
trap restore EXIT

cc -O2 -o "$DIR/pages" "$ROOT/test/fixtures/snapshot/pages.c"
cc -O2 -o "$DIR/merge-any" "$ROOT/test/fixtures/snapshot/merge-any.c"
echo $PTS > $KSM/pages_to_scan
echo 20 > $KSM/sleep_millisecs
echo 0 > $KSM/use_zero_pages
echo 1 > $KSM/smart_scan

for i in $(seq 0 $((N - 1))); do
  if [ "$MODE" = synthetic ]; then
    "$DIR/pages" "$i" 1 1500 200 300 100 50 20 > "$DIR/out.$i" 2>/dev/null &
  else
    "$DIR/merge-any" python3 -c 'import sys, time, json; d = [json.dumps({"k": i}) for i in range(100000)]; print("ready 0 0 0", flush=True); time.sleep(3600)' > "$DIR/out.$i" &
  fi
  PIDS+=($!)
done
for i in $(seq 0 $((N - 1))); do
  until grep -q ready "$DIR/out.$i" 2>/dev/null; do sleep 0.1; done
done
$KSMCTL snapshot --pid "${PIDS[@]}" -o "$DIR/real.ksnap" >&2

F0=$(cat $KSM/full_scans)
echo 1 > $KSM/run
until [ $(( $(cat $KSM/full_scans) - F0 )) -ge "$K" ]; do sleep 0.05; done
echo 0 > $KSM/run
REAL="$(cat $KSM/pages_shared) $(cat $KSM/pages_sharing) $(cat $KSM/pages_unshared) $(cat $KSM/general_profit) $(cat $KSM/pages_volatile) $(cat $KSM/pages_skipped)"
$KSMCTL estimate "$DIR/real.ksnap" --era v3:6.18 --sysfs pages_to_scan=$PTS --max-passes "$K" --json > "$DIR/estimate.json"
node -e '
const x = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const [shared, sharing, unshared, profit, volatile, skipped] = process.argv[2].split(" ").map(Number);
const e = x.eras[0].replay; const p = e.passes[Math.min(Number(process.argv[3]), e.passes.length) - 1];
const row = (n, a, b) => console.log(n.padEnd(16), String(a).padStart(12), String(b).padStart(12));
console.log(`${process.argv[4]}: ${x.snapshot.processes} processes, ${x.snapshot.registeredPages} registered pages, after ${process.argv[3]} full scans`);
row("", "real 6.18", "estimate");
row("pages_shared", shared, p.pagesShared);
row("pages_sharing", sharing, p.pagesSharing);
row("pages_unshared", unshared, p.pagesUnshared);
row("pages_volatile", volatile, p.pagesVolatile);
row("general_profit", profit, p.generalProfit);
' "$DIR/estimate.json" "$REAL" "$K" "$MODE"
