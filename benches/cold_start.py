#!/usr/bin/env python3
"""Cold-cache A/B: times each given command right after a `helm template` run (which evicts
the CPU caches, as in the whole-process benchmark) and right after itself, alternating.

Usage:
  benches/cold_start.py [--runs N] CMD [CMD ...]

Prints per command the median wall time after helm and after itself. Compare two pack
builds with the same arguments to see what a change does to a cold start. Needs the
reference helm (`scripts/fetch-reference-tools`).
"""

import argparse
import shlex
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from whole_process import reference_tool


def timed(argv):
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - start) * 1000.0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("commands", nargs="+")
    args = parser.parse_args()
    helm = reference_tool("helm")
    work = Path(tempfile.mkdtemp(prefix="pack-cold-"))
    env_dir = work / "h"
    subprocess.run([helm, "create", "demo"], cwd=work, check=True, stdout=subprocess.DEVNULL,
                   env={"HELM_CACHE_HOME": str(env_dir), "HELM_CONFIG_HOME": str(env_dir),
                        "HELM_DATA_HOME": str(env_dir), "PATH": "/usr/bin:/bin"})
    evict = [helm, "template", "r", str(work / "demo")]
    cmds = [shlex.split(c) for c in args.commands]
    cold = {c: [] for c in args.commands}
    warm = {c: [] for c in args.commands}
    for _ in range(args.runs):
        for text, argv in zip(args.commands, cmds):
            timed(evict)
            cold[text].append(timed(argv))
            warm[text].append(timed(argv))
    print(f"{args.runs} runs each; median wall time after `helm template` / after itself")
    for text in args.commands:
        print(f"{statistics.median(cold[text]):8.2f} ms  {statistics.median(warm[text]):8.2f} ms  {text}")


if __name__ == "__main__":
    main()
