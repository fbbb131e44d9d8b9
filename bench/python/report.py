#!/usr/bin/env python3
"""Builds the table (and optional JSON) of scripts/bench-score.sh from what its runs left in WORKDIR.

  python report.py WORKDIR [--json PATH] [--meta KEY=VALUE ...]

WORKDIR holds run1/, run2/, ... each with:
  rapport.time   /usr/bin/time -v of `rapport score`      rapport.out  its JSON Lines output
  python.time    /usr/bin/time -v of pipeline_bench.py    python.json  pipeline_bench.py's JSON
  rapport.busy, python.busy  (optional) machine-wide busy CPU s and 1-minute load, before and after
and WORKDIR may hold startup1.time, startup2.time, ... (/usr/bin/time -v of `rapport score` on
empty input; the fastest is taken as its start-up).
Every number printed is read from those files. Each row shows one run: the median (by wall time) of
the quiet runs, those during which other processes took under 5% of the machine's CPU (at least 0.5 CPU s; read
from /proc/stat around each command); every run is listed and kept in the JSON.
"""
import argparse
import json
import os
import re
import sys

NOTE = (
    "The Python pipeline classifies each message as one sequence truncated at 256 tokens, "
    "while rapport encodes every sentence of the cleaned body (no truncation)."
)


def parse_time_v(path):
    """Wall seconds, peak RSS (KiB) and exit status from GNU time -v output."""
    text = open(path, encoding="utf-8", errors="replace").read()
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([0-9:.]+)", text)
    if not m:
        sys.exit(f"report: no wall time in {path}")
    parts = [float(p) for p in m.group(1).split(":")]
    wall = 0.0
    for p in parts:
        wall = wall * 60 + p
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
    status = int(re.search(r"Exit status: (\d+)", text).group(1))
    cmd = re.search(r'Command being timed: "(.*)"', text)
    cpu = float(re.search(r"User time \(seconds\): ([0-9.]+)", text).group(1)) + float(
        re.search(r"System time \(seconds\): ([0-9.]+)", text).group(1)
    )
    return {"wall_s": wall, "cpu_s": round(cpu, 2), "peak_rss_kib": rss, "exit_status": status,
            "command": cmd.group(1) if cmd else None}


def add_busy(run, path):
    """CPU seconds other processes used while the command ran, and the 1-minute load before/after."""
    if not os.path.exists(path):
        return run
    (b0, l0), (b1, l1) = [line.split() for line in open(path, encoding="utf-8").read().split("\n") if line.strip()]
    run["others_cpu_s"] = round(max(0.0, float(b1) - float(b0) - run["cpu_s"]), 2)
    run["load1_before"], run["load1_after"] = float(l0), float(l1)
    return run


def rapport_run(d):
    t = parse_time_v(os.path.join(d, "rapport.time"))
    messages = sentences = 0
    with open(os.path.join(d, "rapport.out"), encoding="utf-8") as f:
        for line in f:
            if line.strip():
                messages += 1
                out = json.loads(line)
                # `sentence_count` (docs/score.md); older builds wrote the count as `sentences`.
                n = out.get("sentence_count", out.get("sentences", 0))
                sentences += len(n) if isinstance(n, list) else int(n)
    return add_busy({**t, "messages": messages, "sentences": sentences}, os.path.join(d, "rapport.busy"))


def python_run(d):
    t = parse_time_v(os.path.join(d, "python.time"))
    j = json.load(open(os.path.join(d, "python.json"), encoding="utf-8"))
    return add_busy({**t, "peer": j}, os.path.join(d, "python.busy"))


