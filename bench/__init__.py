"""LLM Lab benchmarks: app-wide figures measured against the bare libraries.

Run everything with ``make bench`` (or ``HF_HUB_OFFLINE=1 python -m bench``; ``--quick`` skips
the slow parts). The runners live in :mod:`bench.__main__`; this module holds the small,
dependency-free machinery they share, so it can be imported (and tested) without torch or
streamlit:

* :class:`Figure` -- one measured figure with its baseline and target, and the derived
  ``ratio`` (value / baseline) and ``met`` (value within target);
* :func:`build_table` / :func:`format_table` / :func:`write_results` -- the ONE table the bench
  prints and saves as ``bench/results/latest.csv`` and ``latest.json``;
* timing and memory helpers (:func:`time_calls`, :func:`proc_memory`, :func:`free_port`,
  :func:`run_json_child`);
* :func:`compare_streams` / :func:`print_stream_comparison` -- streamed generation through the
  app vs the bare call (``bench/generation.py``, ``bench/server.py``).

Per-page benchmarks (``bench/generation.py``, ``bench/sentiment.py``, ``bench/embeddings.py``,
``bench/attention.py``) are standalone scripts, one per page; ``python -m bench`` runs
them as subprocesses and folds in the figures they print.
"""
from __future__ import annotations

import csv
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "bench" / "results"
CHILD_MARK = "BENCH-JSON:"
"""Prefix of the one stdout line on which a child process reports its JSON result."""

TABLE_COLUMNS = ("figure", "value", "baseline", "ratio", "target", "met")
RECORD_FIELDS = ("group", "figure", "value", "unit", "baseline", "ratio", "target", "met", "note")


@dataclass
class Figure:
    """One benchmark figure.

    Attributes:
        group: section of the table ("start", "memory", "interaction", "caches", "pages").
        name: what was measured, e.g. ``"warm model ready: SmolLM2"``.
        value: the measurement (``None`` = could not be measured; see ``note``).
        unit: ``"s"``, ``"MB"``, ``"%"``, ``"count"``, ...
        baseline: the same measurement on the bare library / bare app, or ``None``.
        target: upper bound the value must not exceed (``None`` = informational figure).
        note: how it was measured, or why it was skipped.
    """

    group: str
    name: str
    value: float | None
    unit: str = "s"
    baseline: float | None = None
    target: float | None = None
    note: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        """``value / baseline`` (how many times the bare library's figure), or None."""
        return ratio(self.value, self.baseline)

    @property
    def met(self) -> bool | None:
        """True/False when a target is set and a value measured; None otherwise."""
        return target_met(self.value, self.target)


def ratio(value: float | None, baseline: float | None) -> float | None:
    """``value / baseline``; None when either is missing or the baseline is not positive."""
    if value is None or baseline is None:
        return None
    if not (isinstance(baseline, (int, float)) and baseline > 0 and math.isfinite(baseline)):
        return None
    return float(value) / float(baseline)


def target_met(value: float | None, target: float | None) -> bool | None:
    """Whether ``value <= target`` (every target in this bench is an upper bound)."""
    if value is None or target is None:
        return None
    return float(value) <= float(target)


def _fmt_number(x: float | None, unit: str = "") -> str:
    if x is None:
        return "-"
    if unit == "count":
        return f"{x:.0f}"
    ax = abs(x)
    if ax >= 100:
        s = f"{x:.0f}"
    elif ax >= 10:
        s = f"{x:.1f}"
    elif ax >= 0.1 or ax == 0:
        s = f"{x:.2f}"
    else:
        s = f"{x:.3f}"
    return f"{s} {unit}".strip() if unit and unit != "x" else s


def build_table(figures: Iterable[Figure]) -> list[dict]:
    """Rows of the results table, one per figure, in the given order.

    Each row holds the raw numbers (``value``, ``baseline``, ``ratio``, ``target``: floats or
    None; ``met``: True/False/None) plus ``group``, ``figure`` (name), ``unit`` and ``note``.
    """
    rows = []
    for f in figures:
        rows.append({
            "group": f.group,
            "figure": f.name,
            "value": None if f.value is None else float(f.value),
            "unit": f.unit,
            "baseline": None if f.baseline is None else float(f.baseline),
            "ratio": f.ratio,
            "target": None if f.target is None else float(f.target),
            "met": f.met,
            "note": f.note,
        })
    return rows


def _met_label(met: bool | None) -> str:
    return {True: "yes", False: "NO", None: "-"}[met]


