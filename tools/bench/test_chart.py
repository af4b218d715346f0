#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""awe-bench's chart has a slot for what was measured and for nothing else.

Runs a short subset (--quick; scatter and sweep for awe and raw, and the
large run) and checks the gnuplot script that --plot-script wrote against
the JSON report of the same run: a panel per mode that ran, in it a cluster
per workload with a result and a bar per contender with one, each bar where
its cluster is, none missing between; the large-frame panel with a bar per
side that ran. Nothing of what did not run (batch64, memfd, touch) may have
a slot. With gnuplot installed, awe-bench also draws the chart: it must
write it and print nothing, and gnuplot must draw the script without a
warning.

Usage: test_chart.py AWE_BENCH. Exit 0: pass; 1: fail; 77: skipped
(awe-bench cannot run here).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

WORKLOADS = ["scatter", "sweep"]
CONTENDERS = ["awe", "raw"]
LARGE_SIDES = {"awe-2M", "awe-512x4K", "awe-4K"}
QUOTED = r'"((?:[^"\\]|\\.)*)"'


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def parse_script(text):
    """The panels of a chart script: title, x tics, x range and bars."""
    blocks, panels, lines = {}, [], iter(text.splitlines())
    panel = None
    for line in lines:
        m = re.match(r"^\$(p\d+s\d+) << EOD$", line)
        if m:
            rows = []
            for row in lines:
                if row == "EOD":
                    break
                x, v = row.split()
                rows.append((float(x), float(v)))
            blocks[m.group(1)] = rows
            continue
        m = re.match(r"^set title " + QUOTED + "$", line)
        if m:
            panel = {"title": m.group(1), "bars": []}
            panels.append(panel)
            continue
        if panel is None:
            continue
        m = re.match(r"^set xrange \[(\S+):(\S+)\]$", line)
        if m:
            panel["xrange"] = (float(m.group(1)), float(m.group(2)))
        if line.startswith("set xtics ("):
            panel["tics"] = [(lab, float(x)) for lab, x in
                             re.findall(QUOTED + r" (-?[\d.]+)", line)]
        if line.startswith("plot "):
            clauses = re.findall(r"\$(p\d+s\d+) using 1:2 with boxes lt \d+ title "
                                 + QUOTED, line)
            if len(clauses) != line.count(" with boxes"):
                fail("a plot clause not understood: " + line)
            for name, title in clauses:
                for x, v in blocks[name]:
                    panel["bars"].append((x, title, v))
    return panels


def clusters_of(panel):
    """The panel's bars grouped as they stand: a cluster is a run of bars
    one slot apart, the next one two slots on (one empty slot between).
    Fails on bars on one slot, or more room than that between them."""
    bars = sorted(panel["bars"])
    groups = []
    for i, bar in enumerate(bars):
        step = bar[0] - bars[i - 1][0] if i else None
        if step is None or step == 2:
            groups.append([bar])
        elif step == 1:
            groups[-1].append(bar)
        else:
            fail("%s: bars %g apart at x=%g: an empty slot or two bars in one"
                 % (panel["title"], step, bar[0]))
    if len(groups) != len(panel.get("tics", [])):
        fail("%s: %d clusters of bars, %d labels" % (panel["title"], len(groups),
                                                      len(panel.get("tics", []))))
    for g, (label, x) in zip(groups, panel["tics"]):
        centre = (g[0][0] + g[-1][0]) / 2
        if abs(centre - x) > 1e-6:
            fail("%s: label %s at %g, its bars centred at %g"
                 % (panel["title"], label, x, centre))
    lo, hi = panel["xrange"]
    if abs((bars[0][0] - lo) - (hi - bars[-1][0])) > 1e-6 or bars[0][0] - lo < 1:
        fail("%s: x range [%g:%g] not around the bars" % (panel["title"], lo, hi))
    return [(label, {t: v for _, t, v in g}) for g, (label, _) in zip(groups, panel["tics"])]


def mode_title(case):
    if case["mode"] == "one":
        return "1 thread"
    if case["mode"] == "busy":
        return "1 + busy"
    return "%d threads" % case["threads"]


def same(panel, got, want):
    """@got and @want: [(label, {series: value})] in order."""
    if [g[0] for g in got] != [w[0] for w in want]:
        fail("%s: clusters %s, measured %s"
             % (panel, [g[0] for g in got], [w[0] for w in want]))
    for (label, gs), (_, ws) in zip(got, want):
        if sorted(gs) != sorted(ws):
            fail("%s, %s: bars %s, measured %s" % (panel, label, sorted(gs), sorted(ws)))
        for s, v in ws.items():
            if abs(gs[s] - v) > 1e-4 * v:
                fail("%s, %s, %s: bar %g, measured %g" % (panel, label, s, gs[s], v))


