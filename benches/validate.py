#!/usr/bin/env python3
"""Validation benchmark: objects per second and peak memory of `pack validate` on about
20,000 objects, beside PyPI's kubernetes-validate on the same files in the same run.

The objects are the corpus outputs (../shared/corpus/expected*/), copied into as many
directories as it takes to pass the target count (each copy is its own set of files, so no
object is a duplicate of another in its file). Both tools validate strictly for one
Kubernetes version. pack runs --runs times and kubernetes-validate --reference-runs times
(interleaved); the median wall time and the largest peak RSS are reported.

Usage: benches/validate.py [--objects 20000] [--runs 5] [--reference-runs 1] [--kube-version 1.31.0]
                          [--skip-reference]
Needs a release build of pack (scripts/build-release); kubernetes-validate is installed by
scripts/differential-validate's helper into pack's cache.
"""

import argparse
import importlib.machinery
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from whole_process import pack_bin  # noqa: E402


def differential():
    path = ROOT / "scripts" / "differential-validate"
    loader = importlib.machinery.SourceFileLoader("differential_validate", str(path))
    spec = importlib.util.spec_from_loader("differential_validate", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def build_inputs(target, work):
    sources = differential().corpus_files()
    if not sources:
        sys.exit("no corpus outputs: ../shared/corpus is missing")
    per_copy = sum(f.read_text().count("\nkind: ") + f.read_text().startswith("kind: ") for f in sources)
    copies = max(1, -(-target // max(per_copy, 1)))
    for i in range(copies):
        d = work / f"copy{i:03}"
        d.mkdir(parents=True)
        for f in sources:
            shutil.copy(f, d / f.name)
    return copies, sorted(work.rglob("*.yaml"))


def timed(cmd):
    """Wall seconds, peak RSS in MiB and the exit status of one run."""
    start = time.perf_counter()
    with open(os.devnull, "wb") as null:
        p = subprocess.Popen(cmd, stdout=null, stderr=null)
        _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    return wall, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def count_objects(pack, version, work):
    import json
    r = subprocess.run([pack, "validate", "--kube-version", version, "-o", "json", str(work)],
                       capture_output=True, text=True)
    summary = json.loads(r.stdout)["summary"]
    return summary["valid"] + summary["invalid"] + summary["skipped"], summary


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--objects", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--kube-version", default="1.31.0")
    ap.add_argument("--skip-reference", action="store_true")
    ap.add_argument("--reference-runs", type=int, default=1,
                    help="runs of kubernetes-validate (about 3 minutes each)")
    args = ap.parse_args()
    pack = pack_bin()
    work = Path(tempfile.mkdtemp(prefix="pack-validate-bench-"))
    try:
        copies, files = build_inputs(args.objects, work)
        n, summary = count_objects(pack, args.kube_version, work)
        print(f"{n} objects in {len(files)} files ({copies} copies of the corpus outputs): {summary}")
        cases = [("pack", [pack, "validate", "--quiet", "--kube-version", args.kube_version, str(work)])]
        if not args.skip_reference:
            kv = differential().kubernetes_validate()
            cases.append(("kubernetes-validate",
                          [kv, "--quiet", "--strict", "-k", args.kube_version, *map(str, files)]))
        results = {name: [] for name, _ in cases}
        for i in range(max(args.runs, args.reference_runs)):
            for name, cmd in cases:
                wanted = args.runs if name == "pack" else args.reference_runs
                if i < wanted:
                    results[name].append(timed(cmd))
        medians = {}
        for name, runs in results.items():
            wall = statistics.median(r[0] for r in runs)
            rss = max(r[1] for r in runs)
            medians[name] = wall
            print(f"{name:>20}: {wall:8.3f} s  {n / wall:10.0f} objects/s  peak RSS {rss:7.1f} MiB")
        if "kubernetes-validate" in medians:
            print(f"{'ratio':>20}: kubernetes-validate / pack = {medians['kubernetes-validate'] / medians['pack']:.1f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
