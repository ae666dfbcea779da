"""Scale-out: run a pure function over ordered chunks, locally or on a Dask cluster.

A screen or cohort is cut into chunks (blocks of a synergy screen, curves of a dose table,
samples of an NGS run); one pure function turns a chunk into its result. :func:`map_ordered`
runs that function in this process, or, given the address of a ``dask.distributed``
scheduler, on the cluster's workers, and yields the results **in the chunks' order**, so that
whatever is written from them is identical to the local run: the same engine runs on the same
data on each worker (the workers must run the same kinresist, numpy, scipy and numba; this is
checked when connecting)::

    from kinresist.core.distribute import map_ordered
    for table in map_ordered(score_chunk, read_chunks(path), dask="tcp://10.0.0.5:8786"):
        writer.write(table)                  # chunk 0, 1, 2, ... whatever finished first

Memory stays bounded: chunks are read lazily and at most ``window`` of them (default: twice
the cluster's threads) are in flight; a finished chunk waits only for its predecessors.

On the command line, workflows that declare ``distributable=True`` take ``--dask ADDRESS``
(default ``$KINRESIST_DASK``); without one, everything runs locally. A scheduler that cannot
be reached, a cluster without workers, or workers with other versions stop the run before any
work with an :class:`~kinresist.errors.InputError` (exit code 2) that says what to fix. A
cluster that fails during the run raises :class:`~kinresist.errors.ExternalToolError`.
See docs/scale-out.md.
"""

from __future__ import annotations

import os
import socket
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from kinresist.errors import ExternalToolError, InputError

if TYPE_CHECKING:
    from types import TracebackType

__all__ = [
    "DASK_ENV",
    "DaskCluster",
    "dask_address",
    "environment",
    "map_ordered",
]

T = TypeVar("T")
R = TypeVar("R")

#: Environment variable naming the scheduler when ``--dask`` is not given.
DASK_ENV = "KINRESIST_DASK"
#: Seconds to wait for the scheduler and for its first worker (``$KINRESIST_DASK_TIMEOUT``).
DEFAULT_TIMEOUT = 10.0

#: Packages whose versions must agree between this process and every worker.
_PINNED = ("kinresist", "numpy", "scipy", "numba", "pandas", "pyarrow")


def dask_address(given: str | None = None) -> str | None:
    """The scheduler address to use: ``given``, else ``$KINRESIST_DASK``, else None (local)."""
    address = (given or os.environ.get(DASK_ENV) or "").strip()
    return address or None


def _timeout(timeout: float | None) -> float:
    if timeout is not None:
        return float(timeout)
    text = os.environ.get("KINRESIST_DASK_TIMEOUT", "")
    try:
        return float(text) if text else DEFAULT_TIMEOUT
    except ValueError:
        msg = f"$KINRESIST_DASK_TIMEOUT={text!r} is not a number of seconds (e.g. 30)"
        raise InputError(msg) from None


