"""``kinresist demo``: the README's main job works end to end on a fresh SQLite store."""

from __future__ import annotations

from pathlib import Path

from kinresist.store import open_store


def test_demo_builds_store_and_report(cli, tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = cli(["demo", "--out-dir", out])
    assert result.exit_code == 0, result.stderr
    report = Path(result.stdout.strip().splitlines()[-1])
    assert report.is_file()
    html = report.read_text(encoding="utf-8")
    for sample in ("DEMO-01-plasma", "DEMO-02-tissue", "DEMO-03-tissue"):
        assert sample in html
    assert "Research use only" in html
    assert "<script src=" not in html  # self-contained: nothing fetched from elsewhere

    with open_store(str(out / "demo.sqlite")) as store:
        counts = store.counts()
        assert counts["sample"] == 3
        assert counts["therapy_line"] == 3
        assert counts["analysis_run"] == 3
        found = {(f.sample.label, f.gene, f.alteration) for f in store.findings()}
    assert ("DEMO-01-plasma", "ALK", "L1196M") in found
    assert ("DEMO-02-tissue", "ALK", "G1202R") in found
    assert {("DEMO-03-tissue", "ALK", "L1198F"), ("DEMO-03-tissue", "ALK", "C1156Y")} <= found

    # rerunning replaces the demo store rather than duplicating it
    assert cli(["demo", "--out-dir", out]).exit_code == 0
    with open_store(str(out / "demo.sqlite")) as store:
        assert store.counts()["sample"] == 3


def test_demo_calls_are_the_expected_biology(tmp_path: Path) -> None:
    """Lin 2017 Table 2 / CIViC EID843-844: what each demo case must say."""
    import json

    from kinresist.demo import run_demo

    result = run_demo(tmp_path / "d")
    assert set(result.classifications.values()) == {"on_target_mutation"}
    store_url = str(result.store)
    with open_store(store_url) as store:
        outputs = {
            r.outputs["body"]["sample"]: r.outputs["body"] for r in store.runs(kind="interpret")
        }
    calls = {s: {d["drug"]: d["call"] for d in o["drugs"]} for s, o in outputs.items()}
    assert calls["DEMO-01-plasma"]["crizotinib"] == "resistant"  # L1196M: R (Lin 2017)
    assert calls["DEMO-01-plasma"]["lorlatinib"] == "sensitive"  # L1196M: T
    assert calls["DEMO-02-tissue"]["alectinib"] == "resistant"  # G1202R: R
    assert calls["DEMO-02-tissue"]["lorlatinib"] == "sensitive"  # G1202R: T^b
    assert calls["DEMO-03-tissue"]["lorlatinib"] == "resistant"  # L1198F+C1156Y: EID843
    assert calls["DEMO-03-tissue"]["crizotinib"] == "sensitive"  # EID844
    json.dumps(outputs)  # stored outputs are plain JSON
