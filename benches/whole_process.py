#!/usr/bin/env python3
"""Whole-process benchmark: times pack and helm commands side by side, alternating runs.

Usage:
  benches/whole_process.py [--runs N] [--warmup N] NAME PACK_CMD HELM_CMD [NAME PACK_CMD HELM_CMD ...]
  benches/whole_process.py --preset startup|template|release|corpus|repo-index|oci

A command may be several commands joined by " ;; " (run one after the other, timed
together): the release preset times `install` + `uninstall` that way, against a
`pack cluster serve` (release build) both tools reach over HTTP on loopback.

Each case is run alternately (pack, helm, pack, helm, ...) so that machine noise hits both
alike; output goes to /dev/null. Prints per case the median and p10/p90 wall time of each
tool and the ratio helm/pack (higher means pack is faster). Needs a release build of pack
(`scripts/build-release`) and the reference helm (`scripts/fetch-reference-tools`).
"""

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def reference_tool(name):
    base = os.environ.get("PACK_REFERENCE_TOOLS_DIR") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pack" / "reference-tools"
    )
    path = Path(base) / name
    if not path.exists():
        sys.exit(f"{path} is missing: run scripts/fetch-reference-tools")
    return str(path)


def pack_bin():
    """The release binary: $PACK_BIN, else what scripts/build-release made last, else target/release."""
    if os.environ.get("PACK_BIN"):
        return os.environ["PACK_BIN"]
    host = subprocess.run(["rustc", "-vV"], capture_output=True, text=True).stdout
    host = next((l.split(": ", 1)[1] for l in host.splitlines() if l.startswith("host: ")), "")
    for path in (ROOT / "target" / "pack-release", ROOT / "target" / host / "release" / "pack",
                 ROOT / "target" / "release" / "pack"):
        if path.exists():
            return str(path)
    sys.exit("no release binary: run scripts/build-release (or set PACK_BIN)")


def presets(name):
    pack, helm = pack_bin(), reference_tool("helm")
    if name == "startup":
        return [("version", f"{pack} version", f"{helm} version --short")]
    if name == "template":
        # pack create's chart against helm create's: the same objects (tests/native_parity.rs).
        work = Path(tempfile.mkdtemp(prefix="pack-bench-"))
        env = dict(os.environ, HELM_CACHE_HOME=str(work / "h"), HELM_CONFIG_HOME=str(work / "h"),
                   HELM_DATA_HOME=str(work / "h"))
        (work / "helm").mkdir()
        (work / "pack").mkdir()
        subprocess.run([helm, "create", "demo"], cwd=work / "helm", env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run([pack, "create", "demo"], cwd=work / "pack", check=True, stdout=subprocess.DEVNULL)
        p, h = work / "pack" / "demo", work / "helm" / "demo"
        return [
            ("template create chart", f"{pack} template r {p}", f"{helm} template r {h}"),
            ("template +ingress,hpa", f"{pack} template r {p} --set ingress.enabled=true,autoscaling.enabled=true",
             f"{helm} template r {h} --set ingress.enabled=true,autoscaling.enabled=true"),
        ]
    if name == "release":
        # pack's native hello-world against Helm's hello-world (the same objects), installed
        # and uninstalled on one served cluster, no --wait.
        import atexit
        work = Path(tempfile.mkdtemp(prefix="pack-bench-"))
        server = subprocess.Popen([pack, "cluster", "serve", "--port", "0", "--data-dir", str(work / "cluster")],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        atexit.register(server.kill)
        server.stdout.readline()
        kubeconfig = work / "cluster" / "kubeconfig"
        for var in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"):
            os.environ[var] = str(work / "helm")
        os.environ.pop("HELM_DRIVER", None)
        helm_chart = ROOT.parent / "shared" / "corpus" / "charts" / "hello-world"
        if not helm_chart.is_dir():
            sys.exit(f"{helm_chart} is missing (the shared corpus)")
        k = f"--kubeconfig {kubeconfig}"
        return [
            ("install + uninstall",
             f"{pack} install p {ROOT / 'charts' / 'hello-world'} {k} ;; {pack} uninstall p {k}",
             f"{helm} install h {helm_chart} {k} ;; {helm} uninstall h {k}"),
        ]
    if name == "repo-index":
        # `repo index` over 1,000 archives (one chart in 1,000 versions, packaged by pack).
        work = Path(tempfile.mkdtemp(prefix="pack-bench-"))
        for var in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"):
            os.environ[var] = str(work / "helm")
        repo = work / "repo"
        chart = ROOT.parent / "shared" / "corpus" / "charts" / "hello-world"  # a Helm chart both read
        if not chart.is_dir():
            sys.exit(f"{chart} is missing (the shared corpus)")
        for i in range(1000):
            subprocess.run([pack, "package", str(chart), "-d", str(repo), "--version", f"1.{i // 100}.{i % 100}"],
                           check=True, stdout=subprocess.DEVNULL)
        return [("repo index 1000", f"{pack} repo index {repo} --url https://charts.example.com",
                 f"{helm} repo index {repo} --url https://charts.example.com")]
    if name == "oci":
        # Push and pull through Debian's docker-registry (distribution 2.8) on loopback; both
        # tools push the same helm-made archive (to their own repository paths) and pull it.
        import atexit, shutil, socket
        registry = shutil.which("docker-registry") or "/usr/bin/docker-registry"
        if not Path(registry).exists():
            sys.exit("docker-registry is missing: run scripts/install-test-services")
        work = Path(tempfile.mkdtemp(prefix="pack-bench-"))
        for var in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"):
            os.environ[var] = str(work / "helm")
        os.environ["PACK_CONFIG_HOME"] = str(work / "pack")
        os.environ["PACK_CACHE_HOME"] = str(work / "pack")
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        (work / "registry.yml").write_text(
            f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {work / 'store'}\n"
            f"http:\n  addr: 127.0.0.1:{port}\n  secret: bench\n")
        server = subprocess.Popen([registry, "serve", str(work / "registry.yml")],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        atexit.register(server.kill)
        for _ in range(500):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.01)
        subprocess.run([helm, "create", "demo"], cwd=work, check=True, stdout=subprocess.DEVNULL)
        subprocess.run([helm, "package", "demo"], cwd=work, check=True, stdout=subprocess.DEVNULL)
        tgz, host = work / "demo-0.1.0.tgz", f"oci://127.0.0.1:{port}"
        (work / "p").mkdir()
        (work / "h").mkdir()
        return [
            ("push", f"{pack} push {tgz} {host}/pack --plain-http", f"{helm} push {tgz} {host}/helm --plain-http"),
            ("pull exact", f"{pack} pull {host}/helm/demo --version 0.1.0 --plain-http -d {work / 'p'}",
             f"{helm} pull {host}/helm/demo --version 0.1.0 --plain-http -d {work / 'h'}"),
            ("pull range", f"{pack} pull {host}/helm/demo --version ^0.1 --plain-http -d {work / 'p'}",
             f"{helm} pull {host}/helm/demo --version ^0.1 --plain-http -d {work / 'h'}"),
        ]
    if name == "corpus":
        # Every variant of the shared corpus with its exact helm arguments (index.tsv).
        corpus = ROOT.parent / "shared" / "corpus"
        if not corpus.is_dir():
            sys.exit(f"{corpus} is missing (the shared corpus)")
        work = Path(tempfile.mkdtemp(prefix="pack-bench-"))
        for var in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"):
            os.environ[var] = str(work / "helm")
        cases = []
        for line in (corpus / "index.tsv").read_text().splitlines()[1:]:
            cols = line.split("\t")
            words = cols[-1].split()[2:]  # after "helm template"
            args = " ".join(str(corpus / w) if w.startswith("charts/") else w for w in words)
            chart_dir = corpus / "charts" / cols[0].split("__")[0]
            rsa = any("genCA" in f.read_text(errors="replace") or "genSignedCert" in f.read_text(errors="replace")
                      or "genPrivateKey" in f.read_text(errors="replace") or "genSelfSignedCert" in f.read_text(errors="replace")
                      for f in chart_dir.rglob("templates/*") if f.is_file())
            cases.append((cols[0] + (" [rsa]" if rsa else ""), f"{pack} template {args}", f"{helm} template {args}"))
        return cases
    sys.exit(f"unknown preset {name}")


DEVNULL = os.open(os.devnull, os.O_WRONLY)


def time_once(cmd, env):
    """Wall time of one run, spawned with posix_spawn (the least harness overhead)."""
    actions = [(os.POSIX_SPAWN_DUP2, DEVNULL, 1), (os.POSIX_SPAWN_DUP2, DEVNULL, 2)]
    start = time.perf_counter()
    pid = os.posix_spawn(cmd[0], cmd, env, file_actions=actions)
    _, status = os.waitpid(pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        result = subprocess.run(cmd, capture_output=True, env=env)
        sys.exit(f"{shlex.join(cmd)} failed: {result.stderr.decode(errors='replace')}")
    return elapsed * 1000.0


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))]


