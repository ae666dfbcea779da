"""Request and response models of the JSON API (pydantic; the trust boundary).

Split by role as in the FastAPI template: ``*Public`` is what a response may show (never a
password hash or a token digest), ``*Request`` what a client may send. Workflow results are the
CLI's JSON (the result envelope + body, documented in docs/formats.md) plus a ``web`` member.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = [
    "ErrorPublic",
    "HealthPublic",
    "InterpretRequest",
    "JobAccepted",
    "JobPublic",
    "RecordPublic",
    "SaveRequest",
    "StudyPublic",
    "SubjectPublic",
    "WorkflowPublic",
]


class ErrorPublic(BaseModel):
    """Every 4xx/5xx answer: the CLI's one-line message and where the problem is."""

    error: str = Field(examples=["InputError"])
    message: str = Field(
        examples=["InputError: calls.vcf, line 7: expected 8+ tab-separated columns"]
    )
    path: str | None = None
    line: int | None = None
    column: str | None = None


class HealthPublic(BaseModel):
    status: Literal["ok"]
    version: str
    kb_version: str | None
    store: Literal["ok", "unreachable"]
    schema_revision: str | None


class ParamPublic(BaseModel):
    name: str
    type: str
    required: bool
    multiple: bool
    default: Any = None
    choices: list[str] | None = None
    help: str = ""


class InputPublic(BaseModel):
    name: str
    kind: str
    required: bool
    multiple: bool
    help: str = ""


class WorkflowPublic(BaseModel):
    name: str
    help: str
    endpoint: str
    long_running: bool
    records: bool
    inputs: list[InputPublic]
    params: list[ParamPublic]


class RecordPublic(BaseModel):
    """What saving a result wrote."""

    run_id: int
    study: str
    subjects: list[str]
    samples: list[str]
    measurements: int
    findings: int


class SaveRequest(BaseModel):
    study: str
    subject: str | None = None
    sample: str | None = None
    sample_type: str | None = None
    collected: str | None = Field(None, description="ISO date or date-time")


class InterpretRequest(BaseModel):
    """``POST /api/v1/interpret`` with typed findings instead of files."""

    findings: list[str] = Field(examples=[["ALK G1202R", "EML4-ALK v3"]])
    prior_therapy: str | None = Field(None, examples=["alectinib"])
    sample: str | None = None
    cell_line: bool = False
    sample_type: str | None = None
    study: str | None = None
    subject: str | None = None


class JobPublic(BaseModel):
    id: str
    workflow: str
    status: Literal["queued", "running", "done", "failed"]
    progress: float
    message: str
    parameters: dict[str, Any]
    result_id: str | None = None
    error: str | None = None
    created: str | None = None
    updated: str | None = None
    links: dict[str, str] = Field(default_factory=dict)


class JobAccepted(BaseModel):
    job_id: str
    status: Literal["queued"]
    links: dict[str, str]


class StudyPublic(BaseModel):
    id: int
    name: str
    description: str
    subjects: int
    runs: int


class SubjectPublic(BaseModel):
    id: int
    label: str
    kind: str
    samples: int
