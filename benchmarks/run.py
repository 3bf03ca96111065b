"""Run every benchmark and write BENCHMARKS.md: ``python benchmarks/run.py [--quick]``.

Sections (``--only`` picks some):

- ``wan``: the emulated WAN (TLS 1.3 fake API behind a latency proxy): link self-check, then
  chart creation and the mixed workload for every client, serial and with ``--workers``
  threads, medians of ``--runs`` interleaved runs;
- ``cpu``: per-request cost at RTT 0 (plain HTTP, lean server), per-layer micro-benchmarks,
  and a profile of the package's own functions;
- ``mem``: peak RSS of a ``--mem-n``-creation run per client, each in a fresh process;
- ``ratelimit``: ``--rl-n`` chart creations by 8 workers against a server limited to
  ``--rl-rate`` requests/s with burst ``--rl-burst`` (benchmarks/bench_ratelimit.py):
  (a) retry-only, (b) adaptive limiter, (c) 4 processes sharing ``RedisRateLimiter``
  (skipped, and said so, when ``redis-server`` is not installed).

``--quick`` is a smoke run (small N, one run) that writes BENCHMARKS.md only with ``--out``.
``nox -s bench`` runs this script (``nox -s bench -- --quick`` for the smoke run).

Every section records its own date, duration and load average (``/proc/loadavg``) at start
and end. To redo one section of a full run (say the machine was busy during ``cpu``), keep
the full run's JSON and merge::

    python benchmarks/run.py --json /tmp/full.json
    python benchmarks/run.py --only cpu --merge /tmp/full.json --json /tmp/full2.json

The sections not run now are taken from the ``--merge`` file, with their own provenance.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
try:
    import datawrapper  # noqa: F401
except ImportError:  # running from a checkout without an install
    sys.path.insert(0, str(ROOT / "src"))

import cpu  # noqa: E402
import wan  # noqa: E402
from bench_ratelimit import SCENARIOS as RL_SCENARIOS  # noqa: E402
from bench_ratelimit import bench_ratelimit  # noqa: E402
from testbed import WanTestBed  # noqa: E402
from workloads import CALLS, FLAVOURS, RAW_OF  # noqa: E402

SERIAL_FLAVOURS = list(FLAVOURS)
OURS = [name for name in FLAVOURS if name.startswith("ours-")]
SECTIONS = ("wan", "cpu", "mem", "ratelimit")
# issue 7: 8 workers in total; scenario (c) splits them into 4 processes of 2 threads
RL_THREADS = 8
RL_PROCESSES = 4
RL_LABELS = {
    "retry-only": "(a) retry-only",
    "adaptive": "(b) adaptive",
    "redis": "(c) 4 processes, Redis",
}


def log(text: str) -> None:
    print(text, flush=True)


# --------------------------------------------------------------------------- machine


def load_average() -> tuple[float, float, float]:
    """The 1, 5 and 15 minute load averages from /proc/loadavg (os.getloadavg elsewhere)."""
    try:
        fields = Path("/proc/loadavg").read_text().split()
        return float(fields[0]), float(fields[1]), float(fields[2])
    except (OSError, IndexError, ValueError):
        return os.getloadavg()


def _load_text(load: Any) -> str:
    return " / ".join(f"{x:.2f}" for x in load)


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for name in ("requests", "httpx", "urllib3", "datawrapper"):
        try:
            from importlib.metadata import version

            versions[name] = version(name)
        except Exception:
            versions[name] = "?"
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "kernel": platform.release(),
        "libraries": versions,
        "openssl": __import__("ssl").OPENSSL_VERSION,
    }


# --------------------------------------------------------------------------- sections


def run_wan_section(args: argparse.Namespace) -> dict[str, Any]:
    rtt = args.rtt_ms / 1000
    # concurrent runs take ~1/6 of a serial one: give them more runs for steadier medians
    conc_runs = max(args.runs, args.conc_runs)
    plan = [
        ("create", args.n, 1, SERIAL_FLAVOURS, args.runs),
        ("create", args.n, args.workers, SERIAL_FLAVOURS, conc_runs),
        ("mixed", args.mixed_n, 1, SERIAL_FLAVOURS, args.runs),
        ("mixed", args.mixed_n, args.workers, SERIAL_FLAVOURS, conc_runs),
    ]
    with WanTestBed(rtt=rtt) as bed:
        check = wan.self_check(bed)
        log(wan.format_self_check(check))
        measurements = wan.run_wan(bed, plan=plan, log=log)
    rows = []
    for m in measurements:
        rows.append(
            {
                "workload": m.workload,
                "flavour": m.flavour,
                "workers": m.workers,
                "n": m.n,
                "requests": m.requests,
                "wall_s": m.wall,
                "walls": m.walls,
                "connections": m.conns,
                "bound_s": m.n * CALLS[m.workload] * rtt / m.workers,
                "runs": len(m.walls),
            }
        )
    return {"rtt_ms": args.rtt_ms, "runs": args.runs, "self_check": check, "rows": rows}


def run_cpu_section(args: argparse.Namespace) -> dict[str, Any]:
    with WanTestBed(rtt=0, canned=True, tls=False, proxy=False) as bed:
        per_request = cpu.per_request(bed.url, m=args.cpu_m, runs=args.cpu_runs, log=log)
        profiles = [
            cpu.profile_ours(bed.url, backend, m=args.cpu_m * 3)
            for backend in ("requests", "httpx", "urllib3")
        ]
    layers = cpu.layer_costs()
    return {"per_request": per_request, "layers": layers, "profiles": profiles}


def run_mem_section(args: argparse.Namespace) -> dict[str, Any]:
    flavours = ["baseline", "raw-urllib3", *OURS]
    rows = []
    with WanTestBed(rtt=0, canned=True, tls=True, proxy=False) as bed:
        for flavour in flavours:
            bed.reset()
            command = [
                sys.executable,
                str(HERE / "memprobe.py"),
                "--flavour",
                flavour,
                "--n",
                str(args.mem_n),
                "--url",
                bed.url,
                "--ca",
                str(bed.ca_path),
            ]
            done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"memprobe {flavour} failed:\n{done.stderr[-2000:]}")
            row = json.loads(done.stdout.strip().splitlines()[-1])
            row["connections"] = bed.connections_opened()
            rows.append(row)
            log(
                f"  mem {flavour:14} n={args.mem_n} peak {row['peak_kib'] / 1024:.1f} MiB "
                f"rss {row['rss_kib']} connections {row['connections']}"
            )
    return {"n": args.mem_n, "rows": rows}


def run_ratelimit_section(args: argparse.Namespace) -> dict[str, Any]:
    def progress(result: dict[str, Any]) -> None:
        if "skipped" in result:
            log(f"  ratelimit {result['scenario']:10} skipped: {result['skipped']}")
            return
        log(
            f"  ratelimit {result['scenario']:10} created {result['created']}/"
            f"{result['creations']} in {result['wall_s']:.2f} s, goodput "
            f"{result['goodput_pct_of_limit']:.1f}% of limit, 429s {result['429s']}/"
            f"{result['requests']} ({result['429_pct']:.1f}%)"
        )

    rows = bench_ratelimit(
        scenarios=RL_SCENARIOS,
        creations=args.rl_n,
        threads=RL_THREADS,
        processes=RL_PROCESSES,
        rate=args.rl_rate,
        burst=args.rl_burst,
        progress=progress,
    )
    return {
        "creations": args.rl_n,
        "rate": args.rl_rate,
        "burst": args.rl_burst,
        "threads": RL_THREADS,
        "processes": RL_PROCESSES,
        "rows": rows,
    }


# --------------------------------------------------------------------------- report


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "-"


def wan_tables(data: dict[str, Any], workload: str) -> list[str]:
    rows = [r for r in data["rows"] if r["workload"] == workload]
    if not rows:
        return []
    by = {(r["flavour"], r["workers"]): r for r in rows}
    base = by.get(("baseline", 1))
    n, requests = rows[0]["n"], rows[0]["requests"]
    counts = sorted({(r["workers"], r["runs"]) for r in rows})
    runs_text = ", ".join(
        f"{runs} ({'serial' if workers == 1 else f'{workers} workers'})" for workers, runs in counts
    )
    title = {
        "create": "Chart creation (create + upload ~2 KB CSV = 2 requests per chart)",
        "mixed": "Mixed workload (create, upload, publish, export PNG = 4 requests per chart)",
    }[workload]
    out = [
        f"### {title}",
        "",
        f"N = {n} charts ({requests} requests), RTT {data['rtt_ms']:g} ms, median of "
        f"{runs_text} interleaved runs. *Speed-up* is the baseline's wall time divided by "
        "the row's; *vs bound* is the row's wall time divided by the physical bound "
        "N x calls x RTT (/ workers); *vs raw* compares our client with the raw pooled "
        "library it wraps, run the same way.",
        "",
        "| client | workers | wall (s) | req/s | connections | speed-up vs baseline | vs bound | vs raw |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for workers in sorted({r["workers"] for r in rows}):
        for flavour in FLAVOURS:
            r = by.get((flavour, workers))
            if r is None:
                continue
            vs_raw = ""
            raw = by.get((RAW_OF.get(flavour, ""), workers))
            if raw is not None:
                vs_raw = f"{(r['wall_s'] / raw['wall_s'] - 1) * 100:+.1f}%"
            speed = _ratio(base["wall_s"], r["wall_s"]) if base else "-"
            out.append(
                f"| {flavour} | {workers} | {r['wall_s']:.3f} | {r['requests'] / r['wall_s']:.1f} "
                f"| {r['connections']} | {speed} | {_ratio(r['wall_s'], r['bound_s'])} | {vs_raw} |"
            )
    out.append("")
    return out


def target_lines(results: dict[str, Any]) -> list[str]:
    out = ["## Targets", ""]
    wan_data = results.get("wan")
    if wan_data:
        rows = {
            (r["flavour"], r["workers"]): r for r in wan_data["rows"] if r["workload"] == "create"
        }
        base = rows[("baseline", 1)]["wall_s"]
        workers = max(r["workers"] for r in wan_data["rows"])
        for name in OURS:
            serial = rows[(name, 1)]
            raw = rows[(RAW_OF[name], 1)]
            conc = rows.get((name, workers))
            speed = base / serial["wall_s"]
            within = (serial["wall_s"] / raw["wall_s"] - 1) * 100
            line = (
                f"- {name}: serial {speed:.2f}x faster than the baseline "
                f"({'meets' if speed >= 2.9 else 'misses'} >= 2.9x), {within:+.1f}% vs "
                f"{RAW_OF[name]} ({'meets' if within <= 3 else 'misses'} <= +3%)"
            )
            if conc is not None:
                cspeed = base / conc["wall_s"]
                line += (
                    f"; {workers} workers {cspeed:.1f}x faster than the baseline "
                    f"({'meets' if cspeed >= 20 else 'misses'} >= 20x)"
                )
            out.append(line)
    cpu_data = results.get("cpu")
    if cpu_data:
        pr = cpu_data["per_request"]
        for backend in ("requests", "httpx", "urllib3"):
            ours = pr[f"ours-{backend}"]["wall_us"]
            raws = [pr[f"raw-{backend}"]["wall_us"]]
            if backend == "requests":
                raws.append(pr["raw-requests-noenv"]["wall_us"])
            raw = min(raws)
            ratio = ours / raw
            names = [f"raw-{backend}"] + (["raw-requests-noenv"] if backend == "requests" else [])
            ours_min = pr[f"ours-{backend}"]["wall_min_us"]
            raw_min = min(pr[n]["wall_min_us"] for n in names)
            out.append(
                f"- RTT 0, {backend}: {ours:.0f} us per request vs {raw:.0f} us raw = {ratio:.2f}x "
                f"({'meets' if ratio <= 1.15 else 'misses'} <= 1.15x); by the fastest block "
                f"{ours_min:.0f} vs {raw_min:.0f} us = {ours_min / raw_min:.2f}x"
            )
    mem = results.get("mem")
    if mem:
        for r in mem["rows"]:
            rss = r["rss_kib"]
            growth = (rss["100%"] - rss["10%"]) / 1024
            out.append(
                f"- memory, {r['flavour']}: peak RSS {r['peak_kib'] / 1024:.1f} MiB for "
                f"{r['n']} creations; RSS change from 10% to 100% of the run {growth:+.2f} MiB; "
                f"{r['connections']} connection(s)"
            )
    rl = results.get("ratelimit")
    if rl:
        for r in rl["rows"]:
            label = RL_LABELS.get(r["scenario"], r["scenario"])
            if "skipped" in r:
                out.append(f"- rate limit, {label}: skipped ({r['skipped']})")
                continue
            checks = rl_checks(r)
            text = ", ".join(
                f"{value} ({'meets' if ok else 'misses'} {target})" for value, ok, target in checks
            )
            if r["scenario"] == "retry-only":
                text = ", ".join(value for value, _, _ in checks) + " (no target: the reference)"
            out.append(f"- rate limit, {label}: {text}")
    out.append("")
    return out


def rl_checks(r: dict[str, Any]) -> list[tuple[str, bool, str]]:
    """Issue 7's targets for one rate-limit scenario: (figure, met, target)."""
    return [
        (f"{r['failed']} failed of {r['creations']}", r["failed"] == 0, "0"),
        (
            f"goodput {r['goodput_pct_of_limit']:.1f}% of the limit",
            r["goodput_pct_of_limit"] >= 90,
            ">= 90%",
        ),
        (f"429s {r['429_pct']:.1f}% of {r['requests']} requests", r["429_pct"] <= 5, "<= 5%"),
    ]