def time_all(cmds, env):
    return sum(time_once(cmd, env) for cmd in cmds)


def run_case(name, pack_cmd, helm_cmd, runs, warmup):
    env = dict(os.environ)
    pack_argv = [shlex.split(c) for c in pack_cmd.split(" ;; ")]
    helm_argv = [shlex.split(c) for c in helm_cmd.split(" ;; ")]
    for _ in range(warmup):
        time_all(pack_argv, env)
        time_all(helm_argv, env)
    pack_times, helm_times = [], []
    for _ in range(runs):
        pack_times.append(time_all(pack_argv, env))
        helm_times.append(time_all(helm_argv, env))
    p, h = statistics.median(pack_times), statistics.median(helm_times)
    print(
        f"{name:24} pack {p:7.2f} ms (p10 {percentile(pack_times, 0.1):.2f}, p90 {percentile(pack_times, 0.9):.2f})"
        f"   helm {h:7.2f} ms (p10 {percentile(helm_times, 0.1):.2f}, p90 {percentile(helm_times, 0.9):.2f})"
        f"   helm/pack {h / p:5.1f}x"
    )
    return p, h


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--preset")
    parser.add_argument("cases", nargs="*")
    args = parser.parse_args()
    if args.preset:
        cases = presets(args.preset)
    else:
        if not args.cases or len(args.cases) % 3:
            parser.error("give cases as NAME PACK_CMD HELM_CMD triples, or --preset")
        cases = [tuple(args.cases[i : i + 3]) for i in range(0, len(args.cases), 3)]
    print(f"{args.runs} alternating runs per tool, {args.warmup} warm-up; median wall time")
    ratios = []
    for name, pack_cmd, helm_cmd in cases:
        p, h = run_case(name, pack_cmd, helm_cmd, args.runs, args.warmup)
        ratios.append((name, h / p))
    if len(ratios) > 1:
        plain = [r for n, r in ratios if not n.endswith("[rsa]")]
        rsa = [r for n, r in ratios if n.endswith("[rsa]")]
        for label, rs in (("without RSA key generation", plain), ("with RSA key generation [rsa]", rsa)):
            if rs:
                print(f"{label}: {len(rs)} cases, helm/pack median {statistics.median(rs):.1f}x, "
                      f"min {min(rs):.1f}x, max {max(rs):.1f}x")


if __name__ == "__main__":
    main()