def environment() -> dict[str, str]:
    """Versions of the packages whose numbers the workers must share with the client."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in _PINNED:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "absent"
    return out


def _unreachable(address: str, why: str, timeout: float) -> InputError:
    msg = (
        f"cannot reach the Dask scheduler at {address!r} ({why}, waited {timeout:g} s); expected "
        "the address a running `dask scheduler` prints (tcp://HOST:8786). Check that the "
        "scheduler runs and that this machine can reach that host and port (firewall, VPN), "
        f"fix --dask / ${DASK_ENV}, or leave both unset to run locally"
    )
    return InputError(msg)


def _probe(address: str, timeout: float) -> None:
    """Fail fast (and quietly) when a TCP scheduler address does not accept connections."""
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, location = parse_address(address)
    except ValueError as exc:
        msg = f"--dask {address!r} is not a scheduler address ({exc}); expected tcp://HOST:PORT"
        raise InputError(msg) from None
    if scheme != "tcp":
        return  # tls/ws/ucx: the client reports problems itself
    try:
        host, port = parse_host_port(location, default_port=8786)
    except ValueError as exc:
        msg = f"--dask {address!r} is not a scheduler address ({exc}); expected tcp://HOST:PORT"
        raise InputError(msg) from None
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            pass
    except OSError as exc:
        raise _unreachable(address, exc.strerror or str(exc), timeout) from None


class DaskCluster:
    """A connection to a running Dask scheduler (a context manager; closed on exit).

    Parameters
    ----------
    address
        ``tcp://HOST:PORT`` of the scheduler (``dask scheduler`` prints it).
    timeout
        Seconds to wait for the scheduler and its first worker (default
        ``$KINRESIST_DASK_TIMEOUT`` or 10).
    """

    def __init__(self, address: str, *, timeout: float | None = None) -> None:
        self.address = address
        self.timeout = _timeout(timeout)
        self._client: Any = None

    def __enter__(self) -> DaskCluster:
        try:
            from distributed import Client
        except ImportError:  # pragma: no cover - dask[distributed] is a dependency
            msg = "--dask needs dask.distributed: pip install 'dask[distributed]>=2024.8'"
            raise InputError(msg) from None
        _probe(self.address, self.timeout)
        try:
            self._client = Client(self.address, timeout=self.timeout, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise _unreachable(self.address, str(exc), self.timeout) from None
        except ValueError as exc:
            msg = f"--dask {self.address!r} is not a scheduler address ({exc}); expected tcp://HOST:PORT"
            raise InputError(msg) from None
        try:
            self._check_workers()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            client.close()

    @property
    def client(self) -> Any:
        if self._client is None:
            msg = "DaskCluster is not connected (use it as a context manager)"
            raise RuntimeError(msg)
        return self._client

    def _check_workers(self) -> None:
        try:
            self.client.wait_for_workers(1, timeout=self.timeout)
        except TimeoutError:
            msg = (
                f"the Dask scheduler at {self.address!r} has no workers (waited "
                f"{self.timeout:g} s); start some with `dask worker {self.address}` on the "
                "machines that should compute, or leave --dask unset to run locally"
            )
            raise InputError(msg) from None
        here = environment()
        try:
            theirs: dict[str, dict[str, str]] = self.client.run(environment)
        except Exception as exc:
            msg = (
                f"the Dask workers at {self.address!r} cannot run kinresist ({type(exc).__name__}: "
                f"{exc}); install the same kinresist ({here['kinresist']}) in every worker's "
                "environment"
            )
            raise InputError(msg) from exc
        for worker, env in sorted(theirs.items()):
            diff = {k: (env.get(k, "absent"), v) for k, v in here.items() if env.get(k) != v}
            if diff:
                listed = ", ".join(f"{k} {w} (here {h})" for k, (w, h) in sorted(diff.items()))
                msg = (
                    f"Dask worker {worker} runs {listed}; results must equal the local run, so "
                    "every worker needs the same versions: install them in the workers' "
                    "environment"
                )
                raise InputError(msg)

    @property
    def n_threads(self) -> int:
        """Threads over all workers (at least 1)."""
        return max(1, sum(self.client.nthreads().values()))

    def describe(self) -> str:
        workers = self.client.nthreads()
        return f"Dask {self.address}: {len(workers)} workers, {sum(workers.values())} threads"

    def map(
        self, func: Callable[[T], R], chunks: Iterable[T], *, window: int | None = None
    ) -> Iterator[R]:
        """``func`` over ``chunks`` on the workers, yielded in the chunks' order."""
        client = self.client
        limit = max(1, window or 2 * self.n_threads)
        pending: deque[tuple[Any, Any]] = deque()
        source = iter(chunks)

        def submit() -> bool:
            chunk = next(source, _END)
            if chunk is _END:
                return False
            (data,) = client.scatter([chunk], hash=False)  # the chunk as one piece of data
            pending.append((data, client.submit(func, data, pure=False)))
            return True

        try:
            while len(pending) < limit and submit():
                pass
            while pending:
                data, future = pending.popleft()
                try:
                    value = future.result()
                except (OSError, TimeoutError) as exc:
                    raise self._lost(exc) from exc
                except Exception as exc:
                    if type(exc).__module__.startswith("distributed"):
                        raise self._lost(exc) from exc
                    raise  # the function's own error (e.g. InputError), as in a local run
                future.release()
                data.release()
                submit()
                yield value
        finally:
            if pending and self._client is not None:
                client.cancel([f for pair in pending for f in pair])

    def _lost(self, exc: BaseException) -> ExternalToolError:
        msg = (
            f"the Dask cluster at {self.address!r} failed during the run ({type(exc).__name__}: "
            f"{exc}); nothing was lost but time: rerun (check the workers' memory and logs), or "
            "run locally without --dask"
        )
        return ExternalToolError(msg)


_END: Any = object()


def map_ordered(
    func: Callable[[T], R],
    chunks: Iterable[T],
    *,
    dask: str | None = None,
    window: int | None = None,
    timeout: float | None = None,
    on_connect: Callable[[str], None] | None = None,
    workers: int = 1,
) -> Iterator[R]:
    """``func(chunk)`` for every chunk, in order: here, or on the Dask cluster at ``dask``.

    ``func`` must be a pure, importable (module-level) function or a ``functools.partial`` of
    one; chunks are read lazily. ``on_connect`` receives a one-line description of the
    cluster once connected. The library never reads ``$KINRESIST_DASK`` itself: pass
    :func:`dask_address` explicitly where the environment should decide. ``workers`` > 1
    runs up to that many chunks at once in threads here (for functions that spend their time
    outside the GIL, e.g. in a ``nogil`` compiled kernel): one chunk's post-processing overlaps
    the next chunk's kernel; results still come in order, and an error is raised in order.
    """
    if dask is None:
        if workers > 1:
            yield from _map_threads(func, chunks, workers)
            return
        for chunk in chunks:
            yield func(chunk)
        return
    with DaskCluster(dask, timeout=timeout) as cluster:
        if on_connect is not None:
            on_connect(cluster.describe())
        yield from cluster.map(func, chunks, window=window)


def _map_threads(func: Callable[[T], R], chunks: Iterable[T], workers: int) -> Iterator[R]:
    """:func:`map_ordered` here with ``workers`` threads: at most ``workers`` chunks in
    flight; results yielded in input order. When the consumer stops (or a chunk fails), the
    chunks not started are cancelled and the running ones are waited for."""
    from concurrent.futures import Future, ThreadPoolExecutor

    pending: deque[Future[R]] = deque()
    with ThreadPoolExecutor(workers, thread_name_prefix="kinresist-map") as pool:
        try:
            for chunk in chunks:
                pending.append(pool.submit(func, chunk))
                if len(pending) >= workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