def ratelimit_table(data: dict[str, Any]) -> list[str]:
    rows = data["rows"]
    n, rate, burst = data["creations"], data["rate"], data["burst"]
    ideal = max(n - burst, 0) / rate
    out = [
        "## Rate limits",
        "",
        f"{n} chart creations (`POST /v3/charts`, one request each) by {data['threads']} "
        "workers against a loopback `FakeServer` whose app is "
        f"`rate_limited(FakeDatawrapperAPI(), rate={rate:g}, burst={burst:g})`: a server-side "
        "token bucket that answers 429 with `Retry-After` and `RateLimit-*`/`X-RateLimit-*` "
        "headers. Default `RetryPolicy`, requests backend "
        "(benchmarks/bench_ratelimit.py). (a) no rate limiter, only the retry on 429; "
        f"(b) one `AdaptiveRateLimiter()` shared by the {data['threads']} threads, no "
        f"configuration; (c) {data['processes']} processes of "
        f"{max(data['threads'] // data['processes'], 1)} threads, all sharing one "
        f"`RedisRateLimiter(rate={rate:g}, burst={burst:g})` key on a throw-away "
        "`redis-server`. One run each.",
        "",
        f"The shortest possible run takes ({n} - {burst:g}) / {rate:g} = {ideal:.1f} s, a goodput "
        f"of {100 * n / ideal / rate if ideal else 0:.0f}% of the {rate:g}/s limit (the burst "
        "comes on top of the rate). Goodput is created charts per second of wall time; a run "
        "that gives up early is short, so read *failed* first.",
        "",
        "| | "
        + " | ".join(RL_LABELS.get(r["scenario"], r["scenario"]) for r in rows)
        + " | target for (b), (c) |",
        "|---|" + "---:|" * len(rows) + "---|",
    ]

    def row(name: str, cell: Any, target: str = "") -> str:
        cells = [("skipped" if "skipped" in r else cell(r)) for r in rows]
        return f"| {name} | " + " | ".join(cells) + f" | {target} |"

    def failures(r: dict[str, Any]) -> str:
        detail = ", ".join(f"{k} x{v}" for k, v in sorted(r["failures"].items()))
        return f"**{r['failed']}**" + (f" ({detail})" if detail else "")

    def verdict(r: dict[str, Any]) -> str:
        if r["scenario"] == "retry-only":
            return "reference"
        return "meets" if all(ok for _, ok, _ in rl_checks(r)) else "**misses**"

    out += [
        row("workers", lambda r: r["workers"]),
        row("created", lambda r: f"{r['created']} / {r['creations']}"),
        row("failed creations", failures, "0"),
        row("wall time (s)", lambda r: f"{r['wall_s']:.2f}", f"shortest possible {ideal:.1f}"),
        row(
            "shortest possible / wall",
            lambda r: (
                "- (gave up)"
                if r["failed"] or not r["wall_s"]
                else f"{100 * ideal / r['wall_s']:.0f}%"
            ),
        ),
        row("goodput (charts/s)", lambda r: f"{r['goodput_per_s']:.2f}"),
        row("goodput, % of limit", lambda r: f"**{r['goodput_pct_of_limit']:.1f}%**", ">= 90%"),
        row("requests sent", lambda r: str(r["requests"])),
        row("429 responses", lambda r: str(r["429s"])),
        row("429s, % of requests", lambda r: f"**{r['429_pct']:.1f}%**", "<= 5%"),
        row("targets", verdict),
        "",
    ]
    skipped = [r for r in rows if "skipped" in r]
    for r in skipped:
        out += [
            f"Scenario {RL_LABELS.get(r['scenario'], r['scenario'])} was skipped: {r['skipped']}.",
            "",
        ]
    return out


