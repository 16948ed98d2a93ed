"""Many sessions at once: action time and server memory while 8 browser sessions work the app.

Run: ``HF_HUB_OFFLINE=1 python bench/sessions.py [sessions] [--malloc] [--write]`` (needs
``/usr/bin/chromium``; 6-12 minutes per server for 8 sessions on 2 shared cores). ``--malloc``
runs the tour twice, one server after the other: with glibc's malloc defaults
(``LLM_LAB_MALLOC_ARENAS=0 LLM_LAB_MALLOC_TRIM=0``) and with the app's settings (two arenas,
``malloc_trim`` after every script run; :mod:`components.memory`). ``--write`` puts the table,
headed by its date and load average, into docs/performance.md between the
``<!-- bench:sessions -->`` markers.

Reuses the driver of ``tests/browser/test_concurrency.py`` (``tests/browser/concurrency.py``):
a fresh ``streamlit run``, ``sessions`` Playwright sessions started at the same instant, each
doing its 20 scripted actions (model pages, sliders, generation, navigation). The test asserts
that every session's results and settings are its own; this script reports the figures the test
deliberately does not assert:

* p50 / p95 / max time of one user action (click or input until Streamlit is idle again and the
  element that proves the result is shown), all sessions pooled -- ``statistics.quantiles``
  (inclusive method);
* peak resident memory of the server process and its children (psutil, sampled every 0.25 s);
* wall time and the load average, since the figures depend on what else runs on the machine;
  the peak RSS depends on how the sessions' steps interleave, so compare variants of one run.

Prints human-readable lines and one JSON line per figure (folded in by ``python -m bench``).
No figure has a target: time depends on the machine, and only ratios are compared elsewhere.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import percentile, write_performance_section  # noqa: E402
from tests.browser.concurrency import SESSIONS, run_all  # noqa: E402

VARIANTS = {
    "glibc malloc defaults": {"LLM_LAB_MALLOC_ARENAS": "0", "LLM_LAB_MALLOC_TRIM": "0"},
    "app (2 arenas, malloc_trim after each run)": {},
}


def run_variant(label: str, sessions: int, env: dict[str, str]) -> dict:
    """One fresh server and its tour; the report's figures plus ``label`` and load averages."""
    load_before = os.getloadavg()
    report = run_all(sessions, name="bench-sessions", env=env)
    load_after = os.getloadavg()
    times = report["action_seconds"]
    row = {"label": label, "rss_mb": report["server_peak_rss_mb"], "wall_s": report["duration_s"],
           "done": report["actions_done"], "planned": report["actions_planned"],
           "errors": report["errors"], "load": (load_before[0], load_after[0]),
           "p50": percentile(times, 50) if times else None, "p95": percentile(times, 95) if times else None,
           "max": max(times) if times else None}
    note = (f"{sessions} sessions, {row['done']}/{row['planned']} actions, {len(row['errors'])} errors; "
            f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after, {os.cpu_count()} cores")
    figures = [("server peak RSS (server + children)", row["rss_mb"], "MB"), ("wall time, all sessions", row["wall_s"], "s")]
    if times:
        figures[:0] = [("user action p50", row["p50"], "s"), ("user action p95", row["p95"], "s"),
                       ("user action max", row["max"], "s")]
    prefix = "" if label == "app" else f"{label}: "
    print(f"[concurrency] {prefix}{note}")
    for name, value, unit in figures:
        print(f"[concurrency] {prefix}{name}: {value:.2f} {unit}" if unit == "s" else f"[concurrency] {prefix}{name}: {value} {unit}")
    for name, value, unit in figures:
        print(json.dumps({"group": "interaction", "figure": f"concurrency: {prefix}{name}",
                          "value": round(float(value), 2), "unit": unit, "note": note}))
    for error in row["errors"][:10]:
        print(f"[concurrency] error: {error}")
    return row


def markdown(rows: list[dict], sessions: int, started: str) -> str:
    """The table for docs/performance.md, headed by date, machine and load averages."""
    import torch

    loads = ", ".join(f"{r['label']}: {r['load'][0]:.1f} -> {r['load'][1]:.1f}" for r in rows)
    lines = [f"Measured {started} with `python bench/sessions.py --malloc`: {os.cpu_count()} cores, "
             f"torch {torch.__version__}, {sessions} browser sessions on one server, one after the other per "
             f"variant; load average at start -> end: {loads}.", "",
             "| server | peak RSS (MB) | actions done | action p50 (s) | action p95 (s) | wall time (s) |",
             "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        p50 = f"{r['p50']:.2f}" if r["p50"] is not None else "-"
        p95 = f"{r['p95']:.2f}" if r["p95"] is not None else "-"
        lines.append(f"| {r['label']} | {r['rss_mb']} | {r['done']}/{r['planned']} | {p50} | {p95} | {r['wall_s']:.0f} |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sessions", nargs="?", type=int, default=SESSIONS)
    parser.add_argument("--malloc", action="store_true", help="glibc malloc defaults vs the app's settings")
    parser.add_argument("--write", action="store_true", help="write the table into docs/performance.md")
    args = parser.parse_args(argv)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    variants = VARIANTS if args.malloc else {"app": {}}
    rows = [run_variant(label, args.sessions, env) for label, env in variants.items()]
    table = markdown(rows, args.sessions, started)
    print(table)
    if args.write:
        write_performance_section("sessions", table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
