"""Evaluators: one way to map a picklable function over tasks, in-process or on workers.

Every parallel evaluation of mixsim goes through this module, and only this module creates
worker processes: the ensemble runner (:mod:`mixsim.experiments.runner`), the sensitivity
analysis (:func:`mixsim.experiments.sensitivity.evaluate`) and, through it, the calibration
(:mod:`mixsim.calibration.distance`). An evaluator maps a function over tasks and yields the
results as they finish (or in task order), in the spirit of the EMA Workbench's evaluators:

- :class:`Sequential`: in this process, in order (``jobs = 1``);
- :class:`Loky`: joblib's reusable loky process pool; every worker starts with
  :func:`~mixsim.experiments.limits.init_worker` (it ignores Ctrl-C and ends when this process
  dies) and one thread for numerical libraries. With ``include_self`` this process takes tasks
  from the same queue as the ``jobs − 1`` workers, so that the seconds a fresh worker spends
  importing Mesa and pandas are not lost (the runner);
- :class:`Dask`: a Dask ``distributed`` cluster: a scheduler address, a client already made by
  the caller, or a ``LocalCluster`` of ``jobs`` single-threaded processes;
- :class:`Joblib`: any other registered joblib backend (``"threading"``, ...);
- :class:`SpawnPool`: fresh-interpreter workers for the explorer's long-lived web server, which
  submits tasks one by one and reads their progress messages.

:func:`make_evaluator` picks one from the public options (``jobs``, ``backend``, ``scheduler``).
Results never depend on the evaluator: callers give each task its own seed and place each result
by its task, so the same seeds give the same results whatever the backend or the number of
workers.

Interruption: when the consumer stops early (Ctrl-C, an error, ``close()`` of the iterator), no
new task is handed out; the tasks in progress get ``grace`` seconds to finish (their side effects,
such as the runner's files, are kept; their results are not yielded), then the workers are
stopped. A worker's exception is raised to the consumer as it was raised in the worker.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from mixsim.model.errors import InputError

__all__ = ["BACKENDS", "Dask", "Evaluator", "Joblib", "Loky", "Sequential", "SpawnPool",
           "check_distributed", "current_dask_client", "local_workers", "make_evaluator"]

logger = logging.getLogger(__name__)

#: The backends of the command line's ``--backend``.
BACKENDS = ("loky", "dask")
#: Seconds between two checks for results while this process waits for the workers.
_POLL_S = 0.1
#: Environment of a loky worker: one thread per numerical library, the processes share the cores.
_WORKER_ENV = {v: "1" for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
#: Tasks handed to a Dask cluster ahead of the results, per worker.
_DASK_AHEAD = 2

Progress = Callable[[int, "int | None"], None]


class Evaluator:
    """Maps a function over tasks; the results come back as they finish or in task order.

    Subclasses implement :meth:`_unordered`. An evaluator is a context manager; :meth:`close`
    releases what it started (a pool it owns, a cluster).

    Attributes:
        n_workers: Tasks that run at once (chunking hint for the callers).
        shares_files: True when the workers see this process's file system (they may write the
            outputs themselves).
    """

    n_workers: int = 1
    shares_files: bool = True

    def map(self, fn: Callable[[Any], Any], tasks: Iterable[Any], *, ordered: bool = False,
            progress: Progress | None = None) -> Iterator[Any]:
        """Yield ``fn(task)`` for every task.

        Args:
            fn: A picklable function of one argument (module-level, or a
                :func:`functools.partial` of one).
            tasks: The tasks (picklable), consumed lazily.
            ordered: Yield the results in task order (buffering those that finish early)
                instead of as they finish.
            progress: Called as ``progress(done, total)`` after each result (``total``: the
                number of tasks when ``tasks`` has a length, else None).
        """
        total = len(tasks) if hasattr(tasks, "__len__") else None  # type: ignore[arg-type]
        results = self._unordered(fn, enumerate(tasks))
        done = 0
        try:
            if not ordered:
                for _, res in results:
                    done += 1
                    if progress is not None:
                        progress(done, total)
                    yield res
                return
            waiting: dict[int, Any] = {}
            following = 0
            for i, res in results:
                waiting[i] = res
                done += 1
                if progress is not None:
                    progress(done, total)
                while following in waiting:
                    yield waiting.pop(following)
                    following += 1
        finally:
            results.close()

    def _unordered(self, fn: Callable[[Any], Any], tasks: Iterator[tuple[int, Any]]
                   ) -> Iterator[tuple[int, Any]]:
        """Yield ``(index, fn(task))`` as the tasks finish."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the workers this evaluator started (nothing for the shared ones)."""

    def __enter__(self) -> Evaluator:
        """Return the evaluator."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the evaluator."""
        self.close()


