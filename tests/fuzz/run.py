"""The long fuzz budget: ``python tests/fuzz/run.py --long`` (>= 100 000 inputs across readers).

    python tests/fuzz/run.py --long                     # 100 000 inputs, every target, 2 jobs
    python tests/fuzz/run.py --inputs 5000 --jobs 2     # a fraction of it
    python tests/fuzz/run.py --inputs 2000 --targets interpret.vcf,dose.fit --seed 7
    python tests/fuzz/run.py --long --inputs 0          # only the every-section truncation pass
    python tests/fuzz/run.py --list                     # the targets

Same targets, mutators and contract as the CI suite (tests/fuzz/test_fuzz_cli.py), driven by a
seeded :class:`random.Random` instead of hypothesis (no shrinking). ``--long`` adds a pass that
cuts every target's seed at every section (each line boundary and mid-line; each binary section
offset), on top of the random inputs.
Inputs are spread over the targets by cost (commands that always draw figures get fewer). Every
failure is kept; identical causes are grouped by their signature. The summary (inputs per target,
exit codes, seconds, failures) is printed and, with ``--json PATH``, written as JSON; the exit
code is 1 when any input broke the contract. Results go in docs/reliability.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import zlib
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

#: Relative share of the inputs (a slow command's share is smaller).
WEIGHT = {
    "synergy.score": 0.05,
    "synergy.plate": 0.05,
    "synergy.map": 0.05,
    "dose.plate": 0.3,
    "dose.map": 0.3,
    "invivo.analyze": 0.3,
    "tme.associate": 0.3,
    "clinical.survival": 0.5,
    "clinical.summary": 0.5,
}


def _work(args: tuple[list[str], int, int, str, str]) -> dict[str, object]:
    names, per_target_total, seed, workdir, shared = args
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ["KINRESIST_KB_DIR"] = str(Path(workdir) / "kb-overlays")
    os.environ.pop("KINRESIST_DB", None)
    import fuzz_harness as fh

    counts: dict[str, Counter[str]] = defaultdict(Counter)
    seconds: Counter[str] = Counter()
    failures: dict[str, dict[str, object]] = {}

    def note(o: fh.Outcome) -> None:
        counts[o.target][f"exit {o.code}"] += 1
        seconds[o.target] += o.seconds
        if o.problems:
            key = o.signature()
            if key not in failures:
                failures[key] = {
                    "target": o.target,
                    "problems": o.problems,
                    "mutations": o.mutations,
                    "file_name": o.file_name,
                    "stderr": o.stderr[-2000:],
                    "where": o.where,
                    "count": 0,
                }
            failures[key]["count"] = int(failures[key]["count"]) + 1  # type: ignore[call-overload]

    if per_target_total == 0:  # the truncation pass: every section of every seed
        fh.run_truncations(names, workdir=Path(workdir), shared_root=Path(shared), on_outcome=note)
    else:
        fh.run_budget(
            names, per_target=per_target_total, rng_seed=seed, workdir=Path(workdir),
            shared_root=Path(shared), on_outcome=note,
        )  # fmt: skip
    return {
        "counts": {k: dict(v) for k, v in counts.items()},
        "seconds": dict(seconds),
        "failures": failures,
    }


def main(argv: list[str] | None = None) -> int:
    import fuzz_harness as fh

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--long", action="store_true", help="the long budget: 100 000 inputs")
    ap.add_argument("--inputs", type=int, default=None, help="total inputs (default 2000)")
    ap.add_argument("--targets", default="", help="comma-separated targets (default: all)")
    ap.add_argument("--seed", type=int, default=20260501)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--json", type=Path, default=None, help="write the summary here")
    ap.add_argument("--list", action="store_true")
    a = ap.parse_args(argv)
    if a.list:
        for t in fh.TARGETS:
            print(f"{t.name:24s} owner {t.owner}")
        return 0
    total = a.inputs if a.inputs is not None else (100_000 if a.long else 2000)
    names = [n for n in a.targets.split(",") if n] or [t.name for t in fh.TARGETS]
    weights = {n: WEIGHT.get(n, 1.0) for n in names}
    scale = total / sum(weights.values())
    per = {n: max(1, round(weights[n] * scale)) if total else 0 for n in names}
    # one task per (target, chunk) so that the jobs stay busy
    chunk = 100
    tasks = []
    with tempfile.TemporaryDirectory(prefix="kinresist-fuzz-") as tmp:
        shared = Path(tmp) / "shared"
        fh.build_seeds(shared / "seeds")
        fh.store_template(shared)
        for n, k in per.items():
            if a.long:
                work = Path(tmp) / f"{n}-cuts"
                work.mkdir()
                tasks.append(([n], 0, 0, str(work), str(shared)))
            for i, start in enumerate(range(0, k, chunk)):
                size = min(chunk, k - start)
                work = Path(tmp) / f"{n}-{i}"
                work.mkdir()
                seed = a.seed + 7919 * i + zlib.crc32(n.encode()) % 10_000
                tasks.append(([n], size, seed, str(work), str(shared)))
        started = time.time()
        parts = []
        done = 0

        def progress(part: dict[str, object]) -> None:
            nonlocal done
            parts.append(part)
            done += sum(sum(c.values()) for c in part["counts"].values())  # type: ignore[attr-defined]
            sys.stderr.write(f"\r{done} inputs, {time.time() - started:.0f} s")
            sys.stderr.flush()

        if a.jobs > 1:
            import multiprocessing as mp

            with mp.get_context("spawn").Pool(a.jobs) as pool:
                for part in pool.imap_unordered(_work, tasks, chunksize=1):
                    progress(part)
        else:
            for task in tasks:
                progress(_work(task))
        sys.stderr.write("\n")
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    seconds: Counter[str] = Counter()
    failures: dict[str, dict[str, object]] = {}
    for p in parts:
        for k, v in p["counts"].items():  # type: ignore[attr-defined]
            counts[k].update(v)
        seconds.update(p["seconds"])  # type: ignore[arg-type]
        for key, f in p["failures"].items():  # type: ignore[attr-defined]
            if key in failures:
                failures[key]["count"] = int(failures[key]["count"]) + int(f["count"])  # type: ignore[call-overload]
            else:
                failures[key] = f
    n_inputs = sum(sum(c.values()) for c in counts.values())
    summary = {
        "inputs": n_inputs,
        "seed": a.seed,
        "wall_seconds": round(time.time() - started, 1),
        "per_target": {
            k: {"inputs": sum(c.values()), **dict(c), "cpu_seconds": round(seconds[k], 1)}
            for k, c in sorted(counts.items())
        },
        "failures": sorted(failures.values(), key=lambda f: (str(f["target"]), -int(f["count"]))),  # type: ignore[call-overload]
    }
    print(f"{n_inputs} inputs in {summary['wall_seconds']} s (seed {a.seed})")
    for k, row in summary["per_target"].items():  # type: ignore[attr-defined]
        codes = ", ".join(f"{c}: {v}" for c, v in row.items() if c.startswith("exit"))
        print(f"  {k:24s} {row['inputs']:6d} inputs  {codes}")
    print(f"{len(failures)} distinct failures")
    for f in summary["failures"]:  # type: ignore[attr-defined]
        tail = str(f["stderr"]).strip().splitlines()[-1:] or [""]
        print(
            f"  [{f['count']}x] {f['target']}: {f['problems']} {f['mutations']} :: {tail[0][:200]}"
        )
        if f.get("where"):
            print(f"        at {f['where']}")
    if a.json is not None:
        a.json.write_text(json.dumps(summary, indent=1, default=str) + "\n", encoding="utf-8")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
