"""Where tasks run: ``SerialExecutor`` (this process, the default) or ``DaskExecutor`` (a Dask
LocalCluster of worker processes, or an existing scheduler by address, e.g. one dask-jobqueue
started on SLURM/HTCondor: docs/scale-out.md). Results come back in task order; a task whose
worker dies is retried on another (``retries``), and every task is seeded by itself, so results
do not depend on which worker ran what. Tasks and results are plain picklable records; points are
exchanged through the output folder, which workers must see (same machine, or a shared filesystem).
"""

from __future__ import annotations

import logging
from typing import Callable, Optional, Sequence

from hcp_fpga.errors import ConfigError

Progress = Optional[Callable[[str, int, int], None]]


class SerialExecutor:
    name = "serial"
    workers = 1

    def map(self, fn: Callable, tasks: Sequence, label: str = "", progress: Progress = None) -> list:
        out = []
        for i, task in enumerate(tasks):
            out.append(fn(task))
            if progress:
                progress(label, i + 1, len(tasks))
        return out

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class DaskExecutor(SerialExecutor):
    """``workers``: a LocalCluster of that many single-threaded worker processes; ``scheduler``: the
    address of a running scheduler (``tcp://host:8786``) instead."""

    name = "dask"

    def __init__(self, workers: Optional[int] = None, scheduler: Optional[str] = None, retries: int = 2) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:  # pragma: no cover - a declared dependency
            raise ConfigError("the dask executor needs dask[distributed]; pip install 'dask[distributed]'") from None
        self.retries = retries
        self.cluster = None
        if scheduler:
            try:
                self.client = Client(scheduler, timeout="20s")
            except (OSError, TimeoutError) as exc:
                raise ConfigError(f"cannot reach the Dask scheduler at {scheduler} ({type(exc).__name__}); start it "
                                  "(dask scheduler) or check the address") from None
        else:
            # one task per worker process, and one TensorFlow thread per task: N workers use N cores
            # instead of each oversubscribing all of them
            threads = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": "1"}
            self.cluster = LocalCluster(n_workers=workers or 2, threads_per_worker=1, processes=True,
                                        dashboard_address=None, silence_logs=logging.ERROR, env=threads)
            self.client = Client(self.cluster)
        self.workers = max(len(self.client.scheduler_info().get("workers", {})), 1)

    def map(self, fn: Callable, tasks: Sequence, label: str = "", progress: Progress = None) -> list:
        from distributed import as_completed

        if not tasks:
            return []
        futures = self.client.map(fn, list(tasks), pure=False, retries=self.retries)
        done = 0
        for _ in as_completed(futures):
            done += 1
            if progress:
                progress(label, done, len(tasks))
        return self.client.gather(futures)

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_executor(kind: str = "serial", workers: Optional[int] = None, scheduler: Optional[str] = None):
    if scheduler or kind == "dask":
        return DaskExecutor(workers=workers, scheduler=scheduler)
    if kind != "serial":
        raise ConfigError(f"executor '{kind}' is unknown; use serial or dask")
    return SerialExecutor()
