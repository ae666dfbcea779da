"""Run a benchmark's command in a child process and measure it: wall and CPU seconds and the
child's own peak RSS.

Why a launcher. Linux carries a process's peak-RSS mark across ``fork``/``exec``: a child
spawned by a benchmark that holds a million curves in memory reports (``ru_maxrss``) the
benchmark's RSS, not its own (a CLI run that peaks at 0.7 GB read as 1.1 GB). So the command
is started by a small launcher process (a bare Python, ~25 MB), itself started first; the
launcher times the command (from its spawn to its exit, so the launcher's own start is not
counted) and reaps it with ``wait4``, whose ``ru_maxrss`` is then the command's own.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

__all__ = ["run_measured"]

_LAUNCHER = """
import json, os, subprocess, sys, time
cmd, env, out, err = json.loads(sys.argv[1])
with open(out, "wb") as fo, open(err, "wb") as fe:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=fo, stderr=fe, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
print(json.dumps({
    "wall": wall,
    "cpu": usage.ru_utime + usage.ru_stime,
    "rss_mb": usage.ru_maxrss / 1024,
    "returncode": os.waitstatus_to_exitcode(status),
}))
"""


def run_measured(
    cmd: list[str], *, env: dict[str, str] | None = None, workdir: Path | None = None
) -> dict:
    """Run ``cmd``; return ``wall``, ``cpu`` (user + system, all threads), ``rss_mb`` (the
    command's own peak), ``returncode``, ``stdout`` and ``stderr`` (text)."""
    import tempfile

    with tempfile.TemporaryDirectory(dir=workdir, prefix="bench-proc-") as tmp:
        out, err = Path(tmp, "stdout"), Path(tmp, "stderr")
        spec = json.dumps([list(map(str, cmd)), env, str(out), str(err)])
        done = subprocess.run(
            [sys.executable, "-S", "-c", _LAUNCHER, spec], capture_output=True, text=True
        )
        if done.returncode != 0:
            msg = f"benchmark launcher failed: {done.stderr.strip()[-2000:]}"
            raise RuntimeError(msg)
        rec = json.loads(done.stdout.strip().splitlines()[-1])
        rec["stdout"] = out.read_text(errors="replace")
        rec["stderr"] = err.read_text(errors="replace")
    return rec
