"""Benchmark of the Attention visualizer: compute time, figure build time, browser payload.

Run: ``HF_HUB_OFFLINE=1 python bench/attention.py`` (from the repo root, venv active).

For each bundled model and 16, 64, 128, 256 tokens it measures
* ``bare forward``: the library alone -- ``base_model(**inputs, output_attentions=True)``;
* ``get_attention``: our call (tokenize + forward with hidden states + readable tokens),
  and its ratio to the bare forward;
* ``explain_head``: the formula recomputed for one head (float64, no forward);
* figure build time and payload = ``len(fig.to_json())`` in bytes (what ``st.plotly_chart``
  sends) for every view of the page. "One head" is the default view; the target is
  <= 2 MB per view at 128 tokens;
* table payload: the Arrow IPC bytes of the tables shown with the charts (every chart has a
  "Table" tab with its numbers, sent with the page), per view.
Times are the median of ``REPEATS`` runs after one warm-up, in seconds.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import median_time  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPEATS = 3
SIZES = (16, 64, 128, 256)
TARGET_BYTES = 2_000_000
TEXT = (
    "The animal didn't cross the street because it was too tired, so it lay down and slept. "
    "今天的天气很好，适合出去散步。 Attention lets every token look at every other token. "
) * 12


def table_bytes(frames) -> int:
    """Bytes of the Arrow IPC streams ``st.dataframe`` sends for ``frames`` (DataFrames)."""
    import pyarrow as pa

    total = 0
    for df in frames:
        sink = pa.BufferOutputStream()
        table = pa.Table.from_pandas(df, preserve_index=False)
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        total += sink.getvalue().size
    return total


def main() -> None:
    import torch

    from components.attention import attention_rollout, explain_head, get_attention, mean_over_heads
    from components.catalog import MINILM, SMOLLM2, get_spec
    from components.charts_attention import (
        attention_heatmap,
        formula_figures,
        formula_tables,
        head_summary_table,
        heads_small_multiples,
        heads_table,
        layers_heads_grid,
        matrix_table,
        payload_bytes,
    )
    from components.loading import load_model

    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    load_start = os.getloadavg()[0]
    rows = []
    for key in (MINILM, SMOLLM2):
        loaded = load_model(get_spec(key))
        base = loaded.model.base_model
        for n in SIZES:
            enc = loaded.tokenizer(TEXT, truncation=True, max_length=n, return_tensors="pt")
            inputs = {k: v for k, v in enc.items() if k in ("input_ids", "attention_mask", "token_type_ids")}

            def bare():
                with torch.inference_mode():
                    return base(**inputs, output_attentions=True)

            t_bare, _ = median_time(bare, REPEATS)
            t_ours, res = median_time(lambda: get_attention(loaded, TEXT, max_tokens=n), REPEATS)
            layer, head = res.num_layers // 2, res.num_heads - 1
            t_formula, hc = median_time(lambda: explain_head(loaded, res, layer, head), REPEATS)

            builders = {
                "one head": lambda: [attention_heatmap(res.attentions[layer, head], res.labels, res.raw_tokens)],
                "overview": lambda: [
                    heads_small_multiples(res.attentions[layer], res.labels, layer),
                    layers_heads_grid(res.attentions, highlight=(layer, head)),
                    attention_heatmap(res.attentions[layer, head], res.labels, res.raw_tokens),
                ],
                "aggregates (rollout)": lambda: [
                    attention_heatmap(attention_rollout(res.attentions)[layer], res.labels, res.raw_tokens)
                ],
                "aggregates (mean)": lambda: [
                    attention_heatmap(mean_over_heads(res.attentions)[layer], res.labels, res.raw_tokens)
                ],
                "formula": lambda: list(formula_figures(hc, res.labels).values()),
            }
            one = lambda m: [matrix_table(m, res.labels, res.labels)]  # noqa: E731
            tables = {
                "one head": lambda: one(res.attentions[layer, head]),
                "overview": lambda: [heads_table(res.attentions[layer], res.labels),
                                     head_summary_table(res.attentions), *one(res.attentions[layer, head])],
                "aggregates (rollout)": lambda: one(attention_rollout(res.attentions)[layer]),
                "aggregates (mean)": lambda: one(mean_over_heads(res.attentions)[layer]),
                "formula": lambda: list(formula_tables(hc, res.labels).values()),
            }
            for view, build in builders.items():
                t_fig, figs = median_time(build, REPEATS)
                t0 = time.perf_counter()
                size = sum(payload_bytes(f) for f in figs)
                t_json = time.perf_counter() - t0
                rows.append(dict(model=key, tokens=res.seq_len, view=view, bare=t_bare, ours=t_ours,
                                 formula=t_formula, fig=t_fig + t_json, bytes=size,
                                 table=table_bytes(tables[view]()), diff=hc.max_abs_diff))
            print(f"{key:24s} {res.seq_len:4d} tokens: bare forward {t_bare:.3f} s, get_attention "
                  f"{t_ours:.3f} s (x{t_ours / t_bare:.2f}), explain_head {t_formula * 1000:.1f} ms, "
                  f"max|diff| {hc.max_abs_diff:.1e}", flush=True)
    lines = [
        "| model | tokens | bare forward (s) | get_attention (s) | ratio | formula (ms) | max abs diff "
        "| view | figures + JSON (s) | payload (bytes) | tables (bytes) |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for r in rows:
        flag = " ⚠️" if r["tokens"] <= 128 and r["bytes"] > TARGET_BYTES else ""
        lines.append(
            f"| {r['model']} | {r['tokens']} | {r['bare']:.3f} | {r['ours']:.3f} | {r['ours'] / r['bare']:.2f} "
            f"| {r['formula'] * 1000:.1f} | {r['diff']:.1e} | {r['view']} | {r['fig']:.3f} | {r['bytes']:,}{flag} "
            f"| {r['table']:,} |"
        )
    table = "\n".join(lines)
    table += (f"\n\n{os.cpu_count()} CPUs, torch {torch.__version__}, {torch.get_num_threads()} threads; "
              f"1-min load average {load_start:.1f} at start, {os.getloadavg()[0]:.1f} at end "
              "(times on a busy machine are noisy: compare the ratio column and the payload bytes).")
    print()
    print(table)
    worst128 = max(r["bytes"] for r in rows if r["tokens"] == 128)
    print(f"\nLargest view payload at 128 tokens: {worst128:,} bytes "
          f"({'within' if worst128 <= TARGET_BYTES else 'OVER'} the {TARGET_BYTES:,}-byte target)")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "attention.md").write_text(table + "\n")


if __name__ == "__main__":
    main()
