"""Access and input safety of the web app, on a real app and store (SQLite and PostgreSQL):
401 without credentials, 404 for another study's data, 403 without a CSRF token or the role,
4xx for paths leaving the data folder, 413 for oversize uploads and zip bombs, bad input answered
with the CLI's one-line message and nothing stored, rate-limited logins, hashed secrets."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from web_helpers import PASSWORD, WebEnv, csrf_of, login, make_settings, patient_study, sqlite_only

from kinresist.web.config import Settings
from kinresist.web.main import create_app

BAD_VCF = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\nchr2\tabc\t.\tC\n"


def _import_patient(web: WebEnv) -> None:
    patient_study(web.data_dir / "pt9")
    body = {"manifest": "pt9/manifest.csv", "therapy": "pt9/therapy.csv", "study": "Study A"}
    r = web.client.post("/api/v1/study/import", json=body, headers=web.auth("ana"))
    assert r.status_code == 200, r.text


def _subject_id(web: WebEnv, label: str) -> int:
    from kinresist.store.models import Subject

    with web.store.session() as s:
        return int(s.query(Subject).filter(Subject.label == label).one().id)


# -- 401 ----------------------------------------------------------------------------------
def test_api_without_credentials_is_401(web: WebEnv) -> None:
    web.client.cookies.clear()
    for method, url in (
        ("GET", "/api/v1/studies"),
        ("GET", "/api/v1/jobs/00000000-0000-0000-0000-000000000000"),
        ("GET", "/api/v1/subjects/PT-9/timeline"),
        ("POST", "/api/v1/interpret"),
        ("POST", "/api/v1/dose/fit"),
    ):
        r = web.client.request(method, url)
        assert r.status_code == 401, (method, url, r.status_code)
        assert r.json()["error"] == "Unauthorized"
        assert r.headers["www-authenticate"] == "Bearer"
    bad = web.client.get("/api/v1/studies", headers={"Authorization": "Bearer kr_not-a-token"})
    assert bad.status_code == 401
    # pages send the browser to the login form instead
    page = web.client.get("/studies", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login?next=")


# -- 404 for another study ---------------------------------------------------------------------
def test_other_studies_are_404_like_missing_ones(web: WebEnv) -> None:
    _import_patient(web)
    a = web.study_id("Study A")
    pid = _subject_id(web, "PT-9")
    for url in (f"/api/v1/studies/{a}", "/api/v1/subjects/PT-9/timeline"):
        mine = web.client.get(url, headers=web.auth("vic"))
        theirs = web.client.get(url, headers=web.auth("bob"))
        assert mine.status_code == 200, url
        assert theirs.status_code == 404, url
    missing = web.client.get("/api/v1/studies/999999", headers=web.auth("bob"))
    assert missing.status_code == 404
    assert missing.json() == web.client.get(f"/api/v1/studies/{a}", headers=web.auth("bob")).json()
    assert [
        s["name"] for s in web.client.get("/api/v1/studies", headers=web.auth("bob")).json()
    ] == ["Study B"]
    for url in (f"/studies/{a}", f"/subjects/{pid}"):
        assert web.client.get(url, headers=web.auth("bob")).status_code == 404
        assert web.client.get(url, headers=web.auth("vic")).status_code == 200
    # the store's own "no such subject" message lists every study's subjects: not shown here
    r = web.client.post(
        "/api/v1/timeline", json={"subject": "NOPE", "study": "Study B"}, headers=web.auth("bob")
    )
    assert r.status_code == 422
    assert "PT-9" not in r.json()["message"]


# -- 403 ---------------------------------------------------------------------------------------
@sqlite_only
def test_forms_without_csrf_token_are_403(web: WebEnv) -> None:
    web.client.cookies.clear()
    r = web.client.post("/login", data={"name": "ana", "password": PASSWORD})
    assert r.status_code == 403
    token = login(web.client, "ana")
    r = web.client.post("/studies", data={"name": "X"})
    assert r.status_code == 403
    r = web.client.post("/analyse/interpret", data={"finding": "ALK G1202R"})
    assert r.status_code == 403
    r = web.client.post(
        "/analyse/interpret", data={"finding": "ALK G1202R", "csrf_token": token + "x"}
    )
    assert r.status_code == 403
    # a browser session calling the API needs the header too (a Bearer token does not)
    r = web.client.post("/api/v1/interpret", json={"findings": ["ALK G1202R"]})
    assert r.status_code == 403
    r = web.client.post(
        "/api/v1/interpret", json={"findings": ["ALK G1202R"]}, headers={"X-CSRF-Token": token}
    )
    assert r.status_code == 200
    ok = web.client.post(
        "/analyse/interpret",
        data={"finding": "ALK G1202R", "csrf_token": token},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    assert ok.headers["location"].startswith("/results/")


def test_viewer_cannot_import_or_save_or_delete(web: WebEnv) -> None:
    r = web.client.post(
        "/api/v1/interpret", json={"findings": ["ALK G1202R"]}, headers=web.auth("vic")
    )
    assert r.status_code == 200  # viewers may look
    rid = r.json()["web"]["result_id"]
    before = web.store.counts()
    save = web.client.post(
        f"/api/v1/results/{rid}/save",
        json={"study": "Study A", "subject": "PT-1"},
        headers=web.auth("vic"),
    )
    assert save.status_code == 403
    assert "viewer" in save.json()["message"]
    direct = web.client.post(
        "/api/v1/interpret",
        json={"findings": ["ALK G1202R"], "study": "Study A", "subject": "PT-1"},
        headers=web.auth("vic"),
    )
    assert direct.status_code == 403
    assert web.store.counts() == before
    # an analyst saves (results are private to whoever ran them until saved); the viewer cannot
    # delete the run, an analyst of another study cannot see it, the analyst can (audited)
    assert web.client.get(f"/api/v1/results/{rid}", headers=web.auth("ana")).status_code == 404
    r = web.client.post(
        "/api/v1/interpret",
        json={"findings": ["ALK G1202R"], "study": "Study A", "subject": "PT-1", "sample": "S1"},
        headers=web.auth("ana"),
    )
    assert r.status_code == 200, r.text
    saved = r.json()["web"]["recorded"]
    assert saved["findings"] == 1
    assert (
        web.client.get(f"/api/v1/runs/{saved['run_id']}", headers=web.auth("vic")).status_code
        == 200
    )
    r = web.client.post(
        f"/api/v1/results/{r.json()['web']['result_id']}/save",
        json={"study": "Study A", "subject": "PT-1", "sample": "S1"},
        headers=web.auth("ana"),
    )
    assert r.status_code == 200, r.text
    run_id = r.json()["run_id"]
    assert web.client.delete(f"/api/v1/runs/{run_id}", headers=web.auth("vic")).status_code == 403
    assert web.client.delete(f"/api/v1/runs/{run_id}", headers=web.auth("bob")).status_code == 404
    gone = web.client.delete(f"/api/v1/runs/{run_id}", headers=web.auth("ana"))
    assert gone.status_code == 200
    assert gone.json()["findings"] == 1
    assert web.client.get(f"/api/v1/runs/{run_id}", headers=web.auth("ana")).status_code == 404
    assert web.store.counts()["finding"] == before["finding"] + 1
    from kinresist.web import services

    actions = [row["action"] for row in services.audit_rows(web.store)]
    assert actions[:3] == ["delete", "import", "import"]


# -- paths -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path", ["../secret.vcf", "/etc/passwd", "data/../../secret.vcf", "..\\secret.vcf", "C:\\x.vcf"]
)
@sqlite_only
def test_paths_outside_the_data_folder_are_refused(web: WebEnv, path: str) -> None:
    (web.data_dir.parent / "secret.vcf").write_text(
        "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    )
    r = web.client.post(
        "/api/v1/interpret", json={"vcf": path, "genome": "GRCh38"}, headers=web.auth("ana")
    )
    assert r.status_code == 422
    assert r.json()["message"].startswith("InputError: server path")


@sqlite_only
def test_symlink_escaping_the_data_folder_is_refused(web: WebEnv, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "calls.vcf").write_text("x")
    (web.data_dir / "link").symlink_to(outside, target_is_directory=True)
    r = web.client.post(
        "/api/v1/interpret",
        json={"vcf": "link/calls.vcf", "genome": "GRCh38"},
        headers=web.auth("ana"),
    )
    assert r.status_code == 422
    assert "outside the data folder" in r.json()["message"]
    # a path option (not an input) is confined the same way
    r = web.client.post(
        "/api/v1/ngs/align",
        json={"r1": "../r1.fastq", "reference": "ref.fa", "umi_length": 8, "out": "x.bam"},
        headers=web.auth("ana"),
    )
    assert r.status_code == 422
    assert "only paths inside the data folder" in r.json()["message"]


@sqlite_only
def test_uploaded_file_names_are_never_paths(web: WebEnv, tmp_path: Path) -> None:
    evil = "../../../../evil_upload.csv"
    r = web.client.post(
        "/api/v1/interpret",
        files={"table": (evil, b"gene,alteration\nALK,G1202R\n", "text/csv")},
        headers=web.auth("ana"),
    )
    assert r.status_code == 200, r.text
    assert [f["alteration"] for f in r.json()["findings"]] == ["G1202R"]
    uploads = web.settings.work_dir / "uploads"
    assert not [d for d in (uploads, *uploads.parents) if (d / "evil_upload.csv").exists()]
    assert list(tmp_path.rglob("evil_upload.csv")) == []
    # uploads are removed after the run
    assert list((web.settings.work_dir / "uploads").iterdir()) == []


# -- 413 ---------------------------------------------------------------------------------------
@sqlite_only
def test_oversize_uploads_are_413(web: WebEnv) -> None:
    big = b"x" * (6 * 1024 * 1024)  # the test server allows 5 MiB
    r = web.client.post(
        "/api/v1/interpret",
        files={"table": ("big.csv", big, "text/csv")},
        headers=web.auth("ana"),
    )
    assert r.status_code == 413
    assert r.json()["error"] == "UploadTooLarge"

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(7):
            yield b"y" * (1024 * 1024)

    r = web.client.post(
        "/api/v1/interpret",
        content=chunks(),
        headers={**web.auth("ana"), "Content-Type": "multipart/form-data; boundary=zzz"},
    )
    assert r.status_code == 413


@sqlite_only
def test_zip_bombs_are_413(web: WebEnv) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("A01_Amplitude.csv", b"0" * (30 * 1024 * 1024))  # 30 MiB -> ~30 KiB
    assert len(buf.getvalue()) < 1024 * 1024
    r = web.client.post(
        "/api/v1/ddpcr/analyze",
        files={"plate": ("export.zip", buf.getvalue(), "application/zip")},
        headers=web.auth("ana"),
    )
    assert r.status_code == 413
    assert "unpacks to" in r.json()["message"]


# -- bad input -----------------------------------------------------------------------------
def test_malformed_vcf_is_4xx_with_the_cli_message_and_nothing_stored(
    web: WebEnv, tmp_path: Path, cli
) -> None:
    bad = tmp_path / "bad.vcf"
    bad.write_text(BAD_VCF)
    expected = cli(["interpret", "--vcf", bad, "--genome", "GRCh38"])
    assert expected.exit_code == 2
    before = web.store.counts()
    r = web.client.post(
        "/api/v1/interpret",
        files={"vcf": ("bad.vcf", BAD_VCF.encode(), "text/plain")},
        data={"genome": "GRCh38", "study": "Study A", "subject": "PT-1"},
        headers=web.auth("ana"),
    )
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "InputError"
    # the CLI prints the path it was given; the web the uploaded file's name
    assert body["message"] == expected.stderr.strip().replace(str(bad), "bad.vcf")
    assert body["line"] == 2
    assert web.store.counts() == before
    # the page shows the same line, with the form kept
    token = login(web.client, "ana")
    page = web.client.post(
        "/analyse/interpret",
        files={"vcf": ("bad.vcf", BAD_VCF.encode(), "text/plain")},
        data={"genome": "GRCh38", "csrf_token": token},
    )
    assert page.status_code == 422
    assert body["message"].replace("'", "&#39;") in page.text
    assert web.store.counts() == before


@sqlite_only
def test_bad_option_values_name_the_option(web: WebEnv) -> None:
    r = web.client.post(
        "/api/v1/clinical/survival",
        files={"file": ("t.csv", b"t,e\n1,1\n", "text/csv")},
        data={"time_col": "t", "event_col": "e", "conf_level": "high", "conf_type": "log"},
        headers=web.auth("ana"),
    )
    assert r.status_code == 422
    assert r.json()["message"] == "InputError: option --conf-level: 'high' is not a number"
    r = web.client.post("/api/v1/interpret", json={"bogus": 1}, headers=web.auth("ana"))
    assert r.status_code == 422
    assert "unknown field 'bogus'" in r.json()["message"]


# -- accounts ---------------------------------------------------------------------------------
@sqlite_only
def test_login_is_rate_limited(web: WebEnv) -> None:
    web.client.cookies.clear()
    token = csrf_of(web.client.get("/login").text)
    for _ in range(web.settings.login_attempts):
        r = web.client.post(
            "/login", data={"csrf_token": token, "name": "ana", "password": "wrong"}
        )
        assert r.status_code == 401
    r = web.client.post("/login", data={"csrf_token": token, "name": "ana", "password": PASSWORD})
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) > 0
    # another account from another address is not affected by ana's lock-out... but this
    # client's address is: the limiter keys on both
    r = web.client.post("/login", data={"csrf_token": token, "name": "vic", "password": PASSWORD})
    assert r.status_code == 429


@sqlite_only
def test_secrets_are_stored_hashed(web: WebEnv) -> None:
    from kinresist.store.models import ApiToken, User

    with web.store.session() as s:
        users = {u.name: u.password_hash for u in s.query(User)}
        digests = {t.token_hash for t in s.query(ApiToken)}
    assert all(h.startswith("$argon2id$") for h in users.values())
    assert all(PASSWORD not in h for h in users.values())
    assert not set(web.tokens.values()) & digests
    import hashlib

    assert {hashlib.sha256(t.encode()).hexdigest() for t in web.tokens.values()} <= digests


@sqlite_only
def test_session_ends_with_a_password_change(web: WebEnv) -> None:
    login(web.client, "ana")
    assert web.client.get("/studies", follow_redirects=False).status_code == 200
    from kinresist.web import services

    services.set_password(web.store, "ana", "another long password", by="test")
    assert web.client.get("/studies", follow_redirects=False).status_code == 303


@sqlite_only
def test_pages_have_a_strict_content_security_policy(web: WebEnv) -> None:
    r = web.client.get("/login")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";", 1)[0]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "httponly" in r.headers["set-cookie"].lower()
    assert "samesite=lax" in r.headers["set-cookie"].lower()


# -- settings and single-user mode -------------------------------------------------------------
def test_single_user_mode_only_on_loopback_and_only_when_asked(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="binds only to loopback"):
        Settings(single_user=True, host="0.0.0.0", work_dir=tmp_path)
    with pytest.raises(ValidationError, match="secret key"):
        Settings(secret_key="changethis", host="127.0.0.1", work_dir=tmp_path)
    with pytest.raises(ValidationError, match="secret key"):
        Settings(secret_key="changethis", host="0.0.0.0", work_dir=tmp_path)
    Settings(secret_key="changethis", single_user=True, host="127.0.0.1", work_dir=tmp_path)
    generated = Settings(work_dir=tmp_path).session_secret()
    assert len(generated) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert Settings(work_dir=tmp_path).session_secret() == generated


def test_single_user_mode_answers_loopback_hosts_without_login(tmp_path: Path) -> None:
    settings = make_settings(str(tmp_path / "s.sqlite"), tmp_path, single_user=True)
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        assert client.get("/studies").status_code == 200
        assert client.get("/api/v1/studies").status_code == 200
        # cross-site pages cannot post without the CSRF token (or a custom header)
        r = client.post("/api/v1/interpret", json={"findings": ["ALK G1202R"]})
        assert r.status_code == 403
        r = client.post(
            "/api/v1/interpret",
            json={"findings": ["ALK G1202R"]},
            headers={"X-Requested-With": "script"},
        )
        assert r.status_code == 200
        rebound = client.get("/studies", headers={"Host": "attacker.example:8000"})
        assert rebound.status_code == 400


def test_cli_users_and_serve_refusals(tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "store.sqlite"
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    r = cli(["users", "add", "lab", "--role", "analyst", "--study", "S1", "--db", db])
    assert r.exit_code == 0, r.stderr
    r = cli(["users", "token", "lab", "--db", db])
    assert r.exit_code == 0
    token = r.stdout.strip()
    assert token.startswith("kr_")
    settings = make_settings(str(db), tmp_path)
    with TestClient(create_app(settings)) as client:
        r = client.get("/api/v1/studies", headers={"Authorization": f"Bearer {token}"})
        assert [s["name"] for s in r.json()] == ["S1"]
    r = cli(["serve", "--single-user", "--host", "0.0.0.0", "--db", db])
    assert r.exit_code == 2
    assert "loopback" in r.stderr
    assert r.stderr.count("\n") == 1
    r = cli(["serve", "--host", "0.0.0.0", "--db", tmp_path / "empty.sqlite"])
    assert r.exit_code == 2
    assert "no accounts" in r.stderr
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    r = cli(["users", "add", "x", "--db", db])
    assert r.exit_code == 2
    assert "shorter than 8" in r.stderr


@sqlite_only
def test_timeline_shows_lab_ic50s_of_the_users_studies_only(
    web: WebEnv, plate_files: tuple[Path, Path]
) -> None:
    """The timeline joins the lab's IC50s for the same alteration from every study; the web shows
    a user those of their own studies only."""
    _import_patient(web)
    plate, plate_map = plate_files
    r = web.client.post(
        "/api/v1/dose/plate",
        files={
            "plate": ("plate.csv", plate.read_bytes(), "text/csv"),
            "plate_map": ("map.csv", plate_map.read_bytes(), "text/csv"),
        },
        data={"genotype": "H3122-AR=ALK G1202R", "study": "Study B"},
        headers=web.auth("bob"),
    )
    assert r.status_code == 200, r.text

    def lab_rows(user: str) -> list[dict]:
        t = web.client.get("/api/v1/subjects/PT-9/timeline", headers=web.auth(user)).json()
        return [
            row for a in t["alterations"] if a["alteration"] == "ALK G1202R" for row in a["lab"]
        ]

    assert {row["study"] for row in lab_rows("admin")} == {"Study B"}
    assert lab_rows("vic") == []
    page = web.client.get(f"/subjects/{_subject_id(web, 'PT-9')}", headers=web.auth("vic"))
    assert page.status_code == 200
    assert "Study B" not in page.text


@sqlite_only
def test_admin_manages_studies_accounts_and_members_through_forms(web: WebEnv) -> None:
    token = login(web.client, "admin")
    r = web.client.post(
        "/studies", data={"name": "Study C", "csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303
    r = web.client.post(
        "/admin/users",
        data={"name": "cat", "password": "a long password", "role": "analyst", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    c = web.study_id("Study C")
    r = web.client.post(
        f"/studies/{c}/members", data={"user": "cat", "add": "1", "csrf_token": token}
    )
    assert r.status_code == 200
    assert "cat" in r.text
    audit = web.client.get("/admin/audit").text
    for action in ("study_create", "user_add", "member_add"):
        assert action in audit
    # an analyst may not manage accounts or create studies
    web.client.cookies.clear()
    token = login(web.client, "cat", "a long password")
    assert web.client.get("/admin/users").status_code == 403
    assert web.client.post("/studies", data={"name": "D", "csrf_token": token}).status_code == 403
    # tokens made on the account page work once shown, and can be revoked
    page = web.client.post("/account/tokens", data={"label": "pipe", "csrf_token": token})
    new = re.search(r"<pre>(kr_[^<]+)</pre>", page.text)
    assert new is not None
    bearer = {"Authorization": f"Bearer {new.group(1)}"}
    assert [s["name"] for s in web.client.get("/api/v1/studies", headers=bearer).json()] == [
        "Study C"
    ]
    token_id = re.search(r"/account/tokens/(\d+)/revoke", page.text)
    assert token_id is not None
    web.client.post(f"/account/tokens/{token_id.group(1)}/revoke", data={"csrf_token": token})
    assert web.client.get("/api/v1/studies", headers=bearer).status_code == 401
    # logging out ends the session
    web.client.post("/logout", data={"csrf_token": token})
    assert web.client.get("/studies", follow_redirects=False).status_code == 303