def cpu_tables(data: dict[str, Any]) -> list[str]:
    pr = data["per_request"]
    out = [
        "## CPU cost at RTT 0",
        "",
        "`POST /v3/charts` (JSON in, JSON out) over plain HTTP on loopback against a lean canned "
        "server (benchmarks/fastserver.py), so that the client's own work is as large a share "
        "of the time as it can be. *raw*: the library alone; *transport*: our backend's "
        "`send()` of a prepared Request (pool bookkeeping, conversion of request and "
        "response); *ours*: `Datawrapper.create_chart()` (validation, headers, JSON, retry "
        "engine, decoding). Median and minimum over interleaved blocks; CPU is process time.",
        "",
        "| flavour | wall us/request (median) | (min) | CPU us/request (median) | (min) | vs raw (median wall) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in pr.items():
        backend = name.split("-", 1)[1].replace("-noenv", "")
        raw_names = [f"raw-{backend}"] + (["raw-requests-noenv"] if backend == "requests" else [])
        raw = min(pr[n]["wall_us"] for n in raw_names)
        vs = "" if name.startswith("raw-") else _ratio(r["wall_us"], raw)
        out.append(
            f"| {name} | {r['wall_us']:.1f} | {r['wall_min_us']:.1f} | {r['cpu_us']:.1f} "
            f"| {r['cpu_min_us']:.1f} | {vs} |"
        )
    out += [
        "",
        "`raw-requests` is a default `requests.Session`, which reads proxy and netrc settings "
        "from the environment on every call; `raw-requests-noenv` sets `trust_env = False` as "
        "our backend does. *vs raw* uses the faster of the two.",
        "",
        "### Cost of each layer (no network; best of 5 x 5000 calls)",
        "",
        "| layer | us per call |",
        "|---|---:|",
    ]
    out += [f"| {name} | {us:.2f} |" for name, us in data["layers"]]
    out.append("")
    for p in data["profiles"]:
        out += [
            f"### Profile: ours-{p['backend']} (cProfile, {p['calls']} create_chart calls)",
            "",
            f"Everything: {p['total_us_per_call']:.0f} us per call under the profiler; the "
            f"package's own functions: {p['ours_us_per_call']:.1f} us (own time). Top "
            "functions by own time (profiler overhead inflates small functions):",
            "",
            "| own us/call | cumulative us/call | calls | function |",
            "|---:|---:|---:|---|",
        ]
        out += [
            f"| {t['own_us']:.2f} | {t['cum_us']:.1f} | {t['ncalls']} | `{t['where']}` |"
            for t in p["top"]
        ]
        out.append("")
    return out


def mem_table(data: dict[str, Any]) -> list[str]:
    out = [
        "## Memory",
        "",
        f"Each client creates {data['n']} charts (create + upload) serially against the canned "
        "TLS server at RTT 0, in a fresh process (benchmarks/memprobe.py). RSS from "
        "`/proc/self/status` (VmRSS) after a 10-chart warm-up and at 10%, 50% and 100% of the "
        "run; peak: VmHWM (the process's own high-water mark; `ru_maxrss` would include the "
        "parent's memory copied at fork).",
        "",
        "| client | RSS warm (MiB) | at 10% | at 50% | at 100% | change 10% -> 100% | peak (MiB) | connections |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in data["rows"]:
        rss = {k: v / 1024 for k, v in r["rss_kib"].items()}
        out.append(
            f"| {r['flavour']} | {rss['warm']:.1f} | {rss['10%']:.1f} | {rss['50%']:.1f} "
            f"| {rss['100%']:.1f} | {rss['100%'] - rss['10%']:+.2f} | {r['peak_kib'] / 1024:.1f} "
            f"| {r['connections']} |"
        )
    out.append("")
    return out


def render(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        "# Benchmarks",
        "",
        "Generated by `python benchmarks/run.py` (`nox -s bench`); do not edit by hand.",
        "",
        f"- date: {results['date']}",
        f"- command: `{results['command']}` ({results['duration_s'] / 60:.1f} min)",
        f"- machine: {m['nproc']} CPUs, {m['cpu']}, Linux {m['kernel']}, "
        f"{m['implementation']} {m['python']}, {m['openssl']}",
        "- libraries: " + ", ".join(f"{k} {v}" for k, v in m["libraries"].items()),
        f"- load average (1 / 5 / 15 min, `/proc/loadavg`) at start: "
        f"{_load_text(results['load'][0])}; at end: {_load_text(results['load'][1])} "
        "(other engineers' work on the machine adds noise; runs are interleaved to spread it "
        "evenly)",
    ]
    sections = results.get("sections", {})
    if sections:
        lines.append("- sections (load average 1 / 5 / 15 min at the section's start -> end):")
        for name in SECTIONS:
            meta = sections.get(name)
            if meta is None or name not in results:
                continue
            line = (
                f"  - {name}: {meta['duration_s'] / 60:.1f} min, load {_load_text(meta['load_start'])}"
                f" -> {_load_text(meta['load_end'])}"
            )
            if meta.get("merged"):
                line += f"; taken from the run of {meta['date']} (`{meta['command']}`)"
            if meta.get("note"):
                line += f"; {meta['note']}"
            lines.append(line)
    lines.append("")
    if "wan" in results:
        check = results["wan"]["self_check"]
        lines += [
            "## The emulated WAN",
            "",
            "The fake Datawrapper API (`datawrapper.testing.FakeServer` + `FakeDatawrapperAPI`, "
            "TLS with a `trustme` CA) and a userspace latency proxy (benchmarks/wanproxy.py) "
            "run in child processes of their own; the clients run in the benchmark process. The "
            "proxy delivers every chunk RTT/2 after it arrived, in each direction, through a "
            "per-direction queue (delays never add up), and holds the first chunk of each new "
            "connection one extra RTT for the TCP handshake. It counts the connections.",
            "",
            "Self-check (urllib3, `GET /v3/me`, medians of "
            f"{check['samples'][0]} new-connection and {check['samples'][1]} reused-connection "
            "requests):",
            "",
            "| | measured | in RTTs | expected |",
            "|---|---:|---:|---:|",
            f"| request on a new connection ({check['tls_version']}) | {check['new_ms']:.1f} ms "
            f"| {check['new_rtts']:.2f} | ~3 (TCP + TLS 1.3 + request) |",
            f"| request on a reused connection | {check['reused_ms']:.1f} ms "
            f"| {check['reused_rtts']:.2f} | ~1 |",
            "",
            f"Result: {'within tolerance' if check['ok'] else 'OUT OF TOLERANCE'}. The excess "
            "over whole RTTs is the TLS handshake's CPU time and the time this virtual machine "
            "takes to wake an idle process (about 1 ms per request after a 25 ms pause, measured "
            "without the proxy).",
            "",
        ]
    lines += target_lines(results)
    if "wan" in results:
        lines += ["## Results over the emulated WAN", ""]
        lines += wan_tables(results["wan"], "create")
        lines += wan_tables(results["wan"], "mixed")
        lines += [
            "The baseline is what the community client does: a module-level `requests.post`/`put` "
            "per call, so every request pays a new TCP and TLS handshake (about 3 RTT instead "
            "of 1). Concurrent rows of the raw libraries and the baseline use a "
            "`ThreadPoolExecutor`; ours uses the package's bulk runner (`bulk_map`, i.e. "
            "`client.map`), which shares the client's pool.",
            "",
        ]
    if "cpu" in results:
        lines += cpu_tables(results["cpu"])
    if "mem" in results:
        lines += mem_table(results["mem"])
    if "ratelimit" in results:
        lines += ratelimit_table(results["ratelimit"])
    return "\n".join(lines).rstrip() + "\n"


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run the benchmarks and write BENCHMARKS.md.")
    parser.add_argument("--quick", action="store_true", help="smoke run: small N, one run")
    parser.add_argument("--rtt-ms", type=float, default=50.0, help="emulated round trip (50)")
    parser.add_argument("--n", type=int, default=None, help="charts per creation run (100)")
    parser.add_argument("--mixed-n", type=int, default=None, help="charts per mixed run (16)")
    parser.add_argument("--runs", type=int, default=None, help="interleaved serial runs (3)")
    parser.add_argument(
        "--conc-runs", type=int, default=None, help="interleaved concurrent runs (5)"
    )
    parser.add_argument("--workers", type=int, default=8, help="threads when concurrent (8)")
    parser.add_argument("--cpu-m", type=int, default=None, help="calls per RTT-0 block (300)")
    parser.add_argument("--cpu-runs", type=int, default=None, help="RTT-0 blocks (15)")
    parser.add_argument("--mem-n", type=int, default=None, help="creations per memory run (1000)")
    parser.add_argument(
        "--rl-n", type=int, default=None, help="creations per rate-limit scenario (200)"
    )
    parser.add_argument("--rl-rate", type=float, default=10.0, help="server limit, requests/s")
    parser.add_argument("--rl-burst", type=float, default=20.0, help="server burst (20)")
    parser.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help="comma-separated sections: " + ", ".join(SECTIONS) + " (default: all)",
    )
    parser.add_argument("--out", default=None, help="markdown file (default BENCHMARKS.md)")
    parser.add_argument("--json", default=None, help="also write the raw results as JSON here")
    parser.add_argument(
        "--merge",
        default=None,
        help="JSON of an earlier run (--json): keep its sections that are not run now",
    )
    parser.add_argument(
        "--note",
        action="append",
        default=[],
        metavar="SECTION=TEXT",
        help="a remark printed next to a section's provenance (repeatable)",
    )
    args = parser.parse_args(argv)
    defaults = (
        {"n": 16, "mixed_n": 8, "runs": 1, "conc_runs": 1, "cpu_m": 100, "cpu_runs": 2}
        | {"mem_n": 100, "rl_n": 40}
        if args.quick
        else {"n": 100, "mixed_n": 16, "runs": 3, "conc_runs": 5, "cpu_m": 300, "cpu_runs": 15}
        | {"mem_n": 1000, "rl_n": 200}
    )
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.out is None and not args.quick:
        args.out = str(ROOT / "BENCHMARKS.md")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sections = {s.strip() for s in args.only.split(",") if s.strip()}
    unknown = sections - set(SECTIONS)
    if unknown:
        raise SystemExit(f"unknown section(s) {sorted(unknown)}: use " + ", ".join(SECTIONS))
    notes: dict[str, str] = {}
    for note in args.note:
        name, sep, text = note.partition("=")
        if not sep or name not in SECTIONS:
            raise SystemExit(f"--note {note!r}: write SECTION=TEXT with SECTION one of {SECTIONS}")
        notes[name] = text
    previous: dict[str, Any] = {}
    if args.merge:
        previous = json.loads(Path(args.merge).read_text())
    started = time.perf_counter()
    load_start = load_average()
    date = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    command = "python benchmarks/run.py " + " ".join(sys.argv[1:] if argv is None else argv)
    results: dict[str, Any] = {
        "date": date,
        "command": command.strip(),
        "machine": machine(),
        "sections": {},
    }

    def timed(name: str, run: Any) -> None:
        began, load = time.perf_counter(), load_average()
        results[name] = run(args)
        results["sections"][name] = {
            "date": date,
            "command": results["command"],
            "duration_s": time.perf_counter() - began,
            "load_start": load,
            "load_end": load_average(),
        }

    if "wan" in sections:
        log(
            f"== WAN: RTT {args.rtt_ms:g} ms, N={args.n}, mixed N={args.mixed_n}, "
            f"runs={args.runs} serial / {max(args.runs, args.conc_runs)} concurrent"
        )
        timed("wan", run_wan_section)
    if "cpu" in sections:
        log(f"== CPU at RTT 0: {args.cpu_runs} blocks of {args.cpu_m} calls per flavour")
        timed("cpu", run_cpu_section)
    if "mem" in sections:
        log(f"== memory: {args.mem_n} creations per client")
        timed("mem", run_mem_section)
    if "ratelimit" in sections:
        log(
            f"== rate limits: {args.rl_n} creations, server {args.rl_rate:g}/s burst "
            f"{args.rl_burst:g}, {RL_THREADS} workers"
        )
        timed("ratelimit", run_ratelimit_section)
    results["duration_s"] = time.perf_counter() - started
    results["load"] = (load_start, load_average())
    for name in SECTIONS:
        if name in sections or name not in previous:
            continue
        results[name] = previous[name]
        meta = dict(previous.get("sections", {}).get(name) or {})
        if not meta:  # a JSON written before sections had their own provenance
            old_load = previous.get("load") or [[0.0] * 3] * 2
            meta = {
                "date": previous.get("date", "?"),
                "command": previous.get("command", "?"),
                "duration_s": 0.0,
                "load_start": [float(x) for x in old_load[0]]
                if isinstance(old_load[0], list)
                else [float(old_load[0]), 0.0, 0.0],
                "load_end": [float(x) for x in old_load[1]]
                if isinstance(old_load[1], list)
                else [float(old_load[1]), 0.0, 0.0],
            }
        meta["merged"] = True
        results["sections"][name] = meta
    for name, text in notes.items():
        if name in results["sections"]:
            results["sections"][name]["note"] = text
    text = render(results)
    print()
    print("\n".join(target_lines(results)))
    if args.out:
        Path(args.out).write_text(text)
        log(f"wrote {args.out}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
        log(f"wrote {args.json}")
    if "wan" in results and not results["wan"]["self_check"]["ok"]:
        log("warning: the link self-check was out of tolerance")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
