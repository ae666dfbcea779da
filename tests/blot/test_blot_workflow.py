"""``kinresist blot simulate`` / ``blot analyze``: files in, JSON/TSV/HTML out, store, exit 2."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from kinresist.blot.workflow import WORKFLOWS
from kinresist.core.registry import get_workflow


@pytest.fixture
def experiment(tmp_path, cli):
    folder = tmp_path / "sim"
    r = cli(["blot", "simulate", "--write-to", folder, "--blots", "2", "--seed", "4"])
    assert r.exit_code == 0, r.stderr
    body = json.loads(r.stdout)
    return folder, body


def test_registered():
    assert get_workflow("blot.analyze") is WORKFLOWS[0]
    assert get_workflow("blot.simulate") is WORKFLOWS[1]
    assert WORKFLOWS[0].subject_kind == "cell_line"


def test_simulate_then_analyze_json(experiment, cli):
    folder, body = experiment
    assert body["images"] == ["blot1_pALK.tif", "blot1_ALK.tif", "blot2_pALK.tif", "blot2_ALK.tif"]
    images = [folder / n for n in body["images"]]
    r = cli(["blot", "analyze", *images, "--design", folder / "design.csv", "-f", "json"])
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["workflow"] == "blot.analyze"
    assert set(out["inputs"]) == {*body["images"], "design:design.csv"}
    assert all(v.startswith("sha256:") for v in out["inputs"].values())
    assert out["parameters"]["background"] == "lane_min_line"
    ratios = [m for m in out["measurements"] if m["quantity"] == "phospho_total_ratio"]
    assert len(ratios) == 12
    truth = {(t["blot"], t["dose"]): t["ratio"] for t in _truth_rows(cli, folder)}
    for m in ratios:
        dose = float(m["sample"].split("_")[-1].removesuffix("nM"))
        blot = "B1" if ratios.index(m) < 6 else "B2"
        assert m["value"] == pytest.approx(truth[(blot, dose)], rel=0.05)


def _truth_rows(cli, folder):
    r = cli(
        [
            "blot",
            "simulate",
            "--write-to",
            folder.parent / "again",
            "--blots",
            "2",
            "--seed",
            "4",
            "-f",
            "tsv",
        ]
    )
    assert r.exit_code == 0
    lines = [ln for ln in r.stdout.splitlines() if ln and not ln.startswith("#")]
    head = lines[0].split("\t")
    rows = [dict(zip(head, ln.split("\t"), strict=True)) for ln in lines[1:]]
    return [{"blot": x["blot"], "dose": float(x["dose"]), "ratio": float(x["ratio"])} for x in rows]


def test_html_tsv_figures_and_store(experiment, cli, tmp_path):
    folder, body = experiment
    images = [folder / n for n in body["images"]]
    db = tmp_path / "store.sqlite"
    figs = tmp_path / "figs"
    r = cli(
        [
            "blot", "analyze", *images, "--design", folder / "design.csv", "-f", "html",
            "-o", tmp_path / "r.html", "--figures", figs, "--db", db, "--study", "S1",
        ]
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<svg" in html
    assert "p-ALK/ALK" in html
    names = sorted(p.name for p in figs.iterdir())
    assert "image_blot1_pALK.tif.svg" in names or "image_blot1_pALK_tif.svg" in names
    assert any(n.startswith("fold_change_phospho_total") for n in names)
    assert "recorded run" in r.stderr
    from kinresist.store import open_store

    with open_store(str(db)) as store:
        rows = [
            m for m in store.measurements(target="p-ALK/ALK") if m.quantity == "phospho_total_ratio"
        ]
        assert len(rows) == 12
        m = next(x for x in rows if x.attributes["dose"] == 100.0 and x.attributes["blot"] == "B2")
        assert m.sample.label == "H3122_criz_100nM"
        assert m.attributes["treatment"] == "crizotinib"
        assert m.attributes["dose_unit"] == "nM"
        subjects = {s.subject.label for s in store.samples(study="S1")}
        assert subjects == {"H3122"}
    r = cli(["blot", "analyze", *images, "--design", folder / "design.csv", "-f", "tsv"])
    assert r.exit_code == 0
    assert r.stdout.startswith("## ")
    assert "\tvolume\t" in next(ln for ln in r.stdout.splitlines() if not ln.startswith("#"))


def test_bad_inputs_exit_2_with_a_message(tmp_path, cli, experiment):
    folder, body = experiment
    design = folder / "design.csv"
    not_image = tmp_path / "blot.tif"
    not_image.write_text("hello", encoding="utf-8")
    r = cli(["blot", "analyze", not_image])
    assert r.exit_code == 2
    assert "not a readable image" in r.stderr
    assert "Traceback" not in r.stderr

    photo = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (90, 120, 3), dtype=np.uint8)).save(
        photo
    )
    r = cli(["blot", "analyze", photo])
    assert r.exit_code == 2
    assert "colour image" in r.stderr

    one = folder / body["images"][0]
    r = cli(["blot", "analyze", one, "--lanes", "1000"])
    assert r.exit_code == 2
    assert "1000 lanes do not fit an image 358 pixels wide" in r.stderr

    text = design.read_text(encoding="utf-8").splitlines()
    bad = tmp_path / "design_gap.csv"
    bad.write_text("\n".join([*text[:4], "", *text[4:]]) + "\n", encoding="utf-8")
    images = [folder / n for n in body["images"]]
    r = cli(["blot", "analyze", *images, "--design", bad])
    assert r.exit_code == 2
    assert "line 5: empty design row" in r.stderr

    r = cli(["blot", "analyze", one, "--background", "tophat(3)"])
    assert r.exit_code == 2
    assert "unknown background method" in r.stderr
