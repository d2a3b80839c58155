#!/usr/bin/env python3
"""Where the last decode steps of a ktrace CSV (scripts/cuda/ktrace.c) go: per kernel (name and grid), the time
it runs and the idle gap before it, averaged over the last N graph replays (steps start at the embedding gather).
Usage: ktrace_report.py TRACE.csv [N]"""
import collections, csv, sys

rows = list(csv.DictReader(open(sys.argv[1])))
count = int(sys.argv[2]) if len(sys.argv) > 2 else 4
graph = sorted((r for r in rows if r["kind"] == "kernel" and r["node"] != "0"), key=lambda r: int(r["start"]))
heads = [i for i, r in enumerate(graph) if r["name"].startswith("sgl_embedding")]
if len(heads) < 2:
    sys.exit("no decode steps from a CUDA graph in the trace")
steps = [graph[a:b] for a, b in zip(heads, heads[1:] + [len(graph)])][-count - 1:-1]
table = collections.OrderedDict()
spans, busy = [], []
for step in steps:
    spans.append(int(step[-1]["end"]) - int(step[0]["start"]))
    busy.append(sum(int(r["end"]) - int(r["start"]) for r in step))
    previous = None
    for r in step:
        key = (r["name"][:44], f'{r["gx"]}x{r["gy"]}x{r["gz"]}')
        entry = table.setdefault(key, [0, 0, 0])
        entry[0] += 1
        entry[1] += int(r["end"]) - int(r["start"])
        entry[2] += int(r["start"]) - previous if previous is not None else 0
        previous = int(r["end"])
n = len(steps)
print(f"{n} steps: span {sum(spans) / n / 1e3:.1f} us, kernels busy {sum(busy) / n / 1e3:.1f} us, "
      f"gaps {(sum(spans) - sum(busy)) / n / 1e3:.1f} us, {sum(e[0] for e in table.values()) // n} kernels a step")
if sum(spans) < sum(busy):
    print("kernels overlap (programmatic dependent launch): a kernel's run time includes its wait for the one "
          "before it, and gaps come out negative")
print(f"{'kernel':44} {'grid':>12} {'n':>4} {'run us':>8} {'each':>6} {'gap us':>7} {'each':>5}")
for (name, grid), (k, run, gap) in sorted(table.items(), key=lambda kv: -kv[1][1]):
    print(f"{name:44} {grid:>12} {k // n:4d} {run / n / 1e3:8.1f} {run / k / 1e3:6.2f} {gap / n / 1e3:7.1f} {gap / k / 1e3:5.2f}")
