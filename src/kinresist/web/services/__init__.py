"""The web app's service layer over the project store (the template's ``crud.py``).

Every query that returns study data takes the :class:`~kinresist.web.auth.Principal` and
answers :class:`NotFound` for a study the user does not belong to, exactly as for one that does
not exist (admins and the single-user mode see every study). Writes go through
:meth:`Store.write` (one transaction, waits for a busy SQLite lock); results are recorded by
:func:`kinresist.core.record.record_in` in the same transaction as their audit-log row.
"""

from __future__ import annotations

from kinresist.web.services._common import (
    AccessDenied,
    NotFound,
    audit,
    audit_in,
    audit_rows,
)
from kinresist.web.services.accounts import (
    add_user,
    authenticate,
    create_token,
    grant,
    principal_for_session,
    principal_for_token,
    revoke,
    revoke_token,
    session_fingerprint,
    set_password,
    set_role,
    tokens,
    user_count,
    users,
)
from kinresist.web.services.jobs import (
    create_job,
    fail_orphaned_jobs,
    job,
    job_row,
    jobs,
    update_job,
)
from kinresist.web.services.records import (
    check_study_access,
    delete_run,
    save_result,
)
from kinresist.web.services.studies import (
    create_study,
    measurements_by_alteration,
    run,
    sample,
    studies,
    study,
    study_by_name,
    study_names,
    subject,
    subject_by_label,
)

__all__ = [
    "AccessDenied",
    "NotFound",
    "add_user",
    "audit",
    "audit_in",
    "audit_rows",
    "authenticate",
    "check_study_access",
    "create_job",
    "create_study",
    "create_token",
    "delete_run",
    "fail_orphaned_jobs",
    "grant",
    "job",
    "job_row",
    "jobs",
    "measurements_by_alteration",
    "principal_for_session",
    "principal_for_token",
    "revoke",
    "revoke_token",
    "run",
    "sample",
    "save_result",
    "session_fingerprint",
    "set_password",
    "set_role",
    "studies",
    "study",
    "study_by_name",
    "study_names",
    "subject",
    "subject_by_label",
    "tokens",
    "update_job",
    "user_count",
    "users",
]
