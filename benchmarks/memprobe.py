"""Memory of a long chart-creation run, measured in a fresh process (run by ``run.py``).

``python benchmarks/memprobe.py --flavour ours-requests --n 1000 --url URL --ca CA`` creates
``n`` charts (create + upload) serially and prints one JSON line: the resident set size
(``VmRSS``) after a warm-up of 10 charts and at 10 %, 50 % and 100 % of the run, and the
peak (``VmHWM``, both from ``/proc/self/status``). A pool that holds on to nothing per request keeps the RSS
flat from 10 % to 100 %.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from workloads import FLAVOURS


def _status_kib(field: str) -> int:
    """A ``Vm*`` field of ``/proc/self/status`` in KiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def rss_kib() -> int:
    return _status_kib("VmRSS")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--flavour", required=True, choices=sorted(FLAVOURS))
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--ca", default=None)
    args = parser.parse_args()

    client = FLAVOURS[args.flavour](args.url, args.ca, 1)
    for i in range(10):
        client.create_item(i)
    gc.collect()
    checkpoints = {"warm": rss_kib()}
    marks = {max(1, args.n // 10): "10%", max(1, args.n // 2): "50%", args.n: "100%"}
    start = time.perf_counter()
    for i in range(1, args.n + 1):
        client.create_item(i)
        if i in marks:
            gc.collect()
            checkpoints[marks[i]] = rss_kib()
    wall = time.perf_counter() - start
    client.close()
    # VmHWM is this process's own high-water mark; ru_maxrss would also count the parent's
    # memory copied at fork time, which Linux carries over across exec
    peak = _status_kib("VmHWM")
    print(
        json.dumps(
            {
                "flavour": args.flavour,
                "n": args.n,
                "rss_kib": checkpoints,
                "peak_kib": peak,
                "wall_s": wall,
            }
        )
    )


if __name__ == "__main__":
    main()
