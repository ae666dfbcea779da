"""``kinresist demo``: the whole workbench on generated data, one command, one store, one index.

What the demo must show (the monitoring issue): a patient on crizotinib -> alectinib ->
lorlatinib with five draws (ddPCR amplitude files + NGS findings), ALK G1202R below its LoD at the
first draw, emerging on alectinib before the switch; a parental and a resistant line with plates
and IC50 shifts; one synergy block; everything imported through the manifest into one SQLite
store; one HTML index linking the timeline, the interpretations, the dose and synergy reports.
The biology of the calls is the knowledge base's (Lin 2017 Table 2: G1202R resistant to
alectinib, sensitive to lorlatinib).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from kinresist.store import open_store


def test_demo_builds_the_workbench(cli, tmp_path: Path) -> None:
    out = tmp_path / "demo"
    r = cli(["demo", "--out-dir", out])
    assert r.exit_code == 0, r.stderr
    index = Path(r.stdout.strip().splitlines()[-1])
    assert index == (out / "index.html").resolve()
    page = index.read_text(encoding="utf-8")
    assert "Research use only" in page or "research use only" in page.lower()
    hrefs = re.findall(r'href="([^"]+)"', page)
    for name in ("timeline", "interpretations", "dose", "synergy", "lineage"):
        assert f"{name}.html" in hrefs
        html = (out / f"{name}.html").read_text(encoding="utf-8")
        assert re.search(r"<script[^>]*\bsrc\s*=", html) is None  # self-contained pages
    assert "PT-001-D4" in (out / "interpretations.html").read_text(encoding="utf-8")

    db = out / "demo.sqlite"
    with open_store(str(db)) as store:
        counts = store.counts()
        imports = store.runs(kind="study.import")
    assert counts["sample"] == 8  # 5 draws + H3122-p8, H3122-AR-p24, H3122-AR-p26
    assert counts["subject"] == 4  # PT-001, H3122, H3122-AR, H3122-AR-c3
    assert counts["therapy_line"] == 3
    assert counts["lineage_event"] == 8
    assert len(imports) == 1
    assert len(imports[0].outputs["body"]["rows"]) == 14

    r = cli(["timeline", "PT-001", "--db", db])
    assert r.exit_code == 0, r.stderr
    t = json.loads(r.stdout)
    assert [x["drug"] for x in t["therapy"]] == ["crizotinib", "alectinib", "lorlatinib"]
    g = next(a for a in t["alterations"] if a["alteration"] == "ALK G1202R")
    d1 = [p for p in g["series"] if p["sample"] == "PT-001-D1"]
    assert [(p["assay"], p["detected"], p["value"]) for p in d1] == [("ddpcr", False, None)]
    assert d1[0]["lod"] > 0
    assert d1[0]["display"].startswith("below LoD (")
    assert {p["assay"] for p in g["series"]} == {"ddpcr", "ngs"}
    alerts = {(a["kind"], a["sample"]) for a in t["alerts"] if a["alteration"] == "ALK G1202R"}
    assert ("new_detection", "PT-001-D2") in alerts  # confirmed by NGS in the same draw
    assert ("molecular_progression", "PT-001-D2") in alerts
    assert ("rising", "PT-001-D4") in alerts
    prog = next(a for a in t["alerts"] if a["kind"] == "molecular_progression")
    assert prog["drug"] == "alectinib"
    assert prog["lead_time_days"] > 0
    assert prog["collected"] < "2025-02-28"
    assert not any(a["sample"] == "PT-001-D5" for a in t["alerts"])  # falls on lorlatinib
    d4 = next(d for d in t["draws"] if d["sample"] == "PT-001-D4")
    calls = {c["drug"]: c["call"] for c in d4["interpretation"]["drugs"]}
    assert calls["lorlatinib"] == "sensitive"
    assert calls["alectinib"] == "resistant"
    d3 = next(d for d in t["draws"] if d["sample"] == "PT-001-D3")
    assert d3["flags"] == ["edta_processing_over_4h"]
    lab = {x["drug"]: x for x in g["lab"]}
    assert lab["alectinib"]["line"] == "H3122-AR"
    assert lab["alectinib"]["fold_shift"] > 5

    # rerunning replaces the demo store rather than duplicating it
    assert cli(["demo", "--out-dir", out]).exit_code == 0
    with open_store(str(db)) as store:
        assert store.counts() == counts
