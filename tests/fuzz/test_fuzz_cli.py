"""Fuzz every reader through its CLI entry point (the bounded CI budget; see docs/reliability.md).

Each target is one input file of one command; hypothesis drives the structured mutator of
:mod:`fuzz_mutate` over the target's valid seed and every example must keep the contract of
:mod:`fuzz_harness` (exit 0 with validated output, or exit 2 with one line naming the file; never
exit 1, never a traceback, never a store change on failure). The examples are derandomised, so
CI runs the same inputs every time; ``KINRESIST_FUZZ_SEED=<n>`` explores others, and
``python tests/fuzz/run.py --long`` runs the long budget.
"""

from __future__ import annotations

import os
from pathlib import Path

import fuzz_harness as fh
import fuzz_mutate as fm
import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

#: Examples per target in CI: cheap readers get more, commands that always draw figures or fit
#: many curves (synergy, dose plate, in vivo) fewer. The whole suite stays under ~90 s on 2 cores.
BUDGET = {
    "synergy.score": 2,
    "synergy.plate": 2,
    "synergy.map": 2,
    "dose.plate": 5,
    "dose.map": 5,
    "invivo.analyze": 5,
    "tme.associate": 5,
    "clinical.survival": 6,
    "clinical.summary": 5,
    "flow.fcs": 6,
    "flow.workspace": 6,
    "blot.image": 6,
    "blot.design": 6,
    "gsea.prerank": 6,
    "gsea.gmt": 6,
}
DEFAULT_BUDGET = 8
SEED = int(os.environ.get("KINRESIST_FUZZ_SEED", "0"))


@pytest.fixture(scope="session")
def fuzz_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="session")
def fuzz_seeds(fuzz_root: Path) -> dict[str, dict[str, Path]]:
    return fh.build_seeds(fuzz_root / "seeds")


@pytest.fixture(scope="session")
def fuzz_template(fuzz_root: Path) -> Path:
    return fh.store_template(fuzz_root)


def _report(o: fh.Outcome) -> str:
    return (
        f"{o.target} violated the contract: {o.problems}\n"
        f"mutations {o.mutations}, file name {o.file_name!r}, exit {o.code}\n"
        f"stderr: {o.stderr[-1500:]}\nstdout: {o.stdout[:300]}\n"
        + (f"at: {o.where}" if o.where else "")
    )


@pytest.mark.hypothesis
@pytest.mark.parametrize("name", [t.name for t in fh.TARGETS])
def test_fuzz_target(
    name: str, fuzz_root: Path, fuzz_seeds: dict[str, dict[str, Path]], fuzz_template: Path
) -> None:
    t = fh.target(name)
    files = fuzz_seeds[t.role.split("/")[0]]

    @seed(SEED)
    @settings(
        max_examples=BUDGET.get(name, DEFAULT_BUDGET),
        deadline=None,
        derandomize=SEED == 0,
        database=None,
        # no shrinking: an example costs up to seconds; the report names the mutations instead
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def check(data: st.DataObject) -> None:
        o = fh.run_example(
            t, files, fm.HypothesisDraw(data), workdir=fuzz_root, template=fuzz_template
        )
        assert not o.problems, _report(o)

    check()


@pytest.mark.parametrize("name", [t.name for t in fh.TARGETS])
def test_truncated_at_every_section(
    name: str, fuzz_root: Path, fuzz_seeds: dict[str, dict[str, Path]], fuzz_template: Path
) -> None:
    """The seed cut at its sections (header only, after each record, mid-line; binary formats at
    their header/data offsets), evenly sampled in CI; ``run.py --long`` cuts at every one."""
    t = fh.target(name)
    files = fuzz_seeds[t.role.split("/")[0]]
    src = files[t.role.split("/")[1]]
    budget = BUDGET.get(name, DEFAULT_BUDGET)
    limit = 2 if budget <= 2 else 3 if budget <= 6 else 4
    for what, cut in fh.truncations(t, src, limit=limit):
        o = fh.run_mutated(
            t, files, cut, mutations=[what], workdir=fuzz_root, template=fuzz_template
        )
        assert not o.problems, _report(o)


def _distinct_commands() -> list[str]:
    """One target per distinct command (targets that mutate different files of one command
    share its seed run)."""
    seen: dict[tuple[str, str], str] = {}
    for t in fh.TARGETS:
        key = (t.role.split("/")[0], getattr(t.argv, "template", t.name))
        seen.setdefault(key, t.name)
    return list(seen.values())


@pytest.mark.parametrize("name", _distinct_commands())
def test_seed_is_valid(
    name: str, fuzz_seeds: dict[str, dict[str, Path]], fuzz_template: Path, tmp_path: Path
) -> None:
    """Every seed passes unmutated (exit 0), so a mutation is what the fuzz examples test."""
    import shutil

    t = fh.target(name)
    files = fuzz_seeds[t.role.split("/")[0]]
    db = None
    if t.records:
        db = tmp_path / "store.sqlite"
        shutil.copyfile(fuzz_template, db)
    code, out, err = fh.run_cli(t.argv(files, db))
    assert code == 0, err
    problems = fh.violations(
        code, out, err, names=[p.name for p in files.values()], json_out=t.fmt_json,
        store_changed=False,
    )  # fmt: skip
    assert not problems, (problems, err)
