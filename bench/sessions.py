"""Many sessions at once: action time and server memory while 8 browser sessions work the app.

Run: ``HF_HUB_OFFLINE=1 python bench/sessions.py [sessions]`` (needs ``/usr/bin/chromium``;
about 6 minutes for 8 sessions on 2 shared cores).

Reuses the driver of ``tests/browser/test_concurrency.py`` (``tests/browser/concurrency.py``):
a fresh ``streamlit run``, ``sessions`` Playwright sessions started at the same instant, each
doing its 20 scripted actions (model pages, sliders, generation, navigation). The test asserts
that every session's results and settings are its own; this script reports the figures the test
deliberately does not assert:

* p50 / p95 / max time of one user action (click or input until Streamlit is idle again and the
  element that proves the result is shown), all sessions pooled -- ``statistics.quantiles``
  (inclusive method);
* peak resident memory of the server process and its children (psutil, sampled every 0.25 s);
* wall time and the load average, since the figures depend on what else runs on the machine.

Prints human-readable lines and one JSON line per figure (folded in by ``python -m bench``).
No figure has a target: time depends on the machine, and only ratios are compared elsewhere.
"""
from __future__ import annotations

import json
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.browser.concurrency import SESSIONS, run_all  # noqa: E402


def percentile(values: list[float], q: int) -> float:
    """The ``q``-th percentile (1..99) of ``values``, inclusive method."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def main(argv: list[str]) -> int:
    sessions = int(argv[0]) if argv else SESSIONS
    load_before = os.getloadavg()
    report = run_all(sessions, name="bench-sessions")
    load_after = os.getloadavg()
    times = report["action_seconds"]
    note = (f"{sessions} sessions, {report['actions_done']}/{report['actions_planned']} actions, "
            f"{len(report['errors'])} errors; load average {load_before[0]:.1f} before, "
            f"{load_after[0]:.1f} after, {os.cpu_count()} cores")
    figures = [("server peak RSS (server + children)", report["server_peak_rss_mb"], "MB"),
               ("wall time, all sessions", report["duration_s"], "s")]
    if times:
        figures[:0] = [("user action p50", percentile(times, 50), "s"),
                       ("user action p95", percentile(times, 95), "s"),
                       ("user action max", max(times), "s")]
    print(f"[concurrency] {note}")
    for name, value, unit in figures:
        print(f"[concurrency] {name}: {value:.2f} {unit}" if unit == "s" else f"[concurrency] {name}: {value} {unit}")
    for name, value, unit in figures:
        print(json.dumps({"group": "interaction", "figure": f"concurrency: {name}", "value": round(float(value), 2),
                          "unit": unit, "note": note}))
    for error in report["errors"][:10]:
        print(f"[concurrency] error: {error}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
