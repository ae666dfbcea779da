"""Helpers of the web tests: accounts, settings, logging in, and generated instrument files
(a plate, a dose table, a synergy block, a ddPCR export, a patient study)."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from kinresist.store.api import Store
from kinresist.web.config import Settings

PASSWORD = "correct horse battery"
#: name -> (role, studies)
ACCOUNTS = {
    "admin": ("admin", ()),
    "ana": ("analyst", ("Study A",)),
    "vic": ("viewer", ("Study A",)),
    "bob": ("analyst", ("Study B",)),
}


@dataclass
class WebEnv:
    client: TestClient
    store: Store
    settings: Settings
    data_dir: Path
    tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"}

    def study_id(self, name: str) -> int:
        from kinresist.store.models import Study

        with self.store.session() as s:
            row = s.query(Study).filter(Study.name == name).one()
            return int(row.id)


def add_accounts(store: Store) -> dict[str, str]:
    from kinresist.web import services

    tokens = {}
    for name, (role, studies) in ACCOUNTS.items():
        services.add_user(store, name, PASSWORD, role=role, by="test")
        for study in studies:
            services.grant(store, name, study, by="test")
        tokens[name] = services.create_token(store, name, label="test")
    return tokens


def make_settings(store_url: str, tmp_path: Path, **extra: Any) -> Settings:
    data_dir = tmp_path / "data"
    data_dir.mkdir(exist_ok=True)
    values: dict[str, Any] = {
        "db": store_url,
        "work_dir": tmp_path / "work",
        "data_dir": data_dir,
        "job_executor": "thread",
        "max_upload_mb": 5,
        "max_unzipped_mb": 20,
    }
    values.update(extra)
    return Settings(**values)


#: For checks that do not depend on the store's engine: the ``web`` fixture on SQLite only.
sqlite_only = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)


def login(client: TestClient, name: str, password: str = PASSWORD) -> str:
    """Log in through the form; return the session's CSRF token."""
    page = client.get("/login")
    token = csrf_of(page.text)
    r = client.post(
        "/login",
        data={"csrf_token": token, "name": name, "password": password, "next": "/"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return csrf_of(client.get("/").text)


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m is not None, "no CSRF token in the page"
    return m.group(1)


# -- generated instrument files -------------------------------------------------------------
def dose_table(path: Path) -> Path:
    """A tidy dose table: two groups on exact LL.4 curves times 3 % noise (seeded)."""
    rng = np.random.default_rng(11)
    rows = ["dose,response,line"]
    for line, ic50 in (("P", 30.0), ("R", 400.0)):
        for d in 10_000.0 / 3.0 ** np.arange(9):
            for _ in range(3):
                y = 5 + 95 / (1 + (d / ic50) ** 1.2)
                rows.append(f"{d:.6g},{y * rng.lognormal(0, 0.03):.4f},{line}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def synergy_table(path: Path) -> Path:
    """A 6 x 6 SynergyFinder-style block (Bliss plus a synergy term, seeded noise)."""
    rng = np.random.default_rng(7)
    rows = ["block_id,drug1,drug2,conc1,conc2,response,conc_unit"]
    for c1 in (0.0, 3.0, 10.0, 30.0, 100.0, 300.0):
        for c2 in (0.0, 1.0, 3.0, 10.0, 30.0, 100.0):
            ia, ib = 0.92 * c1 / (c1 + 40.0), 0.6 * c2 / (c2 + 20.0)
            bliss = ia + ib - ia * ib
            inhibition = bliss + 0.35 * min(ia, ib) * (1.0 - bliss)
            viability = 100.0 * (1.0 - inhibition) + rng.normal(0.0, 1.5)
            rows.append(f"1,lorlatinib,trametinib,{c1:g},{c2:g},{viability:.2f},nM")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def ddpcr_zip(tmp_path: Path) -> tuple[bytes, Path, Path]:
    """A simulated duplex plate (QX amplitude CSVs, zipped), its results CSV and an assay map."""
    from kinresist.ddpcr.simulate import simulate_plate, write_plate

    plate = simulate_plate(
        rng=np.random.default_rng(2024),
        n_wells=3,
        droplets=12000,
        wt_copies_per_droplet=0.15,
        mutant_fractions=np.array([0.01, 0.01, 0.05]),
    )
    folder = tmp_path / "qx"
    files = write_plate(plate, folder, name="PT-7 plate_1")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in files:
            zf.write(f, arcname=f"export/{f.name}")
    results = tmp_path / "qx_results.csv"
    lines = ["Well,Sample,TargetType,Target,Positives,AcceptedDroplets"]
    for well, name in zip(plate.wells, ["PT-7-D1", "PT-7-D1", "PC"], strict=True):
        lines += [
            f"{well},{name},Ch1Unknown,ALK_G1202R_FAM,,",
            f"{well},{name},Ch2Unknown,ALK_WT_HEX,,",
        ]
    results.write_text("\n".join(lines) + "\n", encoding="utf-8")
    amap = tmp_path / "assays.csv"
    amap.write_text("target,alteration\nALK_G1202R_FAM,ALK G1202R\nALK_WT_HEX,wild type\n")
    return buf.getvalue(), results, amap


#: PT-9's plasma draws (NGS findings tables): (sample, collected, EML4-ALK v3 VAF, G1202R VAF)
DRAWS = (
    ("PT-9-D1", "2023-09-12", 0.012, None),
    ("PT-9-D2", "2024-03-19", 0.018, 0.0031),
    ("PT-9-D3", "2024-08-27", 0.035, 0.011),
    ("PT-9-D4", "2025-01-14", 0.060, 0.038),
    ("PT-9-D5", "2025-06-03", 0.006, 0.0022),
)


def patient_study(folder: Path) -> Path:
    """PT-9 on crizotinib, alectinib, then lorlatinib; ALK G1202R appears on alectinib, rises and
    falls on lorlatinib (a molecular-progression alert). Returns the folder with manifest.csv
    and therapy.csv (the manifest's files are relative to it)."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = ["subject,sample,collected,sample_type,timepoint,assay,file"]
    for i, (sample, day, fusion, g1202r) in enumerate(DRAWS):
        body = f"ALK,EML4-ALK v3,{fusion},{3000 + 150 * i}\n"
        if g1202r is not None:
            body += f"ALK,G1202R,{g1202r},{2900 + 140 * i}\n"
        (folder / f"{sample}.csv").write_text("gene,alteration,vaf,depth\n" + body)
        rows.append(f"PT-9,{sample},{day},plasma,D{i + 1},findings,{sample}.csv")
    (folder / "manifest.csv").write_text("\n".join(rows) + "\n")
    (folder / "therapy.csv").write_text(
        "subject,drug,start,end\n"
        "PT-9,crizotinib,2022-03-01,2023-05-31\n"
        "PT-9,alectinib,2023-06-05,2025-02-28\n"
        "PT-9,lorlatinib,2025-03-05,\n"
    )
    return folder