def display_cells(row: dict) -> list[str]:
    """The six printed cells of a row: figure, value, baseline, ratio, target, met?"""
    unit = row["unit"]
    return [
        row["figure"],
        _fmt_number(row["value"], unit),
        _fmt_number(row["baseline"], unit),
        "-" if row["ratio"] is None else f"{row['ratio']:.2f}x",
        "-" if row["target"] is None else "<= " + _fmt_number(row["target"], unit),
        _met_label(row["met"]),
    ]


def format_table(rows: Sequence[dict], markdown: bool = False) -> str:
    """The results table as aligned plain text (or a Markdown table when ``markdown``)."""
    header = ["figure", "value", "baseline", "ratio", "target", "met?"]
    cells = [display_cells(r) for r in rows]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * 4 + [":---:"]) + "|"]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in cells]
        return "\n".join(lines)
    widths = [max(len(str(c[i])) for c in [header, *cells]) for i in range(len(header))]
    def line(c):
        return "  ".join(str(x).ljust(w) if i == 0 else str(x).rjust(w) for i, (x, w) in enumerate(zip(c, widths)))
    out = [line(header), line(["-" * w for w in widths])]
    group = None
    for r, c in zip(rows, cells):
        if r["group"] != group:
            group = r["group"]
            out.append(f"[{group}]")
        out.append(line(c))
    return "\n".join(out)


def write_results(rows: Sequence[dict], meta: dict, directory: Path = RESULTS_DIR,
                  stem: str = "latest") -> tuple[Path, Path]:
    """Write ``<stem>.csv`` (one line per figure, columns ``RECORD_FIELDS``) and
    ``<stem>.json`` (``{"meta": ..., "figures": rows}``) into ``directory``; return both paths."""
    directory.mkdir(parents=True, exist_ok=True)
    csv_path, json_path = directory / f"{stem}.csv", directory / f"{stem}.json"
    with csv_path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=RECORD_FIELDS)
        writer.writeheader()
        for r in rows:
            writer.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in RECORD_FIELDS})
    json_path.write_text(json.dumps({"meta": meta, "figures": list(rows)}, indent=2, ensure_ascii=False))
    return csv_path, json_path


# --------------------------------------------------------------------------- measuring
def time_calls(fn: Callable[[], object], repeat: int = 3, warmup: int = 0) -> list[float]:
    """Wall times (seconds, ``time.perf_counter``) of ``repeat`` calls of ``fn`` after
    ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def median_time(fn: Callable[[], object], repeats: int = 3) -> tuple[float, object]:
    """Median wall time (seconds) of ``repeats`` calls of ``fn`` after one untimed warm-up
    call, and the last call's result (so a bench can time and keep what it computed)."""
    fn()
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def write_performance_section(name: str, table: str) -> bool:
    """Put ``table`` between the ``<!-- bench:<name> -->`` and ``<!-- /bench:<name> -->``
    markers of docs/performance.md, so a published figure is what its bench printed; prints
    what happened and returns False when the markers are missing (nothing written)."""
    import re

    doc = ROOT / "docs" / "performance.md"
    text = doc.read_text(encoding="utf-8")
    marked = re.compile(rf"(<!-- bench:{re.escape(name)} -->\n)(.*?)(<!-- /bench:{re.escape(name)} -->)", re.S)
    if not marked.search(text):
        print(f"docs/performance.md has no bench:{name} markers; not written")
        return False
    doc.write_text(marked.sub(lambda m: m.group(1) + table.rstrip("\n") + "\n" + m.group(3), text), encoding="utf-8")
    print("docs/performance.md updated")
    return True