class Sequential(Evaluator):
    """Every task in this process, in order."""

    def _unordered(self, fn, tasks):
        for i, task in tasks:
            yield i, fn(task)


class _TaskSource:
    """Thread-safe iterator over the tasks, shared by this process and the pool's callbacks."""

    def __init__(self, tasks: Iterator[tuple[int, Any]]):
        self._tasks = tasks
        self._lock = threading.Lock()
        self.stopped = False

    def next(self) -> tuple[int, Any] | None:
        """Return the next ``(index, task)``, or None when none is left or the source stopped."""
        with self._lock:
            if self.stopped:
                return None
            item = next(self._tasks, None)
            if item is None:
                self.stopped = True
            return item

    def stop(self) -> None:
        """Hand out no more tasks."""
        with self._lock:
            self.stopped = True


class Loky(Evaluator):
    """Joblib's reusable loky process pool (one per process, shared with joblib.Parallel).

    Each worker has one task at a time: when it finishes, the pool's callback hands it the next
    one, whatever this process is doing.

    Args:
        n_workers: Tasks at once (≥ 1; with ``include_self``, this process is one of them).
        include_self: This process takes tasks too, between the results it yields.
        warm: ``(fn, args)`` given once to every worker at creation (it loads what the tasks
            need while this process goes on).
        grace: Seconds the tasks in progress get to finish when the consumer stops early.
    """

    def __init__(self, n_workers: int, *, include_self: bool = False,
                 warm: tuple[Callable[..., Any], tuple[Any, ...]] | None = None,
                 grace: float = 0.0):
        self.n_workers = max(1, int(n_workers))
        self.include_self = include_self
        self.grace = grace
        self.k = self.n_workers - 1 if include_self else self.n_workers
        self._executor = None
        if self.k > 0:
            self._executor = self._pool()
            if warm is not None:
                for _ in range(self.k):
                    self._executor.submit(warm[0], *warm[1])

    def _pool(self) -> Any:
        """Joblib's reusable executor: the same one while it works, a new one after a shutdown."""
        from joblib.executor import get_memmapping_executor

        from mixsim.experiments.limits import init_worker
        # workers ignore Ctrl-C (this process stops them) and end when this process dies
        return get_memmapping_executor(self.k, timeout=300, env=_WORKER_ENV,
                                       initializer=init_worker, initargs=(os.getpid(),))

    def _unordered(self, fn, tasks):
        if self._executor is None:
            yield from Sequential()._unordered(fn, tasks)
            return
        self._executor = self._pool()
        source = _TaskSource(tasks)
        results: queue.SimpleQueue = queue.SimpleQueue()
        cond = threading.Condition()
        inflight = [0]

        def submit() -> None:
            item = source.next()
            if item is None:
                return
            with cond:
                inflight[0] += 1
            try:
                future = self._executor.submit(fn, item[1])
            except BaseException as err:  # the executor is broken
                source.stop()
                results.put((None, err))
                with cond:
                    inflight[0] -= 1
                    cond.notify_all()
                return
            future.add_done_callback(lambda f, i=item[0]: finished(i, f))

        def finished(i: int, future: Any) -> None:
            try:
                res = future.result()
            except BaseException as err:  # the worker died or raised: stop handing out tasks
                source.stop()
                results.put((None, err))
            else:
                results.put((i, res))
                submit()
            finally:
                with cond:
                    inflight[0] -= 1
                    cond.notify_all()

        def pending() -> Iterator[tuple[int, Any]]:
            while True:
                try:
                    i, res = results.get_nowait()
                except queue.Empty:
                    return
                if i is None:
                    raise res
                yield i, res

        complete = False
        try:
            for _ in range(self.k):
                submit()
            while self.include_self:
                yield from pending()
                item = source.next()
                if item is None:
                    break
                yield item[0], fn(item[1])
            while True:
                try:
                    i, res = results.get(timeout=_POLL_S)
                except queue.Empty:
                    with cond:
                        if inflight[0] == 0 and results.empty():
                            break
                    continue
                if i is None:
                    raise res
                yield i, res
            complete = True
        finally:
            source.stop()
            if not complete:
                self._abort(cond, inflight)

    def _abort(self, cond: threading.Condition, inflight: list[int]) -> None:
        """Give the tasks in progress ``grace`` seconds, then stop the workers."""
        try:
            with cond:
                finished = cond.wait_for(lambda: inflight[0] == 0, self.grace)
        except KeyboardInterrupt:  # a second Ctrl-C: do not wait for the tasks in progress
            finished = False
        if not finished:
            self.shutdown()

    def shutdown(self) -> None:
        """Stop the workers now (the next pool starts afresh)."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, kill_workers=True)


def check_distributed() -> Any:
    """Return the ``distributed`` module; an :class:`InputError` says how to install it."""
    try:
        import distributed
    except ImportError:
        raise InputError("the dask backend needs the `distributed` package: "
                         "pip install 'mixsim[dask]'", source="backend") from None
    return distributed


class Dask(Evaluator):
    """A Dask ``distributed`` cluster.

    Args:
        n_workers: Processes of the local cluster started when neither ``client`` nor
            ``scheduler`` is given.
        scheduler: Address of a running scheduler (``tcp://host:8786``). A scheduler address
            must be one you trust: Dask's protocol is unauthenticated and carries pickles.
        client: A ``distributed.Client`` of the caller's (not closed by :meth:`close`).

    The workers of a scheduler or client given may not see this file system
    (:attr:`shares_files` is False); those of the local cluster do.
    """

    def __init__(self, n_workers: int = 1, *, scheduler: str | None = None, client: Any = None):
        distributed = check_distributed()
        self._distributed = distributed
        self._cluster = None
        self._own = client is None
        if client is None and scheduler:
            try:
                client = distributed.Client(scheduler, timeout="20s")
            except (OSError, TimeoutError, ValueError) as err:
                raise InputError(f"cannot connect to the Dask scheduler: {err}",
                                 source="scheduler", field=scheduler) from None
        elif client is None:
            self._cluster = distributed.LocalCluster(
                n_workers=n_workers, threads_per_worker=1, processes=True,
                dashboard_address=None, silence_logs=logging.ERROR)
            client = distributed.Client(self._cluster)
        self.client = client
        self.shares_files = self._cluster is not None
        workers = client.scheduler_info().get("workers", {})
        self.n_workers = max(1, sum(int(w.get("nthreads", 1)) for w in workers.values()))

    def _unordered(self, fn, tasks):
        ahead = self.n_workers * _DASK_AHEAD
        running = self._distributed.as_completed()
        index: dict[Any, int] = {}

        def submit() -> bool:
            item = next(tasks, None)
            if item is None:
                return False
            future = self.client.submit(fn, item[1], pure=False)
            index[future] = item[0]
            running.add(future)
            return True

        try:
            for _ in range(ahead):
                if not submit():
                    break
            for future in running:
                i = index.pop(future)
                res = future.result()
                submit()
                yield i, res
        finally:
            if index:
                self.client.cancel(list(index))

    def close(self) -> None:
        """Close the client and the local cluster this evaluator started."""
        if self._own:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()


class Joblib(Evaluator):
    """Any registered joblib backend (``joblib.parallel_config(backend=...)``).

    Args:
        n_jobs: joblib's ``n_jobs``.
        backend: The backend's name.
    """

    def __init__(self, n_jobs: int, backend: str):
        import joblib
        try:
            with joblib.parallel_config(backend=backend):
                self.n_workers = joblib.effective_n_jobs(n_jobs)
        except (ValueError, ImportError, KeyError) as err:
            raise InputError(f"joblib backend {backend!r} is not available: {err}",
                             field="backend") from None
        self.n_jobs = n_jobs
        self.backend = backend

    def _unordered(self, fn, tasks):
        import joblib
        with joblib.parallel_config(backend=self.backend):
            yield from joblib.Parallel(n_jobs=self.n_jobs, batch_size=1,
                                       return_as="generator_unordered")(
                joblib.delayed(_indexed)(fn, i, task) for i, task in tasks)


class SpawnPool:
    """Worker processes started by ``spawn`` (fresh interpreters), for a long-lived server.

    The explorer's web server (:mod:`mixsim.experiments.explore_engine`) keeps them for its
    lifetime: its threads are never forked, and the workers can send messages (progress) back
    through :attr:`messages`. Tasks are submitted one by one (:meth:`submit`, a
    ``concurrent.futures.Future``).

    Args:
        n_workers: Worker processes.
        initializer: Called first in every worker as ``initializer(messages, parent_pid)``.
        warm: ``(fn, args)`` given once to every worker at creation; it returns the worker's pid
            (so that :meth:`close` can end every worker).
    """

    def __init__(self, n_workers: int, *, initializer: Callable[..., None],
                 warm: tuple[Callable[..., int], tuple[Any, ...]]):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        ctx = multiprocessing.get_context("spawn")
        self.messages = ctx.Queue()
        self._pool = ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx,
                                         initializer=initializer,
                                         initargs=(self.messages, os.getpid()))
        self._warm = [self._pool.submit(warm[0], *warm[1]) for _ in range(n_workers)]

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Submit ``fn(*args)``; return its future."""
        return self._pool.submit(fn, *args)

    def close(self) -> None:
        """Stop the worker processes, by their process ids (a worker must not outlive us)."""
        import signal
        if self._pool is None:
            return
        pids = {f.result() for f in self._warm if f.done() and f.exception() is None}
        # (two warm-up tasks may go to the same worker: add the executor's own list)
        pids |= set(getattr(self._pool, "_processes", None) or {})
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = None
        for pid in pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:  # already gone
                pass
        self.messages.close()


def _indexed(fn: Callable[[Any], Any], i: int, task: Any) -> tuple[int, Any]:
    return i, fn(task)


def local_workers(jobs: int) -> int:
    """Tasks at once on this machine for ``jobs`` (joblib's convention for negative values)."""
    from mixsim.experiments.limits import available_cpus
    return int(jobs) if jobs > 0 else max(1, available_cpus() + 1 + int(jobs))


def make_evaluator(jobs: int = 1, backend: str | None = None, *, scheduler: str | None = None,
                   client: Any = None, include_self: bool = False,
                   warm: tuple[Callable[..., Any], tuple[Any, ...]] | None = None,
                   grace: float = 0.0) -> Evaluator:
    """Return the evaluator for the public options.

    Args:
        jobs: Tasks at once on this machine (``-1``: every CPU this process may use,
            :func:`~mixsim.experiments.limits.available_cpus`, ``-2`` all but one, ...); ``1``
            runs in this process.
            Ignored by a Dask scheduler or client, whose size decides.
        backend: None or ``"loky"`` for this machine, ``"dask"`` for a Dask cluster
            (:class:`Dask`), ``"sequential"``, or any registered joblib backend.
        scheduler: Address of a Dask scheduler (implies ``"dask"``).
        client: Dask: a ``distributed.Client`` of the caller's, used instead of a new cluster.
        include_self: Loky: this process takes tasks too (see :class:`Loky`).
        warm: Loky: a function and its arguments given once to every new worker.
        grace: Loky: seconds the tasks in progress get when the consumer stops early.

    Raises:
        InputError: for a backend that is not available.
    """
    if scheduler:
        backend = "dask"
    if backend == "dask":
        return Dask(local_workers(jobs), scheduler=scheduler, client=client)
    n = local_workers(jobs)
    if backend in (None, "loky"):
        if n == 1:
            return Sequential()
        return Loky(n, include_self=include_self, warm=warm, grace=grace)
    if backend == "sequential":
        return Sequential()
    return Joblib(jobs, backend)


def current_dask_client() -> Any:
    """Return the current ``distributed.Client`` (``backend="dask"`` of the sensitivity API)."""
    distributed = check_distributed()
    try:
        return distributed.get_client()
    except ValueError:
        raise InputError("backend 'dask' needs a running distributed.Client (create one, "
                         "e.g. distributed.Client(cluster), before the call)",
                         field="backend") from None
