"""Runs test programs side by side: the Windows part of `make test` spends
most of its time in test programs that wait (for presently.exe under Wine,
for the simulator), one after another as cargo runs them. This runs several
at once and shows each one's output whole when it ends.

    cargo test --no-run --message-format=json ... |
        side-by-side.py [--jobs N] [--only NAME]...
                        [--test-args ARGS] MANIFEST...

It takes the test programs that cargo's messages on stdin name for the
packages whose Cargo.toml is given (with --only, those of these names and
no other; every name must be found), runs each in its package's folder as
cargo would, with ARGS (split at spaces: a
test name filter, --skip NAME), N at a time, and exits with 1 naming those
that failed.
"""
import argparse
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile
import time


def programs(messages, manifests, only):
    """(name, executable, folder) of each test program of the packages."""
    found = []
    for line in messages:
        message = json.loads(line)
        if message.get("reason") != "compiler-artifact" or not message.get("executable"):
            continue
        if message["manifest_path"] not in manifests or not message["profile"]["test"]:
            continue
        target = message["target"]
        name = f"{os.path.basename(os.path.dirname(message['manifest_path']))}/{target['name']}"
        if "test" not in target["kind"]:
            name += f" ({target['kind'][0]})"
        if only and target["name"] not in only:
            continue
        found.append((name, message["executable"], os.path.dirname(message["manifest_path"])))
    return found


def run(program, test_args, logs):
    name, executable, folder = program
    started = time.monotonic()
    log = tempfile.TemporaryFile(dir=logs)
    status = subprocess.call(
        [executable, *test_args], cwd=folder, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
    )
    log.seek(0)
    return name, status, time.monotonic() - started, log.read().decode(errors="replace")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=3)
    parser.add_argument("--only", action="append", default=[])
    parser.add_argument("--test-args", default="")
    parser.add_argument("manifests", nargs="+")
    args = parser.parse_args()
    found = programs(sys.stdin, {os.path.abspath(m) for m in args.manifests}, set(args.only))
    missing = set(args.only) - {name.split("/")[-1].split(" ")[0] for name, _, _ in found}
    if not found or missing:
        print(f"side-by-side: no test program named {sorted(missing) or 'at all'}", file=sys.stderr)
        return 1
    failed = []
    with tempfile.TemporaryDirectory() as logs, concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        test_args = args.test_args.split()
        running = [pool.submit(run, program, test_args, logs) for program in found]
        for done in concurrent.futures.as_completed(running):
            name, status, took, output = done.result()
            verdict = "passed" if status == 0 else f"FAILED (exit {status})"
            print(f"\n-- {name}: {verdict} in {took:.0f} s\n{output}", end="", flush=True)
            if status != 0:
                failed.append(name)
    print(f"\nside-by-side: {len(found) - len(failed)} of {len(found)} test programs passed")
    if failed:
        print("side-by-side: failed: " + ", ".join(sorted(failed)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
