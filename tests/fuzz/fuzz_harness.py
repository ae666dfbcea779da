"""The fuzz contract, the targets and the runner shared by the CI tests and ``run.py --long``.

Every target is one input file of one CLI entry point. An example writes the target's seed
files, replaces one of them by a mutation (:mod:`fuzz_mutate`), runs ``kinresist ...`` in-process
(``cli.main.main``, stdout strict UTF-8 and stderr ``backslashreplace`` like a real process) with
``--db`` on a fresh SQLite store where the command records, and checks :func:`violations`:

* the exit code is 0 or 2 (never 1, never an uncaught exception, never a hang);
* no traceback on stderr;
* exit 2: exactly one line on stderr, ``<ErrorType>: ...``, naming an input file;
* exit 0 with ``-f json``: the output parses as strict JSON (no NaN/Infinity), names the
  workflow, and every measurement value is a finite number or null;
* on failure the store holds exactly what it held before (nothing half-written).
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import math
import os
import shutil
import signal
import sqlite3
import sys
import tempfile
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fuzz_mutate as fm
import fuzz_seeds as seeds

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("KINRESIST_SHARED", REPO.parent / "shared"))

#: Wall-clock limit of one example (a mutation that makes a command hang is a failure).
EXAMPLE_TIMEOUT_S = 60


@dataclass(frozen=True)
class Target:
    """One input file of one CLI entry point.

    ``argv(files, db)`` builds the command line from the paths of every seed file (``files`` maps
    role -> path; the mutated role's path carries the drawn name). ``binary`` files are mutated as
    bytes (``sections``: offsets where the format's sections start); ``fixed_name`` keeps the seed's
    file name (names that carry meaning: ddPCR well files, images a design table names).
    """

    name: str
    role: str
    argv: Callable[[dict[str, Path], Path | None], list[str]]
    owner: str = "readers"
    binary: bool = False
    fixed_name: bool = False
    wrong_suffix: tuple[str, ...] = (".xlsx", ".txt", ".gz")
    records: bool = True
    fmt_json: bool = True


@dataclass
class Outcome:
    target: str
    code: int | None
    stdout: str
    stderr: str
    mutations: list[str]
    file_name: str
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    #: for an internal error: the innermost kinresist frames of the traceback (``--debug``)
    where: str = ""

    def signature(self) -> str:
        """A short key that groups failures with the same cause."""
        head = self.stderr.strip().splitlines()[-1] if self.stderr.strip() else ""
        return f"{self.target}: {'; '.join(self.problems)} :: {head[:160]}"


class ExampleTimeout(BaseException):
    """Raised by the alarm in the example's thread (a BaseException: main() must not catch it)."""


# -- seeds -----------------------------------------------------------------------------------
_SEED_CACHE: dict[Path, dict[str, dict[str, Path]]] = {}


def _w(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def build_seeds(root: Path) -> dict[str, dict[str, Path]]:
    """Write every seed set under ``root``; returns ``{seed set: {role: path}}`` (cached in this
    process, and in ``root/seeds.json`` for other processes of a long run)."""
    if root in _SEED_CACHE:
        return _SEED_CACHE[root]
    index = root / "seeds.json"
    if index.exists():
        stored = json.loads(index.read_text(encoding="utf-8"))
        _SEED_CACHE[root] = {g: {r: Path(p) for r, p in m.items()} for g, m in stored.items()}
        return _SEED_CACHE[root]
    s: dict[str, dict[str, Path]] = {}
    d = root
    s["interpret"] = {
        "vcf": _w(d / "interpret" / "calls.vcf", seeds.VCF),
        "maf": _w(d / "interpret" / "calls.maf", seeds.MAF),
        "table": _w(d / "interpret" / "findings.csv", seeds.FINDINGS),
        "fusions": _w(d / "interpret" / "fusions.tsv", seeds.FUSIONS.replace(",", "\t")),
        "cnv": _w(d / "interpret" / "cnv.csv", seeds.CNV),
    }
    plate, pmap = seeds.dose_plate()
    table = seeds.dose_table()
    s["dose"] = {
        "table": _w(d / "dose" / "curves.csv", table),
        "xlsx": seeds.xlsx_from_csv(table, d / "dose" / "curves.xlsx"),
        "plate": _w(d / "dose" / "plate.csv", plate),
        "map": _w(d / "dose" / "map.csv", pmap),
        "standard": _w(d / "dose" / "standard.csv", seeds.dose_standard()),
        "gr": _w(d / "dose" / "gr.csv", seeds.dose_gr()),
    }
    cb_plate, cb_map = seeds.synergy_checkerboard()
    s["synergy"] = {
        "block": _w(d / "synergy" / "block.csv", seeds.synergy_block()),
        "plate": _w(d / "synergy" / "cb_plate.csv", cb_plate),
        "map": _w(d / "synergy" / "cb_map.csv", cb_map),
    }
    s["clinical"] = {"table": _w(d / "clinical" / "patients.csv", seeds.clinical_table())}
    s["invivo"] = {"table": _w(d / "invivo" / "study.csv", seeds.INVIVO)}
    s["tme"] = {
        "elisa": _w(d / "tme" / "cxcl9.csv", seeds.elisa_table()),
        "rnk": _w(d / "tme" / "ranks.rnk", seeds.RNK),
        "gmt": _w(d / "tme" / "sets.gmt", seeds.GMT),
        "expr": _w(d / "tme" / "expr.csv", seeds.expression()),
        "table": _w(d / "tme" / "tumours.csv", seeds.tme_table()),
        **seeds.flow_case(d / "tme"),
    }
    s["blot"] = seeds.blot_set(d / "blot")
    s["study"] = {
        "manifest": _w(d / "study" / "manifest.csv", seeds.MANIFEST),
        "p1_d1": _w(d / "study" / "p1_d1.csv", seeds.STUDY_FINDINGS),
        "p1_d2": _w(d / "study" / "p1_d2.csv", seeds.STUDY_FINDINGS),
    }
    amps, results = seeds.ddpcr_plate(d / "ddpcr")
    s["ddpcr"] = {
        "amp0": amps[0],
        "amp1": amps[1],
        "amp2": amps[2],
        "results": results,
        "qs": _w(d / "ddpcr" / "qs_results.csv", seeds.DDPCR_RESULTS),
        "clusters": _w(d / "ddpcr" / "ClusterData.csv", seeds.ddpcr_clusters(SHARED)),
    }
    s["ngs"] = seeds.ngs_case(d / "ngs", SHARED)
    _SEED_CACHE[root] = s
    index.write_text(
        json.dumps({g: {r: str(p) for r, p in m.items()} for g, m in s.items()}), encoding="utf-8"
    )
    return s


# -- targets -----------------------------------------------------------------------------------
Argv = Callable[[dict[str, Path], Path | None], list[str]]


def cmd(template: str, *, subject: bool = True) -> Argv:
    """``argv(files, db)`` from a template such as ``"dose fit -i {table} -f json"``: every
    ``{role}`` becomes that file's path (``{amp0.parent}`` its folder); ``--db`` (with
    ``--subject``/``--sample`` labels unless ``subject=False``) is added when a store is given."""

    def argv(files: dict[str, Path], db: Path | None) -> list[str]:
        out = [tok.format(**files) for tok in template.split()]
        if db is not None:
            out += ["--db", str(db)] + (["--subject", "X1", "--sample", "Y1"] if subject else [])
        return out

    argv.template = template  # type: ignore[attr-defined]  # targets sharing a command
    return argv


_INTERPRET = "interpret {opts} --sample S1 --sample-type plasma -f json"
_DOSE_COLS = "--dose-col dose --response-col response --group-col group -f json"
_PLATE = "dose plate --plate {plate} --map {map} -f json"
_CB = "synergy score {plate} --map {map} --methods bliss,hsa -f json"
_FLOW = "flow gate {fcs} --gates {wsp} --no-plots -f json"
_GSEA = "gsea prerank {rnk} --gene-sets {gmt} --min-size 3 --permutation-num 20 --plots 0 -f json"
_BLOT = "blot analyze {pALK} {ALK} --design {design} -f json"
_STUDY = "study import {manifest} --study S"
_DDPCR = "ddpcr analyze {amp0.parent} --results {results} -f json"
_NGS = "ngs call {tumour} --regions {bed} --reference {fa} -f json"
_SURV = "--time-col months --event-col event --group-col arm"
_SUMM = "--arm-col arm --time-col months --event-col event --response-col best_response"


def _interpret(opts: str) -> Argv:
    return cmd(_INTERPRET.replace("{opts}", opts))


TARGETS: tuple[Target, ...] = (
    # interpret (readers in src/kinresist/interpret/readers)
    Target("interpret.vcf", "interpret/vcf", _interpret("--vcf {vcf} --genome GRCh38")),
    Target("interpret.maf", "interpret/maf", _interpret("--maf {maf}")),
    Target("interpret.table", "interpret/table", _interpret("--table {table}")),
    Target("interpret.fusions", "interpret/fusions", _interpret("--fusions {fusions}")),
    Target("interpret.cnv", "interpret/cnv", _interpret("--cnv {cnv}")),
    Target(
        "interpret.vcf+fusions",
        "interpret/fusions",
        _interpret("--vcf {vcf} --genome GRCh38 --fusions {fusions}"),
    ),
    # dose (readers in src/kinresist/dose)
    Target("dose.fit", "dose/table", cmd(f"dose fit -i {{table}} {_DOSE_COLS}")),
    Target("dose.fit.xlsx", "dose/xlsx", cmd(f"dose fit -i {{xlsx}} {_DOSE_COLS}"), binary=True),
    Target("dose.compare", "dose/table", cmd(f"dose compare -i {{table}} {_DOSE_COLS}")),
    Target("dose.plate", "dose/plate", cmd(_PLATE)),
    Target("dose.map", "dose/map", cmd(_PLATE)),
    Target(
        "dose.standard",
        "dose/standard",
        cmd("dose standard -i {standard} --conc-col conc --signal-col signal -f json"),
        records=False,
    ),
    Target("dose.gr", "dose/gr", cmd("dose gr -i {gr} -f json"), records=False),
    # synergy (the checkerboard plate goes through the dose plate reader)
    Target(
        "synergy.score",
        "synergy/block",
        cmd("synergy score {block} --methods bliss,hsa -f json"),
        owner="synergy",
    ),
    Target("synergy.plate", "synergy/plate", cmd(_CB)),
    Target("synergy.map", "synergy/map", cmd(_CB), owner="synergy"),
    # clinical, in vivo
    Target(
        "clinical.survival",
        "clinical/table",
        cmd(f"clinical survival {{table}} {_SURV} -f json"),
        owner="clinical",
    ),
    Target(
        "clinical.response",
        "clinical/table",
        cmd("clinical response {table} --response-col best_response --group-col arm -f json"),
        owner="clinical",
    ),
    Target(
        "clinical.summary",
        "clinical/table",
        cmd(f"clinical summary {{table}} {_SUMM} -f json"),
        owner="clinical",
    ),
    Target(
        "invivo.analyze",
        "invivo/table",
        cmd("invivo analyze {table} --control Vehicle --n-boot 50 -f json"),
        owner="invivo",
    ),
    # tumour microenvironment
    Target("flow.fcs", "tme/fcs", cmd(_FLOW), owner="flow", binary=True, fixed_name=True),
    Target("flow.workspace", "tme/wsp", cmd(_FLOW), owner="flow"),
    Target(
        "elisa.quantify",
        "tme/elisa",
        cmd("elisa quantify {elisa} --blank none --no-plots -f json"),
        owner="elisa",
    ),
    Target("gsea.prerank", "tme/rnk", cmd(_GSEA), owner="gsea"),
    Target("gsea.gmt", "tme/gmt", cmd(_GSEA), owner="gsea"),
    Target(
        "gsea.score",
        "tme/expr",
        cmd("gsea score {expr} --signature AYERS_IFNG_6 -f json"),
        owner="gsea",
    ),
    Target(
        "tme.associate",
        "tme/table",
        cmd("tme associate {table} --time-col ttp --event-col progressed -f json"),
        owner="tme",
        records=False,
    ),
    # western blots
    Target("blot.image", "blot/pALK", cmd(_BLOT), owner="blot", binary=True, fixed_name=True),
    Target("blot.design", "blot/design", cmd(_BLOT), owner="blot"),
    # study import (monitoring): the manifest, and one file it names
    Target(
        "study.manifest",
        "study/manifest",
        cmd(_STUDY, subject=False),
        owner="monitoring",
        fmt_json=False,
    ),
    Target(
        "study.findings",
        "study/p1_d2",
        cmd(_STUDY, subject=False),
        owner="monitoring",
        fmt_json=False,
        fixed_name=True,
    ),
    # ddPCR (tested only: owned by the ddPCR rewrite)
    Target("ddpcr.amplitude", "ddpcr/amp0", cmd(_DDPCR), owner="ddpcr", fixed_name=True),
    Target("ddpcr.results", "ddpcr/results", cmd(_DDPCR), owner="ddpcr"),
    Target("ddpcr.recompute", "ddpcr/qs", cmd("ddpcr recompute {qs} -f json"), owner="ddpcr"),
    Target(
        "ddpcr.clusters", "ddpcr/clusters", cmd("ddpcr clusters {clusters} -f json"), owner="ddpcr"
    ),
    # NGS (tested only: owned by the NGS rewrite)
    Target("ngs.bam", "ngs/tumour", cmd(_NGS), owner="ngs", binary=True, fixed_name=True),
    Target("ngs.regions", "ngs/bed", cmd(_NGS), owner="ngs"),
    Target("ngs.cnv", "ngs/cnr", cmd("ngs cnv {cnr} -f json"), owner="ngs"),
)


def target(name: str) -> Target:
    for t in TARGETS:
        if t.name == name:
            return t
    msg = f"no fuzz target {name!r}"
    raise KeyError(msg)


# -- the store ---------------------------------------------------------------------------------
def store_template(root: Path) -> Path:
    """A migrated, empty SQLite store (copied for every example)."""
    path = root / "template.sqlite"
    if not path.exists():
        from kinresist.store import open_store

        with open_store(str(path)):
            pass
    return path


def store_counts(path: Path) -> dict[str, int]:
    if not path.exists():
        return {}
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {n: con.execute(f'SELECT COUNT(*) FROM "{n}"').fetchone()[0] for n in names}
    finally:
        con.close()


# -- running one example -------------------------------------------------------------------------
@contextlib.contextmanager
def _process_like_streams() -> Iterator[tuple[io.BytesIO, io.BytesIO]]:
    """stdout/stderr as a real process has them: UTF-8, stdout strict, stderr backslashreplace."""
    out_b, err_b = io.BytesIO(), io.BytesIO()
    out = io.TextIOWrapper(out_b, encoding="utf-8", errors="strict", write_through=True)
    err = io.TextIOWrapper(err_b, encoding="utf-8", errors="backslashreplace", write_through=True)
    old = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        yield out_b, err_b
    finally:
        sys.stdout, sys.stderr = old


@contextlib.contextmanager
def _restored_env() -> Iterator[None]:
    """Undo what a command sets in os.environ (``--debug``, ``--quiet``, the piped width)."""
    keys = ("KINRESIST_QUIET", "KINRESIST_DEBUG", "COLUMNS")
    before = {k: os.environ.get(k) for k in keys}
    try:
        yield
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def _alarm(seconds: int) -> Iterator[None]:
    if not hasattr(signal, "SIGALRM") or seconds <= 0:
        yield
        return

    def fire(signum: int, frame: Any) -> None:
        raise ExampleTimeout

    old = signal.signal(signal.SIGALRM, fire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def run_cli(
    argv: Sequence[str], *, timeout: int = EXAMPLE_TIMEOUT_S
) -> tuple[int | None, str, str]:
    """``kinresist ARGV`` in this process; (exit code or None on timeout, stdout, stderr)."""
    from kinresist.cli.main import main

    code: int | None
    old_hook = sys.unraisablehook

    def unraisable(u: Any) -> None:
        # what a real process prints for an exception raised in a finaliser (__del__)
        sys.stderr.write(f"Exception ignored in: {u.object!r}\n")
        traceback.print_exception(u.exc_type, u.exc_value, u.exc_traceback, file=sys.stderr)

    with _process_like_streams() as (out_b, err_b), _restored_env():
        sys.unraisablehook = unraisable
        try:
            with warnings.catch_warnings(), _alarm(timeout):
                # a real process prints Python warnings once; the test suite's "error" filter must
                # not turn a warning into an exception here
                warnings.simplefilter("ignore")
                code = main(list(argv))
                gc.collect()
        except ExampleTimeout:
            code = None
        except SystemExit as exc:  # pragma: no cover - main() returns codes
            code = int(exc.code or 0) if not isinstance(exc.code, str) else 1
        except Exception as exc:  # noqa: BLE001 - anything escaping main() is a finding
            sys.stderr.write(f"UNCAUGHT {type(exc).__name__}: {exc}\nTraceback\n")
            code = 1
        finally:
            sys.unraisablehook = old_hook
        sys.stdout.flush()
        sys.stderr.flush()
        stdout = out_b.getvalue().decode("utf-8", errors="replace")
        stderr = err_b.getvalue().decode("utf-8", errors="replace")
    return code, stdout, stderr


def debug_trace(argv: Sequence[str], *, frames: int = 3) -> str:
    """Rerun with ``--debug`` and return where the exception came from: the innermost
    ``frames`` frames under ``src/kinresist`` and the exception line."""
    from kinresist.cli.main import main

    with (
        _process_like_streams(),
        _restored_env(),
        warnings.catch_warnings(),
        _alarm(EXAMPLE_TIMEOUT_S),
    ):
        warnings.simplefilter("ignore")
        try:
            main(["--debug", *argv])
        except BaseException as exc:  # noqa: BLE001 - the point is to see any exception
            tb = traceback.extract_tb(exc.__traceback__)
            ours = [f for f in tb if "/src/kinresist/" in f.filename] or list(tb)
            where = [f"{f.filename.split('/src/')[-1]}:{f.lineno} {f.name}" for f in ours[-frames:]]
            return " <- ".join(reversed(where)) + f" :: {type(exc).__name__}: {str(exc)[:160]}"
    return ""


def _renderings(name: str) -> set[str]:
    """How a file name may appear in a message (as is, escaped, repr'd)."""
    out = {
        name,
        name.encode("utf-8", "backslashreplace").decode("ascii", "replace"),
        repr(name)[1:-1],
    }
    out.add(name.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
    return {o for o in out if o}


def _strict_json(text: str) -> Any:
    def bad_constant(token: str) -> Any:
        msg = f"non-standard JSON constant {token}"
        raise ValueError(msg)

    return json.loads(text, parse_constant=bad_constant)


def violations(
    code: int | None,
    stdout: str,
    stderr: str,
    *,
    names: Sequence[str],
    json_out: bool,
    store_changed: bool,
) -> list[str]:
    """What broke the contract (empty: the example passed)."""
    problems = []
    if code is None:
        problems.append(f"no answer within {EXAMPLE_TIMEOUT_S} s")
        return problems
    if code not in (0, 2):
        problems.append(f"exit {code}")
    if "Traceback" in stderr:
        problems.append("traceback")
    if code == 2:
        lines = [ln for ln in stderr.splitlines() if ln.strip()]
        if len(lines) != 1:
            problems.append(f"{len(lines)} lines on stderr")
        last = lines[-1] if lines else ""
        head = last.split(":", 1)[0]
        if not (head.endswith("Error") and " " not in head):
            problems.append("message is not 'ErrorType: ...'")
        if not any(r in last for n in names for r in _renderings(n)):
            problems.append("message names no input file")
    if code == 0 and json_out:
        try:
            doc = _strict_json(stdout)
        except ValueError as exc:
            problems.append(f"stdout is not strict JSON ({str(exc)[:60]})")
        else:
            if not isinstance(doc, dict) or "workflow" not in doc:
                problems.append("JSON without 'workflow'")
            else:
                for m in doc.get("measurements") or []:
                    v = m.get("value")
                    if v is not None and not (isinstance(v, int | float) and math.isfinite(v)):
                        problems.append(f"measurement value {v!r}")
                        break
    if code != 0 and store_changed:
        problems.append("store changed on failure")
    return problems


def run_example(
    t: Target,
    seed_files: dict[str, Path],
    draw: fm.Draw,
    *,
    workdir: Path,
    template: Path | None,
    timeout: int = EXAMPLE_TIMEOUT_S,
) -> Outcome:
    """Mutate the target's file, run the command, check the contract."""

    role = t.role.split("/")[1]
    src = seed_files[role]
    raw = src.read_bytes()
    if t.binary:
        sections = _sections(src, raw)
        mutated, names = fm.mutate_binary(draw, raw, sections)
    else:
        mutated, names = fm.mutate_text(draw, raw)
    if t.fixed_name:
        fname = src.name
    else:
        fname = fm.file_name(draw, "".join(src.suffixes[-1:]), wrong_suffix=t.wrong_suffix)
    return run_mutated(
        t, seed_files, mutated, fname=fname, mutations=names, workdir=workdir,
        template=template, timeout=timeout,
    )  # fmt: skip


def run_truncations(
    names: Sequence[str],
    *,
    workdir: Path,
    shared_root: Path | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Every target's seed cut at every section (no sampling): part of the long run."""
    root = shared_root or workdir
    seed_sets = build_seeds(root / "seeds")
    template = store_template(root)
    out = []
    for name in names:
        t = target(name)
        files = seed_sets[t.role.split("/")[0]]
        for what, cut in truncations(t, files[t.role.split("/")[1]]):
            o = run_mutated(t, files, cut, mutations=[what], workdir=workdir, template=template)
            if on_outcome is not None:
                on_outcome(o)
            out.append(o)
    return out


def run_mutated(
    t: Target,
    seed_files: dict[str, Path],
    mutated: bytes,
    *,
    fname: str | None = None,
    mutations: Sequence[str] = (),
    workdir: Path,
    template: Path | None,
    timeout: int = EXAMPLE_TIMEOUT_S,
) -> Outcome:
    """Run the target's command with its file replaced by ``mutated`` bytes; check the contract."""
    import time

    role = t.role.split("/")[1]
    src = seed_files[role]
    fname = fname or src.name
    ex = Path(tempfile.mkdtemp(prefix="ex", dir=workdir))
    try:
        files = _stage(seed_files, role, src, ex, fname, mutated)
        db = None
        before: dict[str, int] = {}
        if t.records and template is not None:
            db = ex / "store.sqlite"
            shutil.copyfile(template, db)
            before = store_counts(db)
        argv = t.argv(files, db)
        started = time.process_time()  # CPU seconds: comparable on a loaded machine
        code, out, err = run_cli(argv, timeout=timeout)
        elapsed = time.process_time() - started
        changed = db is not None and store_counts(db) != before
        names_all = [p.name for p in files.values()] + [str(p) for p in files.values()]
        problems = violations(
            code, out, err, names=names_all, json_out=t.fmt_json, store_changed=changed
        )
        where = ""
        if code == 1:
            if db is not None:
                shutil.copyfile(template, db)  # type: ignore[arg-type]
            where = debug_trace(argv)
        return Outcome(t.name, code, out, err, list(mutations), fname, problems, elapsed, where)
    finally:
        shutil.rmtree(ex, ignore_errors=True)


def truncations(t: Target, src: Path, *, limit: int | None = None) -> list[tuple[str, bytes]]:
    """The seed cut at every section: every line boundary (header only, each record) and the
    middle of every line for text; every declared section offset for binary files. ``limit``
    keeps that many cuts, evenly spaced (first and last included)."""
    raw = src.read_bytes()
    cuts: list[tuple[str, bytes]] = []
    if t.binary:
        for at in _sections(src, raw):
            cuts.append((f"cut at byte {at}", raw[:at]))
    else:
        lines = raw.splitlines(keepends=True)
        pos = 0
        for i, line in enumerate(lines):
            cuts.append((f"first {i} lines", raw[:pos]))
            cuts.append((f"line {i + 1} cut in half", raw[: pos + max(len(line.rstrip()) // 2, 1)]))
            pos += len(line)
    if limit is not None and len(cuts) > limit:
        step = (len(cuts) - 1) / (limit - 1)
        cuts = [cuts[round(k * step)] for k in range(limit)]
    return cuts


def _stage(
    seed_files: dict[str, Path], role: str, src: Path, ex: Path, fname: str, mutated: bytes
) -> dict[str, Path]:
    """Copy the seed set into ``ex`` (same relative layout), the mutated file under ``fname``."""
    root = Path(os.path.commonpath([p.parent for p in seed_files.values()]))
    files: dict[str, Path] = {}
    for r, p in seed_files.items():
        rel = p.relative_to(root)
        dst = ex / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if r == role:
            dst = dst.with_name(fname)
            dst.write_bytes(mutated)
            if src.with_suffix(src.suffix + ".bai").exists() and fname == src.name:
                shutil.copyfile(
                    src.with_suffix(src.suffix + ".bai"), dst.with_suffix(dst.suffix + ".bai")
                )
        else:
            shutil.copyfile(p, dst)
            for extra in (".bai", ".fai"):
                side = p.with_suffix(p.suffix + extra)
                if side.exists():
                    shutil.copyfile(side, dst.with_suffix(dst.suffix + extra))
        files[r] = dst
    # siblings that no role names (ddPCR amplitude files of the same plate folder, the study's
    # other files) come along unchanged
    for p in src.parent.iterdir():
        dst = ex / p.relative_to(root)
        if (
            p.is_file()
            and not dst.exists()
            and p != src
            and not any(p == q for q in seed_files.values())
        ):
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, dst)
    return files


def _sections(path: Path, raw: bytes) -> list[int]:
    """Offsets where the binary format's sections start (truncation points)."""
    suffix = path.suffix.lower()
    cuts = [0, 6, 10, 58, 256, len(raw) // 2, len(raw) - 28, len(raw) - 1]
    if suffix == ".fcs" and len(raw) > 58:
        try:
            text_start, text_end = int(raw[10:18]), int(raw[18:26])
            data_start, data_end = int(raw[26:34]), int(raw[34:42])
            cuts += [text_start, text_end, data_start, (data_start + data_end) // 2, data_end]
        except ValueError:
            pass
    elif suffix in (".tif", ".tiff") and len(raw) > 8:
        order = "little" if raw[:2] == b"II" else "big"
        cuts += [4, int.from_bytes(raw[4:8], order)]  # type: ignore[arg-type]
    elif suffix == ".bam" or raw[:2] == b"\x1f\x8b":
        k = 0
        while k + 18 <= len(raw) and raw[k : k + 2] == b"\x1f\x8b":  # BGZF block starts
            cuts.append(k)
            bsize = int.from_bytes(raw[k + 16 : k + 18], "little")
            k += bsize + 1
    elif suffix in (".xlsx", ".xlsm"):
        k = raw.find(b"PK\x03\x04")
        while k != -1:
            cuts.append(k)
            k = raw.find(b"PK\x03\x04", k + 1)
        cuts.append(raw.rfind(b"PK\x05\x06"))
    return sorted({c for c in cuts if 0 <= c < len(raw)})


def run_budget(
    names: Sequence[str],
    *,
    per_target: int,
    rng_seed: int,
    workdir: Path,
    shared_root: Path | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """``per_target`` random examples per target (the long run's engine). Seeds and the store
    template live in ``shared_root`` (built once per run), examples in ``workdir``."""
    import random

    root = shared_root or workdir
    seed_sets = build_seeds(root / "seeds")
    template = store_template(root)
    rng = random.Random(rng_seed)
    out = []
    for name in names:
        t = target(name)
        files = seed_sets[t.role.split("/")[0]]
        for _ in range(per_target):
            o = run_example(t, files, fm.RandomDraw(rng), workdir=workdir, template=template)
            if on_outcome is not None:
                on_outcome(o)
            out.append(o)
    return out
