"""Benchmark: many sessions on one shared model (bundled SmolLM2), all in one process, as
Streamlit runs them (one thread per session).

Figures, all ratios measured in the same run (so machine load cancels out):

* **rerun while another session generates** -- session B's rerun of the generation page
  (its model work is cached by ``st.cache_data``; what is left is tokenising the prompt and
  the token table) while session A streams a long generation, vs the same work alone.
  Target <= 1.2. Also shown for the previous design (A holding the model lock for its whole
  generation) and for B's uncached next-token forward pass (it waits for at most one of A's
  decode steps and shares the CPU).
* **aggregate tokens/s for 1, 2, 4, 8 simultaneous generations** -- total new tokens over the
  wall time until the last one ends, with decode steps batched across sessions
  (``components/decode_batch.py``) and without (``LLM_LAB_BATCH_DECODE=0``: one forward pass per
  session per step, taken in turn), interleaved in one run; ratios to one generation without
  batching and batched / not batched at the same number of sessions. Also the mean batch size
  of the decode steps and fairness (slowest / fastest session's tokens/s).
* **share of the bandwidth ceiling** -- weights read per second (decode steps/s × the bytes of
  weights one step reads) over the memory bandwidth one thread gets from ``torch.mv`` on a
  512 MB matrix, measured in the same run.
* ``--pages`` (alone): p50 / p95 seconds of each page's first result for a new input while
  another session generates vs alone, and that work's own CPU time (``--write`` puts the
  table into docs/performance.md).

``--markdown`` prints the tables ready to paste into docs/performance.md, with date and load average.

Run: ``HF_HUB_OFFLINE=1 .venv/bin/python bench/concurrency.py [--tokens 48] [--repeats 5] [--markdown]``
or ``... --pages [--write]``.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

from bench import percentile, write_performance_section  # noqa: E402
from components.catalog import SMOLLM2, get_spec  # noqa: E402
from components.decode_batch import batcher_for  # noqa: E402
from components.generation import (  # noqa: E402
    CHAT,
    COMPLETE,
    GenerationSettings,
    GenerationStream,
    generate_kwargs,
    next_token_logits,
    prepare_inputs,
    prompt_token_records,
)
from components.loading import load_model  # noqa: E402

PROMPTS = [
    "Once upon a time, in a small village by the sea, there lived an old fisherman who",
    "The three primary colours are",
    "Write a short poem about the mountains in winter.",
    "def fibonacci(n):",
    "今天的天气很好，适合出去散步。",
    "In 1905, Albert Einstein published four papers that changed physics. The first",
    "The best way to learn a new language is",
    "import json\n\n\ndef load_config(path):",
]
SESSIONS = (1, 2, 4, 8)
SEED = 1234
RERUN_PROMPT = "Explain in two sentences why the sky is blue, for a ten-year-old."


def rerun_work(loaded) -> float:
    """Wall seconds of what a generation-page rerun computes outside ``st.cache_data``."""
    start = time.perf_counter()
    prepared = prepare_inputs(loaded, RERUN_PROMPT, CHAT, 64)
    prompt_token_records(loaded, prepared.input_ids)
    return time.perf_counter() - start


def forward_work(loaded) -> float:
    """Wall seconds of an uncached next-token view (one forward over a fresh prompt)."""
    start = time.perf_counter()
    prepared = prepare_inputs(loaded, RERUN_PROMPT, CHAT, 64)
    next_token_logits(loaded, prepared.input_ids)
    return time.perf_counter() - start


def generate(loaded, prompt: str, tokens: int, batch: bool | None = None, seed: int | None = None) -> dict:
    """One greedy generation (sampled with ``seed`` when given); ``_ids``/``_logits`` are its new
    token ids and raw logits per step (for the exactness comparison, not printed)."""
    prepared = prepare_inputs(loaded, prompt, COMPLETE, tokens)
    settings = (GenerationSettings(max_new_tokens=tokens, do_sample=False) if seed is None else
                GenerationSettings(max_new_tokens=tokens, do_sample=True, temperature=0.8, top_k=50, top_p=0.95,
                                   seed=seed))
    stream = GenerationStream(loaded, prepared, settings, max_seconds=3600, batch_decode=batch)
    start = time.perf_counter()
    for _ in stream:
        pass
    wall = time.perf_counter() - start
    return {"tokens": stream.stats.new_tokens, "wall": wall, "tokens_per_s": stream.stats.new_tokens / wall,
            "_ids": stream.token_ids, "_logits": stream.step_logits}


def while_generating(loaded, work, tokens: int, repeats: int, whole_lock: bool = False) -> list[float]:
    """Times of ``work`` run repeatedly while another thread generates ``tokens`` tokens.

    ``whole_lock`` replays the previous design for comparison: session A's thread holds the
    model lock around one whole ``model.generate`` call, and B's tokenizer work takes that
    same lock (there was one lock for model and tokenizer)."""
    done, started = threading.Event(), threading.Event()
    prepared = prepare_inputs(loaded, PROMPTS[0], COMPLETE, tokens)
    settings = GenerationSettings(max_new_tokens=tokens, do_sample=False)

    def session_a():
        try:
            if whole_lock:
                with loaded.lock, torch.inference_mode():
                    started.set()
                    loaded.model.generate(input_ids=prepared.input_ids, attention_mask=prepared.attention_mask,
                                          min_new_tokens=tokens, **generate_kwargs(loaded, settings, tokens))
            else:
                for _ in GenerationStream(loaded, prepared, settings, max_seconds=3600):
                    started.set()
        finally:
            started.set()
            done.set()

    def b_work():
        if whole_lock:
            with loaded.lock:
                return work(loaded)
        return work(loaded)

    worker = threading.Thread(target=session_a)
    worker.start()
    started.wait()
    times = []
    while not done.is_set() and len(times) < repeats:  # only runs started during A's generation
        t = [0.0]
        start = time.perf_counter()
        b = threading.Thread(target=lambda: (b_work(), t.__setitem__(0, time.perf_counter() - start)))
        b.start()
        b.join()
        times.append(t[0])
    worker.join()
    return times


def alone(loaded, work, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        t = [0.0]
        b = threading.Thread(target=lambda: t.__setitem__(0, work(loaded)))
        b.start()
        b.join()
        times.append(t[0])
    return times


PAGE_TEXT = "The battery lasts all week and the screen is gorgeous. Best phone I've owned!"
MAP_ITEMS = [f"{a} {b}" for a in ("The match", "The soup", "The storm", "The phone", "The market")
             for b in ("was great.", "ended badly.", "surprised everyone.", "is all anyone talks about.")]


def page_works(smollm2, minilm) -> dict:
    """Per page, the model work of its first result for a new input (what ``st.cache_data``
    cannot answer), as ``work(loaded) -> seconds`` for :func:`alone` / :func:`while_generating`."""
    from components import classification as C
    from components import embeddings as E
    from components import sentiment as S
    from components.attention import get_attention
    from components.lens import logit_lens

    head = S.train_head(minilm)  # the page keeps it in st.cache_resource

    def timed(fn):
        def work(_loaded) -> float:
            start, cpu = time.perf_counter(), time.thread_time()
            fn()
            work.cpu.append(time.thread_time() - cpu)  # this thread's CPU seconds
            return time.perf_counter() - start
        work.cpu = []
        return work

    return {
        "generation: token table + next-token forward": timed(lambda: (rerun_work(smollm2), forward_work(smollm2))),
        "sentiment: VADER, MiniLM head and SmolLM2 labels (no word weights)": timed(lambda: (
            S.vader_sentiment(PAGE_TEXT, False), S.head_sentiment(minilm, head, PAGE_TEXT, False),
            S.llm_sentiment(smollm2, PAGE_TEXT, attribution=False))),
        "classification: zero-shot, 4 labels (MiniLM)": timed(lambda: C.zero_shot_similarity(
            minilm, [PAGE_TEXT], ["sports", "politics", "technology", "food"])),
        "embedding explorer: 20 sentences, PCA map (MiniLM)": timed(lambda: E.project(
            E.encode_sentences(minilm, MAP_ITEMS).vectors)),
        "attention: every layer and head, one sentence (SmolLM2)": timed(lambda: get_attention(smollm2, PAGE_TEXT)),
        "inside the prediction: logit lens, one sentence (SmolLM2)": timed(lambda: logit_lens(smollm2, PAGE_TEXT)),
    }


def pages_while_generating(smollm2, minilm, tokens: int, repeats: int) -> list[dict]:
    """p50 / p95 seconds of each page's first result while another session generates vs alone."""
    rows = []
    for name, work in page_works(smollm2, minilm).items():
        work(smollm2)  # warm-up
        work.cpu.clear()
        solo = alone(smollm2, work, repeats)
        cpu_alone = percentile(work.cpu, 50)
        work.cpu.clear()
        during = while_generating(smollm2, work, tokens, repeats)
        rows.append({"page": name, "alone_p50": percentile(solo, 50), "alone_p95": percentile(solo, 95),
                     "during_p50": percentile(during, 50), "during_p95": percentile(during, 95), "n": len(during),
                     "cpu_alone_p50": cpu_alone, "cpu_during_p50": percentile(work.cpu, 50)})
    return rows


