"""The JSON API on a real app and a real store (SQLite and PostgreSQL): every endpoint the issue
names, results identical to the library's (and so to the CLI's), saving through the one store
writer, jobs whose state lives in the store, and a store workflow reading the data folder."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pandas as pd
import pytest
from web_helpers import WebEnv, ddpcr_zip, dose_table, patient_study, sqlite_only, synergy_table

from kinresist.core.registry import get_workflow

G1202R_VCF = (
    "##fileformat=VCFv4.2\n"
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    "chr2\t29220747\t.\tC\tT\t100\tPASS\t.\n"
)


def _calls(payload: dict) -> dict[str, str]:
    return {d["drug"]: d["call"] for d in payload["drugs"]}


@sqlite_only
def test_health_openapi_and_docs(web: WebEnv) -> None:
    r = web.client.get("/api/v1/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["store"] == "ok"
    assert body["kb_version"]
    assert body["schema_revision"] is not None
    paths = web.client.get("/api/v1/openapi.json").json()["paths"]
    for needed in (
        "/api/v1/health",
        "/api/v1/interpret",
        "/api/v1/dose/fit",
        "/api/v1/synergy/score",
        "/api/v1/ddpcr/analyze",
        "/api/v1/subjects/{subject}/timeline",
        "/api/v1/jobs/{job_id}",
    ):
        assert needed in paths, needed
    # generated from the registry: every workflow has its endpoint, with its options documented
    from kinresist.core.registry import workflows
    from kinresist.web.api.routes.workflows import endpoint_path

    for wf in workflows().values():
        assert endpoint_path(wf) in paths, wf.name
    form = paths["/api/v1/dose/plate"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert form["schema"]["properties"]["plate_map"]["format"] == "binary"
    assert form["schema"]["properties"]["se"]["enum"] == ["jtj", "hessian"]
    docs = web.client.get("/docs", headers=web.auth("vic"))
    assert docs.status_code == 200
    assert "/api/v1/dose/fit" in docs.text
    assert "cdn" not in docs.text.lower()


@sqlite_only
def test_interpret_json_findings_and_vcf_upload_match_the_library(
    web: WebEnv, tmp_path: Path
) -> None:
    r = web.client.post(
        "/api/v1/interpret",
        json={"findings": ["ALK G1202R"], "prior_therapy": "alectinib"},
        headers=web.auth("vic"),
    )
    assert r.status_code == 200, r.text
    payload = r.json()
    assert payload["workflow"] == "interpret"
    direct = get_workflow("interpret")(finding=["ALK G1202R"], prior_therapy="alectinib").to_dict()
    assert _calls(payload) == _calls(direct)
    assert _calls(payload)["alectinib"] == "resistant"
    assert payload["web"]["result_id"]
    assert payload["web"]["recorded"] is None

    vcf = tmp_path / "calls.vcf"
    vcf.write_text(G1202R_VCF)
    r = web.client.post(
        "/api/v1/interpret",
        files={"vcf": ("calls.vcf", G1202R_VCF.encode(), "text/plain")},
        data={"genome": "GRCh38"},
        headers=web.auth("vic"),
    )
    assert r.status_code == 200, r.text
    direct = get_workflow("interpret")(vcf=vcf, genome="GRCh38").to_dict()
    assert [f["alteration"] for f in r.json()["findings"]] == [
        f["alteration"] for f in direct["findings"]
    ]
    assert _calls(r.json()) == _calls(direct)


def test_dose_plate_upload_save_download(web: WebEnv, plate_files: tuple[Path, Path]) -> None:
    plate, plate_map = plate_files
    r = web.client.post(
        "/api/v1/dose/plate",
        files={
            "plate": ("example_plate.csv", plate.read_bytes(), "text/csv"),
            "plate_map": ("example_map.csv", plate_map.read_bytes(), "text/csv"),
        },
        headers=web.auth("ana"),
    )
    assert r.status_code == 200, r.text
    payload = r.json()
    direct_result = get_workflow("dose.plate")(plate=plate, plate_map=plate_map)
    direct = direct_result.to_dict()
    got = {f["group"]: f["ed50"]["estimate"] for f in payload["fits"]}
    want = {f["group"]: f["ed50"]["estimate"] for f in direct["fits"]}
    assert got.keys() == want.keys()
    for group, value in want.items():
        assert got[group] == pytest.approx(value, rel=1e-12), group
    rid = payload["web"]["result_id"]

    # downloads: the CLI's formats
    tsv = web.client.get(f"/api/v1/results/{rid}/download/tsv", headers=web.auth("ana"))
    assert tsv.status_code == 200
    assert tsv.text.startswith("## ")
    pq = web.client.get(
        f"/api/v1/results/{rid}/download/parquet?table=wells", headers=web.auth("ana")
    )
    wells = pd.read_parquet(io.BytesIO(pq.content))
    assert len(wells) == len(direct_result.tables["wells"]) > 100
    html = web.client.get(f"/api/v1/results/{rid}/download/html", headers=web.auth("ana")).text
    assert "<svg" in html
    assert "cdn." not in html
    js = web.client.get(f"/api/v1/results/{rid}/download/json", headers=web.auth("ana")).json()
    assert js["fits"] == payload["fits"]

    # save to the analyst's study through the one store writer
    before = web.store.counts()
    r = web.client.post(
        f"/api/v1/results/{rid}/save", json={"study": "Study A"}, headers=web.auth("ana")
    )
    assert r.status_code == 200, r.text
    saved = r.json()
    assert saved["study"] == "Study A"
    assert saved["measurements"] == len(direct["measurements"]) > 0
    after = web.store.counts()
    assert after["analysis_run"] == before["analysis_run"] + 1
    assert after["measurement"] == before["measurement"] + saved["measurements"]
    assert after["audit_log"] == before["audit_log"] + 1
    study = web.client.get(
        f"/api/v1/studies/{web.study_id('Study A')}", headers=web.auth("vic")
    ).json()
    assert {s["label"] for s in study["subjects"]} == {"H3122", "H3122-AR"}
    assert {s["kind"] for s in study["subjects"]} == {"cell_line"}
    run = web.client.get(f"/api/v1/runs/{saved['run_id']}", headers=web.auth("vic")).json()
    assert run["workflow"] == "dose.plate"
    assert {m["quantity"] for m in run["measurements"]} == {"ic50"}
    # the viewer of the study sees the saved result; bob (another study) does not
    assert web.client.get(f"/api/v1/results/{rid}", headers=web.auth("vic")).status_code == 200
    assert web.client.get(f"/api/v1/results/{rid}", headers=web.auth("bob")).status_code == 404


def _wait_job(web: WebEnv, job_id: str, user: str, timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = web.client.get(f"/api/v1/jobs/{job_id}", headers=web.auth(user)).json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still {job['status']} after {timeout} s")


def test_long_running_workflow_is_a_job_in_the_store(web: WebEnv, tmp_path: Path) -> None:
    table = dose_table(tmp_path / "dose.csv")
    r = web.client.post(
        "/api/v1/dose/fit",
        files={"input": ("dose.csv", table.read_bytes(), "text/csv")},
        data={"dose_col": "dose", "response_col": "response", "group_col": "line"},
        headers=web.auth("ana"),
    )
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    job = _wait_job(web, job_id, "ana")
    assert job["status"] == "done", job
    assert job["progress"] == 1.0
    assert job["parameters"]["input"] == "dose.csv"
    from kinresist.store.models import Job

    with web.store.session() as s:
        row = s.get(Job, job_id)
        assert row is not None
        assert row.status == "done"
        assert row.user_name == "ana"
    result = web.client.get(job["links"]["result"], headers=web.auth("ana")).json()
    direct = get_workflow("dose.fit")(
        input=table, dose_col="dose", response_col="response", group_col="line"
    ).to_dict()
    got = {f["group"]: f["ed50"]["estimate"] for f in result["fits"]}
    assert got == pytest.approx({f["group"]: f["ed50"]["estimate"] for f in direct["fits"]})
    # jobs are private to their owner (and admins)
    assert web.client.get(f"/api/v1/jobs/{job_id}", headers=web.auth("bob")).status_code == 404
    assert web.client.get(f"/api/v1/jobs/{job_id}", headers=web.auth("admin")).status_code == 200
    # ?wait=true answers at once
    r = web.client.post(
        "/api/v1/dose/fit?wait=true",
        files={"input": ("dose.csv", table.read_bytes(), "text/csv")},
        data={"dose_col": "dose", "response_col": "response", "group_col": "line"},
        headers=web.auth("ana"),
    )
    assert r.status_code == 200
    assert {f["group"] for f in r.json()["fits"]} == {"P", "R"}


@sqlite_only
def test_failed_job_keeps_the_one_line_message(web: WebEnv, tmp_path: Path) -> None:
    table = dose_table(tmp_path / "dose.csv")
    r = web.client.post(
        "/api/v1/dose/fit",
        files={"input": ("dose.csv", table.read_bytes(), "text/csv")},
        data={"dose_col": "concentration", "response_col": "response"},
        headers=web.auth("ana"),
    )
    assert r.status_code == 202
    job = _wait_job(web, r.json()["job_id"], "ana")
    assert job["status"] == "failed"
    assert job["error"].startswith("InputError: ")
    assert "concentration" in job["error"]
    assert "/work/" not in job["error"]  # the server's private folders are not shown


@sqlite_only
def test_synergy_score(web: WebEnv, tmp_path: Path) -> None:
    block = synergy_table(tmp_path / "block.csv")
    r = web.client.post(
        "/api/v1/synergy/score?wait=true",
        files={"input": ("block.csv", block.read_bytes(), "text/csv")},
        data={"methods": "zip,bliss"},
        headers=web.auth("ana"),
    )
    assert r.status_code == 200, r.text
    direct = get_workflow("synergy.score")(input=block, methods="zip,bliss").to_dict()
    got = {(b["block_id"], m): v for b in r.json()["blocks"] for m, v in b["scores"].items()}
    want = {(b["block_id"], m): v for b in direct["blocks"] for m, v in b["scores"].items()}
    assert got == pytest.approx(want, rel=1e-12)
    assert got["1", "zip"] > 0  # the generated block carries a synergy term


def test_ddpcr_analyze_zip_upload(web: WebEnv, tmp_path: Path) -> None:
    archive, results, amap = ddpcr_zip(tmp_path)
    r = web.client.post(
        "/api/v1/ddpcr/analyze",
        files=[
            ("plate", ("export.zip", archive, "application/zip")),
            ("results", ("results.csv", results.read_bytes(), "text/csv")),
            ("assay_map", ("assays.csv", amap.read_bytes(), "text/csv")),
        ],
        headers=web.auth("ana"),
    )
    assert r.status_code == 200, r.text
    zpath = tmp_path / "export.zip"
    zpath.write_bytes(archive)
    direct = get_workflow("ddpcr.analyze")(plate=[zpath], results=results, assay_map=amap)
    got = [(m["sample"], m["quantity"], m["value"]) for m in r.json()["measurements"]]
    want = [(m.sample, m.quantity, m.value) for m in direct.measurements]
    assert got == want
    assert any(m["alteration"] == "ALK G1202R" for m in r.json()["measurements"])
    # saved for a patient in the same request; the timeline of the store then has it
    r = web.client.post(
        "/api/v1/ddpcr/analyze",
        files=[
            ("plate", ("export.zip", archive, "application/zip")),
            ("results", ("results.csv", results.read_bytes(), "text/csv")),
            ("assay_map", ("assays.csv", amap.read_bytes(), "text/csv")),
        ],
        data={"study": "Study A", "subject": "PT-7", "collected": "2025-01-14"},
        headers=web.auth("ana"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["web"]["recorded"]["study"] == "Study A"


def test_study_import_from_the_data_folder_and_timeline(web: WebEnv) -> None:
    patient_study(web.data_dir / "pt9")
    body = {"manifest": "pt9/manifest.csv", "therapy": "pt9/therapy.csv", "study": "Study A"}
    # a viewer may not import; an analyst may not import into a study that is not theirs
    assert (
        web.client.post("/api/v1/study/import", json=body, headers=web.auth("vic")).status_code
        == 403
    )
    r = web.client.post(
        "/api/v1/study/import", json={**body, "study": "Study B"}, headers=web.auth("ana")
    )
    assert r.status_code == 404
    r = web.client.post("/api/v1/study/import", json=body, headers=web.auth("ana"))
    assert r.status_code == 200, r.text
    timeline = web.client.get("/api/v1/subjects/PT-9/timeline", headers=web.auth("vic"))
    assert timeline.status_code == 200, timeline.text
    t = timeline.json()
    assert t["subject"] == "PT-9"
    assert {a["alteration"] for a in t["alterations"]} == {"ALK G1202R", "ALK EML4-ALK v3"}
    assert "molecular_progression" in {a["kind"] for a in t["alerts"]}
    assert (
        web.client.get("/api/v1/subjects/PT-9/timeline", headers=web.auth("bob")).status_code == 404
    )
    audit = web.client.get("/admin/audit", headers=web.auth("admin"))
    assert "study.import" in audit.text


@sqlite_only
def test_kb_search(web: WebEnv) -> None:
    r = web.client.get("/api/v1/kb/search", params={"q": "ALK G1202R"}, headers=web.auth("vic"))
    assert r.status_code == 200
    found = r.json()
    assert found["kind"] == "alteration"
    calls = {d["drug"]: d["call"] for d in found["drugs"]}
    assert calls["alectinib"] == "resistant"
    assert any(e.get("pubmed_url") for d in found["drugs"] for e in d["evidence"])
    drug = web.client.get("/api/v1/kb/search", params={"q": "lorlatinib"}, headers=web.auth("vic"))
    assert drug.json()["kind"] == "drug"
    page = web.client.get("/kb", params={"q": "ALK G1202R"}, headers=web.auth("vic"))
    assert page.status_code == 200
    assert "pubmed.ncbi.nlm.nih.gov" in page.text


@sqlite_only
def test_every_workflow_has_an_analyse_page(web: WebEnv) -> None:
    from kinresist.core.registry import workflows
    from kinresist.web.forms import web_params

    for wf in workflows().values():
        page = web.client.get(f"/analyse/{wf.name}", headers=web.auth("ana"))
        assert page.status_code == 200, wf.name
        for p in web_params(wf):
            assert f'name="{p.name}"' in page.text, (wf.name, p.name)
        for spec in wf.inputs:
            assert f'name="{spec.name}"' in page.text, (wf.name, spec.name)
