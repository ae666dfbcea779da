"""Issue 12: every workflow of the registry runs, shows and saves through the web app.

For each registered workflow (parametrised by name, so a new workflow without a case here fails):
``POST /api/v1/<group>/<command>?wait=true`` on the fuzz suite's small valid seeds
(tests/fuzz/fuzz_seeds.py; uploads, or files in the configured data folder for folder inputs,
BAMs and the store workflows' manifests) answers 200 with the CLI's JSON envelope naming the
workflow; the result page and its report render (200, naming the workflow); saving to a study
records a run for the workflows that record, and answers 422 with a one-line reason for those
that record nothing (or read and write the store themselves). ``ngs align`` runs on the real
SiMSen-Seq reads (../shared) copied into the data folder, writing its BAM into a folder that
does not exist yet (created inside the data folder, as on the CLI); so does ``blot simulate``.

One app per store engine (SQLite, then PostgreSQL when ``$KINRESIST_TEST_PG_URL`` is set) serves
every workflow, to keep the run short.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_helpers import WebEnv, add_accounts, make_settings

from envelope import ENVELOPE
from kinresist.core import workflows
from kinresist.web.forms import is_store_workflow

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fuzz"))

import fuzz_harness as fh

SIMSEN = ("ngs-data", "umierrorcorrect-simsenseq-pik3ca")
SLICE = "pik3ca_hg19_slice_chr3_178951772_178952568.fa"

#: Registered workflows the web app does not run here, and why (none today).
NOT_RUN: dict[str, str] = {}


@dataclass
class Env:
    web: WebEnv
    engine: str
    seeds: dict[str, dict[str, Path]]
    done: set[str] = field(default_factory=set)


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    return fh.build_seeds(tmp_path_factory.mktemp("web-seeds"))


def _database(engine: str, root: Path) -> Iterator[str]:
    if engine == "sqlite":
        yield str(root / "web.sqlite")
        return
    base = os.environ.get("KINRESIST_TEST_PG_URL")
    if not base:
        pytest.skip("PostgreSQL web tests need $KINRESIST_TEST_PG_URL (.ci/run starts a server)")
    from pgdatabase import fresh_pg_database

    url, drop = fresh_pg_database(base)
    try:
        yield url
    finally:
        drop()


def _stage(data: Path, s: dict[str, dict[str, Path]]) -> None:
    """Folder inputs, BAMs, the study manifest and the FASTQ go to the server data folder."""
    from sharedpaths import shared_path

    shutil.copytree(s["ddpcr"]["amp0"].parent, data / "ddpcr")
    shutil.copytree(s["ngs"]["bed"].parent, data / "ngs")
    shutil.copytree(s["study"]["manifest"].parent, data / "study")
    reads = shared_path(*SIMSEN)
    (data / "fastq").mkdir()
    shutil.copyfile(reads / "test_R1.fastq.gz", data / "fastq" / "R1.fastq.gz")
    shutil.copyfile(reads / "expected" / SLICE, data / "fastq" / SLICE)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def env(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    seeds: dict[str, dict[str, Path]],
) -> Iterator[Env]:
    from kinresist.web.main import create_app

    root = tmp_path_factory.mktemp(f"web-{request.param}")
    for url in _database(request.param, root):
        settings = make_settings(url, root)
        app = create_app(settings)
        with TestClient(app) as client:
            store = app.state.kinresist.store
            web = WebEnv(client, store, settings, settings.data_dir or root, add_accounts(store))
            _stage(web.data_dir, seeds)
            yield Env(web, request.param, seeds)


Files = dict[str, list[Path]]
Values = dict[str, str]


def _cases(s: dict[str, dict[str, Path]]) -> dict[str, tuple[Files, Values]]:
    """workflow name -> (uploads by input name, form values); ``__path`` names data files."""
    d, syn, tme, ngs = s["dose"], s["synergy"], s["tme"], s["ngs"]
    cols = {"dose_col": "dose", "response_col": "response", "group_col": "group"}
    panel = {"regions__path": "ngs/" + ngs["bed"].name, "reference__path": "ngs/" + ngs["fa"].name}
    clin = {"file": [s["clinical"]["table"]]}
    return {
        "interpret": ({"vcf": [s["interpret"]["vcf"]]}, {"genome": "GRCh38"}),
        "dose.fit": ({"input": [d["table"]]}, cols),
        "dose.compare": ({"input": [d["table"]]}, cols),
        "dose.select": ({"input": [d["table"]]}, cols),
        "dose.plate": ({"plate": [d["plate"]], "plate_map": [d["map"]]}, {}),
        "dose.standard": ({"input": [d["standard"]]}, {"conc_col": "conc", "signal_col": "signal"}),
        "dose.gr": ({"input": [d["gr"]]}, {}),
        "synergy.score": ({"input": [syn["block"]]}, {"methods": "bliss,hsa"}),
        "synergy.sensitivity": ({"input": [syn["block"]]}, {}),
        "synergy.ci": ({"input": [syn["block"]]}, {}),
        "clinical.survival": (
            clin,
            {"time_col": "months", "event_col": "event", "group_col": "arm"},
        ),
        "clinical.response": (clin, {"response_col": "best_response", "group_col": "arm"}),
        "clinical.summary": (
            clin,
            {"arm_col": "arm", "time_col": "months", "event_col": "event"}
            | {"response_col": "best_response"},
        ),
        "invivo.analyze": (
            {"file": [s["invivo"]["table"]]},
            {"control": "Vehicle", "n_boot": "50"},
        ),
        "invivo.table": ({"file": [s["invivo"]["table"]]}, {}),
        "flow.gate": ({"fcs": [tme["fcs"]], "gates": [tme["wsp"]]}, {"plots": "false"}),
        "elisa.quantify": ({"plate": [tme["elisa"]]}, {"blank": "none", "plots": "false"}),
        "gsea.prerank": (
            {"rnk": [tme["rnk"]], "gene_sets": [tme["gmt"]]},
            {"min_size": "3", "permutation_num": "20", "plots": "0"},
        ),
        "gsea.score": ({"expression": [tme["expr"]]}, {"signature": "AYERS_IFNG_6"}),
        "tme.associate": (
            {"table": [tme["table"]]},
            {"time_col": "ttp", "event_col": "progressed"},
        ),
        "blot.analyze": (
            {"images": [s["blot"]["pALK"], s["blot"]["ALK"]], "design": [s["blot"]["design"]]},
            {},
        ),
        "blot.simulate": ({}, {"write_to": "simulated/blots", "blots": "2"}),
        "ddpcr.analyze": ({"results": [s["ddpcr"]["results"]]}, {"plate__path": "ddpcr"}),
        "ddpcr.recompute": ({"results": [s["ddpcr"]["qs"]]}, {}),
        "ddpcr.clusters": ({"export": [s["ddpcr"]["clusters"]]}, {}),
        "ngs.call": ({}, {"bams__path": "ngs/" + ngs["tumour"].name, **panel}),
        "ngs.count": ({}, {"bam__path": "ngs/" + ngs["tumour"].name, **panel}),
        "ngs.pon": (
            {},
            {"normals__path": f"ngs/{ngs['normal1'].name}\nngs/{ngs['normal2'].name}", **panel},
        ),
        "ngs.cnv": ({"input": [ngs["cnr"]]}, {}),
        "ngs.align": (
            {},
            {"r1": "fastq/R1.fastq.gz", "reference": f"fastq/{SLICE}", "umi_length": "12"}
            | {"spacer_length": "16", "out": "aligned/run1/simsen.bam", "threads": "1"},
        ),
        "study.import": ({}, {"manifest__path": "study/manifest.csv", "study": "Imports"}),
        "timeline": ({}, {"subject": "P1", "study": "Study A"}),
        "lineage.add": (
            {},
            {"line": "H3122-CR", "parent": "H3122", "drug": "crizotinib", "dose": "0.5uM"}
            | {"date": "2025-01-10", "study": "Study A"},
        ),
        "lineage.show": ({}, {"line": "H3122-LR", "study": "Study A"}),
    }


#: What a store workflow reads, put in the store first (by ana, in Study A).
_BEFORE = {
    "timeline": ("study.import", {"manifest__path": "study/manifest.csv", "study": "Study A"}),
    "lineage.show": ("lineage.add", {"line": "H3122-LR", "parent": "H3122", "study": "Study A"}),
}
#: Who runs it: study import into a new study needs an administrator.
_USER = {"study.import": "admin"}


def _post(env: Env, name: str, files: Files, values: Values, user: str = "ana") -> Any:
    from kinresist.web.api.routes.workflows import endpoint_path

    upload = [
        (key, (p.name, p.read_bytes(), "application/octet-stream"))
        for key, paths in files.items()
        for p in paths
    ]
    return env.web.client.post(
        endpoint_path(workflows()[name]) + "?wait=true",
        files=upload or None,
        data=values,
        headers=env.web.auth(user),
    )


def test_every_workflow_has_a_case(seeds: dict[str, dict[str, Path]]) -> None:
    assert set(NOT_RUN) <= set(workflows())
    assert sorted(set(workflows()) - set(NOT_RUN) - set(_cases(seeds))) == []
    assert sorted(set(_cases(seeds)) - set(workflows())) == []


@pytest.mark.parametrize("name", sorted(set(workflows()) - set(NOT_RUN)))
def test_workflow_runs_shows_and_saves(env: Env, name: str) -> None:
    wf = workflows()[name]
    cases = _cases(env.seeds)
    assert name in cases, f"{name}: no web case in this test (a new workflow needs one)"
    files, values = cases[name]
    web = env.web
    if name in _BEFORE and name not in env.done:
        first, first_values = _BEFORE[name]
        r = _post(env, first, {}, first_values)
        assert r.status_code == 200, r.text
        env.done.add(name)

    user = _USER.get(name, "ana")
    r = _post(env, name, files, values, user)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert ENVELOPE <= set(doc), sorted(ENVELOPE - set(doc))
    assert doc["workflow"] == name
    assert doc["schema_version"]
    assert doc["kb_version"]
    assert all(str(v).startswith("sha256:") for v in doc["inputs"].values())
    rid = doc["web"]["result_id"]

    page = web.client.get(f"/results/{rid}", headers=web.auth(user))
    assert page.status_code == 200, page.text[:500]
    assert name in page.text
    report = web.client.get(f"/results/{rid}/report", headers=web.auth(user))
    assert report.status_code == 200, report.text[:500]
    assert report.headers["content-type"].startswith("text/html")
    assert name in report.text

    subject = f"S-{name}"
    save = web.client.post(
        f"/api/v1/results/{rid}/save",
        json={"study": "Study A", "subject": subject, "sample": f"{subject}-1"},
        headers=web.auth(user),
    )
    if wf.records and not is_store_workflow(wf):
        assert save.status_code == 200, save.text
        run_id = save.json()["run_id"]
        [run] = [run for run in web.store.runs(kind=name) if run.id == run_id]
        assert run.workflow == name
    else:
        assert save.status_code == 422, save.text
        error = save.json()
        assert error["message"].count("\n") == 0
        assert f"{name} results are not recorded in a study" in error["message"]

    if name == "blot.simulate":  # the folder did not exist: made inside the data folder
        assert (web.data_dir / "simulated" / "blots" / "design.csv").is_file()
    if name == "ngs.align":
        assert (web.data_dir / "aligned" / "run1" / "simsen.bam").is_file()


@pytest.mark.parametrize("env", ["sqlite"], indirect=True)  # the store plays no part
@pytest.mark.parametrize("name", ["blot.simulate", "ngs.align"])
@pytest.mark.parametrize("where", ["../outside", "/tmp/outside", "ngs/tumour.bam/x"])
def test_a_written_path_stays_in_the_data_folder(env: Env, name: str, where: str) -> None:
    """A folder or file a workflow writes is confined like any server path: no ``..``, no
    absolute path, not below a file; a 422 with the one-line reason, nothing written."""
    files, values = _cases(env.seeds)[name]
    key = "write_to" if name == "blot.simulate" else "out"
    where = where.replace("tumour.bam", env.seeds["ngs"]["tumour"].name)
    r = _post(env, name, files, {**values, key: where})
    assert r.status_code == 422, r.text
    assert "server path" in r.json()["message"]
    assert not (env.web.data_dir.parent / "outside").exists()
