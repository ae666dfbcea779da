"""``kinresist serve``: the web app (FastAPI under uvicorn) over a project store.

On a laptop: ``kinresist serve --single-user`` (no login; loopback only). On a lab server:
``kinresist users add NAME --role admin`` first, then ``kinresist serve --host 0.0.0.0 --db
postgresql+psycopg://...``; any address but loopback requires accounts.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from kinresist.cli._common import DbOpt

__all__ = ["register", "serve_command"]


def serve_command(
    db: DbOpt = None,
    host: Annotated[
        str, typer.Option("--host", help="Address to bind (loopback by default).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port.")] = 8000,
    single_user: Annotated[
        bool,
        typer.Option(
            "--single-user",
            help="No login: this computer's user is the administrator "
            "(allowed only on a loopback address).",
        ),
    ] = False,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Server data folder (BAMs, FASTA): inputs may name files inside it.",
            file_okay=False,
            exists=True,
        ),
    ] = None,
    work_dir: Annotated[
        Path | None,
        typer.Option(
            "--work-dir", help="Folder for kept results and uploads (default: user data dir)."
        ),
    ] = None,
    max_upload_mb: Annotated[
        float | None,
        typer.Option("--max-upload-mb", help="Largest request body (MiB); default 512."),
    ] = None,
    job_workers: Annotated[
        int | None, typer.Option("--job-workers", help="Parallel background jobs; default 2.")
    ] = None,
    secure_cookies: Annotated[
        bool, typer.Option("--secure-cookies", help="Session cookie over HTTPS only (behind TLS).")
    ] = False,
) -> None:
    """Serve the workbench in a browser (and the JSON API under /api/v1, docs at /docs)."""
    from pydantic import ValidationError

    from kinresist.errors import InputError
    from kinresist.web.config import Settings

    try:
        settings = Settings.from_env(
            db=db,
            host=host,
            port=port,
            single_user=single_user or None,
            data_dir=data_dir,
            work_dir=work_dir,
            max_upload_mb=max_upload_mb,
            job_workers=job_workers,
            secure_cookies=secure_cookies or None,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first.get("loc", ()))
        text = str(first.get("msg", exc)).removeprefix("Value error, ")
        msg = f"{where + ': ' if where else ''}{text}"
        raise InputError(msg) from None
    if not settings.single_user:
        from kinresist.store import open_store
        from kinresist.web.services import user_count

        with open_store(settings.db) as store:
            n = user_count(store)
            url = store.url
        if n == 0 and not settings.loopback:
            msg = (
                f"no accounts in {url}: serving on {host} requires them; add one with "
                "`kinresist users add NAME --role admin` (or serve on 127.0.0.1 with --single-user)"
            )
            raise InputError(msg)
        if n == 0:
            sys.stderr.write(
                "no accounts yet: add one with `kinresist users add NAME --role admin`, or "
                "restart with --single-user\n"
            )
    import uvicorn

    from kinresist.web.main import create_app

    shown = f"[{host}]" if ":" in host else host
    sys.stderr.write(f"kinresist web app on http://{shown}:{port}/ (Ctrl+C stops it)\n")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