def median_run(runs, key):
    """The run whose `key` is the (lower) median, so every number in a row comes from one run."""
    ordered = sorted(runs, key=key)
    return ordered[(len(ordered) - 1) // 2]


QUIET_SHARE = 0.05  # a run is "quiet" when other processes took under 5% of the machine's CPU meanwhile


def quiet(run):
    if "others_cpu_s" not in run:
        return True
    # (with a floor of 0.5 CPU s, the noise of reading /proc/stat around a short command)
    return run["others_cpu_s"] <= max(0.5, QUIET_SHARE * run["wall_s"] * (os.cpu_count() or 1))


def pick(runs, key, warnings, name):
    """Median (by `key`) of the quiet runs; with none quiet, the least disturbed run, and a warning."""
    calm = [x for x in runs if quiet(x)]
    if calm:
        return median_run(calm, key), len(calm)
    least = min(runs, key=lambda x: (x["others_cpu_s"], key(x)))
    warnings.append(f"no {name} run was quiet: the least disturbed one is shown, during which other processes "
                    f"used {least['others_cpu_s']:.1f} CPU s in {least['wall_s']:.1f} s; its numbers are pessimistic")
    return least, 0


def mib(kib):
    return f"{kib / 1024:.0f} MiB"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("workdir")
    ap.add_argument("--json", dest="json_path")
    ap.add_argument("--meta", action="append", default=[], help="KEY=VALUE shown under the table")
    ap.add_argument("--quiet-count", action="store_true",
                    help="only print how many rapport and python runs so far were quiet: 'R P'")
    a = ap.parse_args()

    meta = {}
    for kv in a.meta:
        k, _, v = kv.partition("=")
        meta[k] = v

    run_dirs = sorted(
        (os.path.join(a.workdir, d) for d in os.listdir(a.workdir) if re.fullmatch(r"run\d+", d)),
        key=lambda p: int(re.search(r"(\d+)$", p).group(1)),
    )
    if not run_dirs:
        sys.exit(f"report: no run*/ folders in {a.workdir}")
    r_runs = [rapport_run(d) for d in run_dirs]
    p_runs = [python_run(d) for d in run_dirs]
    if a.quiet_count:
        print(sum(map(quiet, r_runs)), sum(map(quiet, p_runs)))
        return 0
    for r in r_runs + p_runs:
        if r["exit_status"] != 0:
            sys.exit(f"report: a timed command failed (exit {r['exit_status']}): {r['command']}")
    # rapport on empty input, a few times: the fastest is its start-up (process + libtorch + model load)
    startups = [parse_time_v(os.path.join(a.workdir, f)) for f in sorted(os.listdir(a.workdir))
                if re.fullmatch(r"startup\d*\.time", f)]
    startup = min(startups, key=lambda x: x["wall_s"]) if startups else None

    warnings = []
    r, r_calm = pick(r_runs, lambda x: x["wall_s"], warnings, "rapport")
    p, p_calm = pick(p_runs, lambda x: x["wall_s"], warnings, "python")
    pi, _ = pick(p_runs, lambda x: x["peer"]["seconds"], [], "python")
    if r["messages"] != p["peer"]["messages"]:
        sys.exit(f"report: rapport wrote {r['messages']} lines for {p['peer']['messages']} inputs")

    def row(tool, messages, units, wall, rss):
        return {
            "tool": tool,
            "messages": messages,
            "units": units,
            "wall_s": round(wall, 2),
            "messages_per_s": round(messages / wall, 2),
            "peak_rss_mib": round(rss / 1024, 1) if rss is not None else None,
        }

    threads = meta.get("threads", "2")
    batch = meta.get("rapport_batch", "64")
    rows = [
        row(f"rapport score --threads {threads} --batch {batch}", r["messages"], f"{r['sentences']} sentences",
            r["wall_s"], r["peak_rss_kib"]),
        row(f"python pipeline, whole process (torch threads {p['peer']['torch_threads']})", p["peer"]["messages"],
            f"{p['peer']['sequences']} sequences", p["wall_s"], p["peak_rss_kib"]),
        row("python pipeline, inference only", pi["peer"]["messages"], f"{pi['peer']['sequences']} sequences",
            pi["peer"]["seconds"], None),
    ]
    ratio_process = rows[0]["messages_per_s"] / rows[1]["messages_per_s"]
    ratio_inference = rows[0]["messages_per_s"] / rows[2]["messages_per_s"]

    headers = ["tool", "messages", "sentences / sequences", "wall s", "messages/s", "peak RSS"]
    cells = [
        [x["tool"], str(x["messages"]), x["units"], f"{x['wall_s']:.2f}", f"{x['messages_per_s']:.2f}",
         f"{x['peak_rss_mib']:.0f} MiB" if x["peak_rss_mib"] is not None else "(as above)"]
        for x in rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    right = {1, 3, 4, 5}

    def fmt(vals):
        return "  ".join(v.rjust(w) if i in right else v.ljust(w) for i, (v, w) in enumerate(zip(vals, widths)))

    lines = [fmt(headers), fmt(["-" * w for w in widths])] + [fmt(c) for c in cells]
    lines.append("")
    lines.append(f"ratio rapport/python, messages/s: {ratio_process:.2f}x against the whole Python process, "
                 f"{ratio_inference:.2f}x against Python inference only (import {p['peer']['import_seconds']:.2f} s "
                 f"+ load {p['peer']['load_seconds']:.2f} s excluded)")
    ratio_steady = None
    if startup and r["wall_s"] > startup["wall_s"]:
        ratio_steady = (r["messages"] / (r["wall_s"] - startup["wall_s"])) / rows[2]["messages_per_s"]
        lines.append(f"estimate, both without start-up: rapport ({r['wall_s']:.2f} s wall - {startup['wall_s']:.2f} s "
                     f"start-up) against Python inference only: {ratio_steady:.2f}x")
    if startup:
        lines.append(f"rapport start-up alone (empty input: process start + model load, fastest of {len(startups)}): "
                     f"{startup['wall_s']:.2f} s, "
                     f"peak RSS {mib(startup['peak_rss_kib'])}")
    n_runs = len(run_dirs)
    fr = min(r_runs, key=lambda x: x["wall_s"])
    fp = min(p_runs, key=lambda x: x["peer"]["seconds"])
    fastest = {
        "rapport_messages_per_s": round(fr["messages"] / fr["wall_s"], 2),
        "python_inference_messages_per_s": fp["peer"]["messages_per_s"],
    }
    fastest["ratio"] = round(fastest["rapport_messages_per_s"] / fastest["python_inference_messages_per_s"], 3)
    if n_runs > 1:
        lines.append(f"{n_runs} runs, alternating; each row above is the median of the quiet runs (rapport "
                     f"{r_calm}/{n_runs}, python {p_calm}/{n_runs} quiet: other processes took under "
                     f"{QUIET_SHARE:.0%} of the machine's CPU meanwhile). Fastest runs: rapport "
                     f"{fastest['rapport_messages_per_s']:.2f} messages/s, Python inference "
                     f"{fastest['python_inference_messages_per_s']:.2f} messages/s, ratio {fastest['ratio']:.2f}x.")

    def per_run(x):
        s = f"{x['wall_s']:.2f} s wall, {x['cpu_s']:.1f} s CPU"
        if "others_cpu_s" in x:
            s += f", others {x['others_cpu_s']:.1f} s CPU, load {x['load1_before']:.2f}->{x['load1_after']:.2f}"
        return s

    for name, rs in (("rapport", r_runs), ("python", p_runs)):
        lines.append(f"{name} per run: " + "; ".join(per_run(x) for x in rs))
    lines.append("('others': CPU seconds that other processes on the machine used during that run, from /proc/stat)")
    pp = p["peer"]
    lines.append(f"Python truncated {pp['truncated_sequences']} of {pp['sequences']} messages at {pp['max_length']} "
                 f"tokens ({pp['tokens_untruncated']} tokens in all, {pp['tokens_encoded']} encoded, "
                 f"{pp['tokens_with_padding']} with batch padding); its classifier head is freshly initialised "
                 f"(speed peer only).")
    lines.append("")
    lines.append("Note: " + NOTE)
    lines.append("")
    v = p["peer"]["versions"]
    for k in ("date", "cpu", "cores", "loadavg_before", "loadavg_after", "rapport", "rust_bert", "libtorch",
              "input", "data"):
        if k in meta:
            lines.append(f"{k}: {meta[k]}")
    lines.append(f"python peer: python {v['python']}, torch {v['torch']}, transformers {v['transformers']}, "
                 f"tokenizers {v['tokenizers']}, batch_size {p['peer']['batch_size']}, "
                 f"torch threads {p['peer']['torch_threads']}")
    warnings += [val for k, val in meta.items() if k.startswith("warning")]
    for w in warnings:
        lines.append(f"WARNING: {w}")
    print("\n".join(lines))

    if a.json_path:
        doc = {
            "rows": rows,
            "ratio_rapport_over_python_messages_per_s": {
                "whole_process": round(ratio_process, 3),
                "python_inference_only": round(ratio_inference, 3),
                "estimate_both_without_startup": round(ratio_steady, 3) if ratio_steady else None,
            },
            "note": NOTE,
            "fastest_runs": fastest,
            "rapport_startup": startup,
            "runs": {"rapport": r_runs, "python": p_runs},
            "quiet_runs": {"rapport": r_calm, "python": p_calm, "of": n_runs},
            "warnings": warnings,
            "meta": meta,
        }
        with open(a.json_path, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
