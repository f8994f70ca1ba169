# -*- test-case-name: tests.test_pages_imports -*-
"""
Imports under way from C{/import}: each runs in the background (the
operations' L{snomprov.operations.imports.importCSV}, yielding to the
reactor between chunks), keeps how far it is, and tells the pages
following it (Server-Sent Events, L{live.openStream}) each step and its
end.  Its result (the generated passwords among it) is kept for its owner
only, until shown once, at most L{RESULT_KEPT} seconds; at most
L{MAX_JOBS} are kept at once.
"""

from __future__ import annotations

import secrets
from typing import Any, Awaitable, Callable

from twisted.internet import defer
from twisted.logger import Logger

from snomprov.operations.errors import Refused
from snomprov.operations.imports import Imported, ImportProgress

from .live import openStream, sseMessage

__all__ = ["ImportJob", "ImportJobs", "MAX_JOBS", "RESULT_KEPT", "progressText"]

_log = Logger()

MAX_JOBS = 16
RESULT_KEPT = 3600.0


def progressText(progress: ImportProgress | None) -> str:
    """
    How far an import is, in words.  Pure.
    """
    if progress is None:
        return "Starting…"
    if progress.stage == "checking":
        return f"Checking rows: {progress.done:,} of {progress.total:,}"
    if progress.stage == "passwords":
        return f"Reading stored passwords: {progress.done:,} of {progress.total:,} devices"
    return f"Writing {progress.total:,} devices (one transaction)…"


class ImportJob:
    """
    One import: its progress, then its result (C{imported}), refusal
    (C{refused}) or failure (C{failed}).
    """

    def __init__(self, owner: str, filename: str) -> None:
        self.id = secrets.token_urlsafe(12)
        self.owner = owner
        self.filename = filename
        self.progress: ImportProgress | None = None
        self.imported: Imported | None = None
        self.refused: Refused | None = None
        self.failed = False
        self.finished = False
        self.listeners: set = set()
        self.expiry = None

    def progressJSON(self) -> dict[str, Any]:
        progress = self.progress
        return {"stage": None if progress is None else progress.stage,
                "done": 0 if progress is None else progress.done,
                "total": 0 if progress is None else progress.total,
                "text": progressText(progress)}


class ImportJobs:
    """
    The imports under way and the results not yet shown.

    @param clock: an L{IReactorTime} (the results' expiry).
    """

    def __init__(self, clock, maxJobs: int = MAX_JOBS, kept: float = RESULT_KEPT) -> None:
        self._clock = clock
        self.maxJobs = maxJobs
        self.kept = kept
        self.jobs: dict[str, ImportJob] = {}

    def start(self, owner: str, filename: str,
              run: Callable[[Callable[[ImportProgress], None]], Awaitable[Imported]]) -> ImportJob | None:
        """
        Run C{run(progress)} as the import of C{filename} for C{owner}; the
        job, or C{None} when L{maxJobs} imports are under way.
        """
        if len(self.jobs) >= self.maxJobs:
            done = [job for job in self.jobs.values() if job.finished]
            if not done:
                return None
            self._drop(done[0])
        job = ImportJob(owner, filename)
        self.jobs[job.id] = job
        d = defer.ensureDeferred(run(lambda progress: self._step(job, progress)))
        d.addCallbacks(lambda imported: self._finish(job, imported=imported),
                       lambda failure: self._fail(job, failure))
        return job

    def find(self, owner: str, ident: str) -> ImportJob | None:
        job = self.jobs.get(ident)
        return job if job is not None and job.owner == owner else None

    def take(self, job: ImportJob) -> None:
        """
        Forget a finished job: its result has been shown.
        """
        self._drop(job)

    def follow(self, job: ImportJob, request) -> None:
        """
        Answer C{request} with the job's steps (C{progress}) and its end
        (C{done}) as Server-Sent Events.
        """
        openStream(request)
        if job.finished:
            request.write(sseMessage("done", {}))
            request.finish()
            return
        request.write(sseMessage("progress", job.progressJSON()))
        job.listeners.add(request)
        request.notifyFinish().addBoth(lambda _: job.listeners.discard(request))

    def _step(self, job: ImportJob, progress: ImportProgress) -> None:
        job.progress = progress
        self._send(job, sseMessage("progress", job.progressJSON()))

    def _send(self, job: ImportJob, data: bytes, finish: bool = False) -> None:
        for request in list(job.listeners):
            try:
                request.write(data)
                if finish:
                    request.finish()
            except Exception:
                job.listeners.discard(request)

    def _finish(self, job: ImportJob, imported: Imported | None = None, refused: Refused | None = None) -> None:
        job.imported, job.refused, job.finished = imported, refused, True
        self._send(job, sseMessage("done", {}), finish=True)
        job.listeners.clear()
        if job.id in self.jobs:
            job.expiry = self._clock.callLater(self.kept, self._drop, job)

    def _fail(self, job: ImportJob, failure) -> None:
        if failure.check(Refused):
            self._finish(job, refused=failure.value)
            return
        _log.failure("import of {filename} failed", failure, filename=job.filename)
        job.failed = True
        self._finish(job)

    def _drop(self, job: ImportJob) -> None:
        self.jobs.pop(job.id, None)
        if job.expiry is not None and job.expiry.active():
            job.expiry.cancel()
        job.expiry = None
