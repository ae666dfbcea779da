"""Settings of the web app (pydantic; the FastAPI template's ``core/config.py`` rules).

Values come from ``kinresist serve`` options, else ``$KINRESIST_WEB_<NAME>`` environment
variables (``KINRESIST_WEB_SECRET_KEY``, ``KINRESIST_WEB_DATA_DIR``...), else the defaults.

Refused at start-up, with the fix in the message:

* ``single_user`` (no login) on anything but a loopback address: a lab server needs accounts;
* a known default or short secret key (``changethis``, fewer than 32 characters) outside
  single-user loopback mode. Without a key, a random one is generated once and kept (mode 0600)
  in the work folder, so sessions survive a restart.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

__all__ = ["DEFAULT_SECRETS", "ENV_PREFIX", "Settings", "is_loopback"]

ENV_PREFIX = "KINRESIST_WEB_"
#: Secrets that must never protect a real server.
DEFAULT_SECRETS = frozenset({"", "changethis", "changeme", "secret", "kinresist", "password"})
_MIN_SECRET = 32


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (127.0.0.0/8, ::1) or ``localhost``."""
    text = host.strip().strip("[]")
    if text.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def _default_work_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("kinresist", appauthor=False)) / "web"


class Settings(BaseModel):
    """Everything the app needs to start (see the module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    db: str | None = Field(None, description="Store: SQLite path or SQLAlchemy URL.")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    single_user: bool = Field(False, description="No login (loopback only).")
    secret_key: SecretStr | None = Field(None, description="Signs session cookies.")
    work_dir: Path = Field(default_factory=_default_work_dir)
    data_dir: Path | None = Field(None, description="Server data folder (BAMs, FASTA).")
    max_upload_mb: float = Field(512.0, gt=0)
    max_unzipped_mb: float = Field(4096.0, gt=0)
    session_hours: float = Field(12.0, gt=0)
    secure_cookies: bool = Field(False, description="Session cookie only over HTTPS.")
    login_attempts: int = Field(5, ge=1)
    login_window_s: float = Field(300.0, gt=0)
    job_workers: int = Field(2, ge=1)
    job_executor: Literal["process", "thread"] = "process"
    result_ttl_hours: float = Field(72.0, gt=0)

    @model_validator(mode="after")
    def _refuse_unsafe(self) -> Settings:
        loopback = is_loopback(self.host)
        if self.single_user and not loopback:
            msg = (
                f"single-user mode serves without login, so it binds only to loopback "
                f"(127.0.0.1, ::1, localhost), not {self.host!r}; add accounts with "
                "`kinresist users add NAME --role admin` and serve without --single-user"
            )
            raise ValueError(msg)
        if self.secret_key is not None:
            value = self.secret_key.get_secret_value()
            weak = value.lower() in DEFAULT_SECRETS or len(value) < _MIN_SECRET
            if weak and not (self.single_user and loopback):
                msg = (
                    f"the secret key is a default or shorter than {_MIN_SECRET} characters; set "
                    "KINRESIST_WEB_SECRET_KEY to a random value (python -c 'import secrets; "
                    "print(secrets.token_urlsafe(48))') or leave it unset to generate one"
                )
                raise ValueError(msg)
        if self.data_dir is not None and not self.data_dir.is_dir():
            msg = f"the data folder {self.data_dir} does not exist or is not a folder"
            raise ValueError(msg)
        return self

    @classmethod
    def from_env(cls, **given: Any) -> Settings:
        """Settings from ``given`` (None values ignored), then ``$KINRESIST_WEB_*``."""
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            env = os.environ.get(ENV_PREFIX + name.upper())
            if env is not None and env != "":
                values[name] = env
        if "db" not in values and os.environ.get("KINRESIST_DB"):
            values["db"] = os.environ["KINRESIST_DB"]
        values.update({k: v for k, v in given.items() if v is not None})
        return cls.model_validate(values)

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def max_unzipped_bytes(self) -> int:
        return int(self.max_unzipped_mb * 1024 * 1024)

    def session_secret(self) -> str:
        """The configured key, else the one kept in the work folder (created on first use)."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.work_dir / "secret_key"
        if path.is_file():
            text = path.read_text(encoding="utf-8").strip()
            if len(text) >= _MIN_SECRET:
                return text
        self.work_dir.mkdir(parents=True, exist_ok=True)
        text = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
        return text