def simultaneous(loaded, n: int, tokens: int, batch: bool = False, sample: bool = False) -> dict:
    """``n`` sessions start a generation at once, decode steps batched across them or not;
    aggregate tokens/s, fairness and the mean batch size of the decode steps."""
    results: list[dict] = [{} for _ in range(n)]
    barrier = threading.Barrier(n)
    sizes: list[int] = []
    batcher = batcher_for(loaded)
    batcher.on_batch = sizes.append

    def session(i):
        barrier.wait()
        results[i] = generate(loaded, PROMPTS[i % len(PROMPTS)], tokens, batch, SEED + i if sample else None)

    start, cpu = time.perf_counter(), time.process_time()
    threads = [threading.Thread(target=session, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - start
    batcher.on_batch = None
    total = sum(r["tokens"] for r in results)
    rates = [r["tokens_per_s"] for r in results]
    return {"sessions": n, "tokens": total, "wall_s": wall, "cpu_s": time.process_time() - cpu,
            "aggregate_tokens_per_s": total / wall, "fairness": min(rates) / max(rates),
            "mean_batch": statistics.mean(sizes) if sizes else 1.0, "_rows": results}


def weight_bytes(loaded) -> int:
    """Bytes of weights one decode step reads: every parameter once (``parameters()`` counts a
    tied matrix once), except an untied input embedding matrix, of which a step reads one row."""
    model = loaded.model
    emb, out = model.get_input_embeddings().weight, model.get_output_embeddings().weight
    total = sum(p.numel() * p.element_size() for p in model.parameters())
    if emb.data_ptr() != out.data_ptr():
        total -= emb.numel() * emb.element_size()
    return total


def bandwidth_gbps(megabytes: int = 512, repeats: int = 5) -> float:
    """Memory bandwidth one thread gets on this machine, GB/s (1e9 bytes): a float32 matrix of
    ``megabytes`` read by ``torch.mv``, fastest of ``repeats`` calls. A decode step is the same
    matrix-vector product over the weights, so bandwidth / weight bytes is its tokens/s ceiling."""
    cols = 16384
    a = torch.randn(megabytes * 2**20 // (4 * cols), cols)
    x = torch.randn(cols)
    torch.mv(a, x)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mv(a, x)
        best = min(best, time.perf_counter() - start)
    return a.numel() * 4 / best / 1e9


def exactness(off: dict, on: dict) -> dict:
    """Rows of a batched run vs the same sessions not batched: how many kept their text
    token for token, and the largest |logit difference| at any step whose input was the same."""
    same, gap = 0, 0.0
    for a, b in zip(off["_rows"], on["_rows"]):
        same += a["_ids"] == b["_ids"]
        diverged = next((i for i, (x, y) in enumerate(zip(a["_ids"], b["_ids"])) if x != y), None)
        steps = len(a["_logits"]) if diverged is None else diverged + 1  # inputs equal up to there
        for x, y in zip(a["_logits"][:steps], b["_logits"][:steps]):
            gap = max(gap, float((x - y).abs().max()))
    return {"identical": same, "rows": len(off["_rows"]), "max_logit_gap": gap}


def public(run: dict) -> dict:
    return {k: v for k, v in run.items() if not k.startswith("_")}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=48, help="new tokens per generation")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--runs", type=int, default=1, help="runs of each simultaneous-generation case (best kept)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table (docs/performance.md)")
    parser.add_argument("--pages", action="store_true",
                        help="only each page's first result alone vs while another session generates")
    parser.add_argument("--write", action="store_true", help="with --pages: write the table into docs/performance.md")
    args = parser.parse_args(argv)
    if args.pages:
        return pages_main(args)
    load_start = os.getloadavg()
    loaded = load_model(get_spec(SMOLLM2))
    alone(loaded, rerun_work, 2), alone(loaded, forward_work, 1)  # warm-up
    generate(loaded, PROMPTS[1], 4)

    med = statistics.median
    rerun_alone = med(alone(loaded, rerun_work, args.repeats))
    rerun_during = med(while_generating(loaded, rerun_work, 3 * args.tokens, args.repeats) or [float("nan")])
    rerun_before = med(while_generating(loaded, rerun_work, args.tokens, 1, whole_lock=True) or [float("nan")])
    fwd_alone = med(alone(loaded, forward_work, args.repeats))
    fwd_during = med(while_generating(loaded, forward_work, 3 * args.tokens, args.repeats) or [float("nan")])
    simultaneous(loaded, 2, 4, batch=True)  # warm-up of the batched path
    runs: dict[tuple[int, bool], list[dict]] = {}
    for _ in range(args.runs):  # interleaved, so a load spike hits both variants alike
        for n in SESSIONS:
            for batch in (False, True):
                runs.setdefault((n, batch), []).append(simultaneous(loaded, n, args.tokens, batch))
    best = {key: max(rs, key=lambda r: r["aggregate_tokens_per_s"]) for key, rs in runs.items()}
    one = best[(1, False)]["aggregate_tokens_per_s"]
    figures = [
        {"figure": "rerun while another session generates (s)", "value": rerun_during, "baseline": rerun_alone,
         "target": 1.2, "unit": "s", "note": "tokenise prompt + token table; baseline: same work alone; "
         f"difference {1000 * (rerun_during - rerun_alone):.1f} ms"},
        {"figure": "rerun while another session generates, previous whole-generation lock (s)",
         "value": rerun_before, "baseline": rerun_alone, "unit": "s",
         "note": "A holds the model lock for its whole generation"},
        {"figure": "next-token forward while another session generates (s)", "value": fwd_during,
         "baseline": fwd_alone, "unit": "s", "note": "waits for one decode step; shares the CPU"},
        *({"figure": f"aggregate tokens/s, {n} simultaneous generations" + (", batched" if batch else ""),
           "value": r["aggregate_tokens_per_s"], "baseline": one, "unit": "tokens/s",
           "note": f"{r['tokens']} tokens in {r['wall_s']:.1f} s; fairness (slowest/fastest) {r['fairness']:.2f}"
                   + (f"; mean decode batch {r['mean_batch']:.2f}" if batch else "")}
          for (n, batch), r in best.items()),
    ]
    for f in figures:
        f["ratio"] = f["value"] / f["baseline"] if f.get("baseline") else None
    meta = {"date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cores": os.cpu_count(),
            "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
            "loadavg_start": [round(x, 2) for x in load_start],
            "loadavg_end": [round(x, 2) for x in os.getloadavg()], "tokens": args.tokens, "runs": args.runs}
    sampled = {batch: simultaneous(loaded, SESSIONS[-1], args.tokens, batch, sample=True) for batch in (False, True)}
    table = [{"sessions": n, "off": public(best[(n, False)]), "on": public(best[(n, True)]),
              "greedy": exactness(best[(n, False)], best[(n, True)])} for n in SESSIONS]
    meta["sampled"] = exactness(sampled[False], sampled[True])
    meta["weight_bytes"], meta["bandwidth_gbps"] = weight_bytes(loaded), bandwidth_gbps()
    meta["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    print(f"concurrency benchmark: {loaded.spec.display_name}, greedy, {args.tokens} new tokens per "
          f"generation, {meta['cores']} cores, load average {meta['loadavg_start'][0]} -> {meta['loadavg_end'][0]}")
    print(f"{'figure':78}{'value':>10}{'baseline':>10}{'ratio':>8}")
    for f in figures:
        print(f"{f['figure']:78}{f['value']:10.3f}{f['baseline']:10.3f}{f['ratio']:8.2f}")
    if args.markdown:
        print()
        print(markdown(figures, meta, table))
    print("JSON " + json.dumps({"figures": figures, "meta": meta, "simultaneous": table}))
    return {"figures": figures, "meta": meta, "simultaneous": table}


def pages_main(args) -> dict:
    """``--pages``: one table, p50 / p95 of each page's first result, alone vs during a generation."""
    from components.catalog import MINILM

    load_start = os.getloadavg()
    smollm2, minilm = load_model(get_spec(SMOLLM2)), load_model(get_spec(MINILM))
    generate(smollm2, PROMPTS[1], 4)
    rows = pages_while_generating(smollm2, minilm, 6 * args.tokens, args.repeats)
    head = (f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with `python bench/concurrency.py "
            f"--pages`: {os.cpu_count()} cores, torch {torch.__version__} ({torch.get_num_threads()} threads), load "
            f"average {load_start[0]:.2f} at start, {os.getloadavg()[0]:.2f} at end; {args.repeats} results per "
            f"page alone, then as many as fit while another session generates {6 * args.tokens} tokens (n).")
    lines = [head, "", "| page (its first result for a new input) | alone p50 (s) | during p50 (s) | ratio p50 "
             "| alone p95 (s) | during p95 (s) | ratio p95 | n | its CPU p50, alone → during (s) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['page']} | {r['alone_p50']:.3f} | {r['during_p50']:.3f} | "
                     f"{r['during_p50'] / r['alone_p50']:.2f} | {r['alone_p95']:.3f} | {r['during_p95']:.3f} | "
                     f"{r['during_p95'] / r['alone_p95']:.2f} | {r['n']} | "
                     f"{r['cpu_alone_p50']:.3f} → {r['cpu_during_p50']:.3f} |")
    table = "\n".join(lines)
    print(table)
    print("JSON " + json.dumps({"pages": rows}))
    if args.write:
        write_performance_section("pages", table)
    return {"pages": rows}


def markdown(figures: list[dict], meta: dict, table: list[dict] | None = None) -> str:
    """Markdown tables, headed by when and under which load they were measured: every figure,
    then simultaneous generations with decode steps batched vs not side by side."""
    lines = [f"Measured {meta['date_utc']} with `python bench/concurrency.py --markdown`: {meta['cores']} cores, "
             f"torch {meta['torch']} ({meta['torch_threads']} threads), load average "
             f"{meta['loadavg_start'][0]} at start, {meta['loadavg_end'][0]} at end; "
             f"{meta['tokens']} new tokens per generation.", "",
             "| figure | value | baseline | ratio | target |", "|---|---:|---:|---:|---:|"]
    for f in figures:
        target = f"≤ {f['target']}" if f.get("target") else "-"
        lines.append(f"| {f['figure']} | {f['value']:.3f} | {f['baseline']:.3f} | {f['ratio']:.2f} | {target} |")
    if table:
        one = table[0]["off"]["aggregate_tokens_per_s"]
        lines += ["", "| simultaneous generations | tokens/s, not batched | × one | tokens/s, batched | × one "
                  "| batched / not batched | mean decode batch | greedy text as not batched | max \\|Δ logit\\| |",
                  "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for row in table:
            off, on, g = row["off"]["aggregate_tokens_per_s"], row["on"]["aggregate_tokens_per_s"], row["greedy"]
            lines.append(f"| {row['sessions']} | {off:.1f} | {off / one:.2f} | {on:.1f} | {on / one:.2f} "
                         f"| {on / off:.2f} | {row['on']['mean_batch']:.2f} | {g['identical']}/{g['rows']} "
                         f"| {g['max_logit_gap']:.1e} |")
        if meta.get("bandwidth_gbps"):
            gb, bw = meta["weight_bytes"] / 1e9, meta["bandwidth_gbps"]
            lines += ["", f"One decode step reads {gb:.3f} GB of weights; one thread's `torch.mv` reads {bw:.1f} GB/s "
                          f"here, a ceiling of {bw / gb:.1f} tokens/s for one generation. Weights read per second "
                          "(decode steps/s × weight bytes) as a share of that bandwidth:", "",
                      "| simultaneous generations | not batched | batched | weights read per token, batched (GB) |",
                      "|---:|---:|---:|---:|"]
            for row in table:
                off, on = row["off"], row["on"]
                share_off = off["aggregate_tokens_per_s"] * gb / bw  # one row per step
                share_on = on["aggregate_tokens_per_s"] / on["mean_batch"] * gb / bw
                lines.append(f"| {row['sessions']} | {share_off:.0%} | {share_on:.0%} | {gb / on['mean_batch']:.3f} |")
        s = meta["sampled"]
        lines += ["", f"Seeded sampling (temperature 0.8, top_k 50, top_p 0.95, one seed per session), "
                      f"{s['rows']} sessions batched vs not: {s['identical']}/{s['rows']} texts identical, "
                      f"max |Δ logit| {s['max_logit_gap']:.1e}."]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