def percentile(values: Sequence[float], q: int) -> float:
    """The ``q``-th percentile (1..99) of ``values`` (``statistics.quantiles``, inclusive
    method; the value itself when there is one)."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def median(values: Sequence[float]) -> float | None:
    """Median of the non-None values, or None when there are none."""
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def compare_streams(runs: dict[str, list[dict]]) -> dict[str, float]:
    """Medians and ratios of alternating streamed runs: ``runs["page"]`` (through the app) and
    ``runs["bare"]`` (the library or server called directly), each run a dict with ``ttft_s``
    (s), ``tokens_per_s`` and ``tokens``.

    Returns:
        ``{"new_tokens", "page_tokens_per_s", "bare_tokens_per_s", "throughput_ratio",
        "page_ttft_s", "bare_ttft_s", "ttft_ratio"}`` (ratios = page / bare).
    """
    med = {k: {m: statistics.median(r[m] for r in v) for m in ("ttft_s", "tokens_per_s", "tokens")}
           for k, v in runs.items()}
    return {
        "new_tokens": med["page"]["tokens"],
        "page_tokens_per_s": med["page"]["tokens_per_s"],
        "bare_tokens_per_s": med["bare"]["tokens_per_s"],
        "throughput_ratio": med["page"]["tokens_per_s"] / med["bare"]["tokens_per_s"],
        "page_ttft_s": med["page"]["ttft_s"],
        "bare_ttft_s": med["bare"]["ttft_s"],
        "ttft_ratio": med["page"]["ttft_s"] / med["bare"]["ttft_s"],
    }


def page_stream(loaded, prepared, settings) -> dict:
    """One streamed generation as the generation page runs it
    (``components.generation.GenerationStream``): ``ttft_s`` (s), ``tokens`` and
    ``tokens_per_s`` (new tokens over the whole call), as :func:`compare_streams` takes them."""
    from components.generation import GenerationStream

    stream = GenerationStream(loaded, prepared, settings)
    start = time.perf_counter()
    for _ in stream:
        pass
    end = time.perf_counter()
    n = stream.stats.new_tokens
    return {"ttft_s": stream.stats.ttft_s, "tokens": n, "tokens_per_s": n / max(end - start, 1e-9)}


def print_stream_comparison(result: dict, page_label: str = "page", bare_label: str = "bare") -> None:
    """Print :func:`compare_streams` figures against their targets (throughput ratio >= 0.95,
    first-token ratio <= 1.2), then the whole ``result`` as one ``JSON`` line."""
    print(f"{'':18}{page_label:>10}{bare_label:>10}{'ratio':>8}{'target':>10}  met")
    tp_ok = result["throughput_ratio"] >= 0.95
    ft_ok = result["ttft_ratio"] <= 1.2
    print(f"{'tokens/s':18}{result['page_tokens_per_s']:10.2f}{result['bare_tokens_per_s']:10.2f}"
          f"{result['throughput_ratio']:8.3f}{'>= 0.95':>10}  {'yes' if tp_ok else 'NO'}")
    print(f"{'first token (s)':18}{result['page_ttft_s']:10.3f}{result['bare_ttft_s']:10.3f}"
          f"{result['ttft_ratio']:8.3f}{'<= 1.2':>10}  {'yes' if ft_ok else 'NO'}")
    print("JSON " + json.dumps(result))


def proc_memory(pid: int | str = "self") -> dict[str, float]:
    """Resident memory of a Linux process in MB: ``{"rss": VmRSS, "peak": VmHWM}``
    (from ``/proc/<pid>/status``; VmHWM is the kernel's peak resident set size)."""
    out = {}
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith(("VmRSS:", "VmHWM:")):
                kb = float(line.split()[1])
                out["rss" if line.startswith("VmRSS") else "peak"] = kb / 1024.0
    return out


def free_port() -> int:
    """A free localhost TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_env(**overrides: str) -> dict[str, str]:
    """Environment for child processes: offline Hub, project on ``PYTHONPATH``, quiet logs."""
    env = dict(os.environ)
    env.update({
        "HF_HUB_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "TRANSFORMERS_VERBOSITY": "error",
        "PYTHONPATH": str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""),
    })
    env.update(overrides)
    return env


def report_child(result: dict) -> None:
    """Print a child's result on one marked stdout line (read by :func:`run_json_child`)."""
    sys.stdout.write(CHILD_MARK + json.dumps(result) + "\n")
    sys.stdout.flush()


def parse_child_output(stdout: str) -> dict | None:
    """The JSON reported by :func:`report_child` in ``stdout`` (last marked line), or None."""
    found = None
    for line in stdout.splitlines():
        if line.startswith(CHILD_MARK):
            found = json.loads(line[len(CHILD_MARK):])
    return found


def run_json_child(args: Sequence[str], env: dict[str, str] | None = None,
                   timeout: float = 600) -> dict:
    """Run ``python -m bench child <args>`` in a fresh process; return its reported JSON
    plus ``_wall_s`` (the parent-side wall time from spawn to exit).

    Raises:
        RuntimeError: the child failed or reported nothing (its stderr tail is in the message).
    """
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "bench", "child", *args], cwd=ROOT,
                          env=env or child_env(), capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - start
    result = parse_child_output(proc.stdout)
    if proc.returncode != 0 or result is None:
        tail = (proc.stderr or proc.stdout)[-1500:]
        raise RuntimeError(f"child {' '.join(args)} failed (exit {proc.returncode}): {tail}")
    result["_wall_s"] = wall
    return result