def main():
    bench = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="awe-bench-chart.") as tmp:
        script = os.path.join(tmp, "chart.gp")
        report = os.path.join(tmp, "report.json")
        png = os.path.join(tmp, "chart.png")
        cmd = [bench, "--quick", "--quiet", "--threads=2", "--workload",
               ",".join(WORKLOADS + ["large"]), "--contender=" + ",".join(CONTENDERS),
               "--plot-script", script, "--json-out", report]
        gnuplot = shutil.which("gnuplot")
        if gnuplot:
            cmd += ["--plot", png]
        else:
            print("gnuplot is not installed: the chart is not drawn, only its script "
                  "checked")
        print("running: " + " ".join(cmd))
        run = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True, check=False)
        if run.returncode == 77:
            print("SKIP: awe-bench cannot run here: " + run.stderr.strip())
            return 77
        if run.returncode != 0:
            fail("awe-bench exited with %d: %s" % (run.returncode, run.stderr))
        if run.stderr:
            fail("awe-bench --quiet printed: " + run.stderr)
        with open(report, encoding="utf-8") as f:
            rep = json.load(f)
        with open(script, encoding="utf-8") as f:
            text = f.read()
        panels = parse_script(text)

        # What the run measured, from its report.
        size = rep["config"]["summary_size_bytes"]
        names = [w["name"] for w in rep["workloads"]]
        want = {}
        for c in rep["cases"]:
            if c["status"] == "ok" and c["size_bytes"] == size and c["ns_per_page"]:
                want.setdefault(mode_title(c), {}).setdefault(c["workload"], {})[
                    c["contender"]] = c["ns_per_page"]
        if set(want) != {"1 thread", "1 + busy", "2 threads"}:
            fail("modes measured: %s" % sorted(want))
        for mode, wls in want.items():
            if sorted(wls) != sorted(WORKLOADS) or any(
                    sorted(cs) != sorted(CONTENDERS) for cs in wls.values()):
                fail("%s: measured %s, not every one asked for" % (mode, wls))
        large = {}
        for r in rep["large_frames"]:
            if r["status"] == "ok" and r["ns_per_unit"]:
                if r["run"] != "large" or r["side"] not in LARGE_SIDES:
                    fail("a large-frame result not asked for: %s %s" % (r["run"], r["side"]))
                large[r["side"]] = r["ns_per_unit"]

        titles = [p["title"] for p in panels]
        want_titles = sorted(want, key=["1 thread", "1 + busy", "2 threads"].index)
        if large:
            want_titles.append("large frames against small ones, 1 thread")
        if titles != want_titles:
            fail("panels %s, measured %s" % (titles, want_titles))
        for p in panels:
            got = clusters_of(p)
            if p["title"] in want:
                wls = want[p["title"]]
                same(p["title"], got, [(w, wls[w]) for w in names if w in wls])
            else:
                if len(got) != 1 or not got[0][0].startswith("large:"):
                    fail("large-frame panel: clusters %s" % [g[0] for g in got])
                same(p["title"], got, [(got[0][0], large)])
        print("the chart's script: %d panels, %s; every slot holds a measured bar"
              % (len(panels), "; ".join("%s: %s" % (p["title"], ", ".join(
                  t for t, _ in p["tics"])) for p in panels)))

        if gnuplot:
            if not os.path.getsize(png):
                fail("awe-bench --plot wrote an empty " + png)
            # The script alone, into a file of its own: gnuplot must not warn.
            again = os.path.join(tmp, "again.png")
            with open(os.path.join(tmp, "again.gp"), "w", encoding="utf-8") as f:
                f.write(text.replace('set output "%s"' % png, 'set output "%s"' % again))
            draw = subprocess.run([gnuplot, os.path.join(tmp, "again.gp")], text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  check=False)
            if draw.returncode != 0 or draw.stdout or not os.path.getsize(again):
                fail("gnuplot on the script: exit %d, said: %s" % (draw.returncode,
                                                                   draw.stdout))
            print("drawn by awe-bench and again by gnuplot, without a word from gnuplot")
    return 0


if __name__ == "__main__":
    sys.exit(main())
