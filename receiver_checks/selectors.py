"""Queries on receiver checks shared by the pages, the API and the command line."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.utils import timezone

from receiver_checks.choices import IN_FLIGHT, NOT_FINISHED, NOT_STARTED, Grade, RunStatus
from receiver_checks.models import CheckResult, ReceiverCheck


def receiver_check_get(*, owner_id: int, check_id: int) -> ReceiverCheck | None:
    """One of the owner's checks with its results; another producer's does not exist for this one."""
    return (
        ReceiverCheck.objects.filter(owner_id=owner_id, pk=check_id)
        .select_related("configuration")
        .prefetch_related("results")
        .first()
    )


def receiver_check_list(*, owner_id: int, configuration_id: int | None = None, limit: int = 20) -> list[ReceiverCheck]:
    """The owner's latest checks, newest first, with their results (for the counts)."""
    queryset = ReceiverCheck.objects.filter(owner_id=owner_id)
    if configuration_id is not None:
        queryset = queryset.filter(configuration_id=configuration_id)
    return list(queryset.select_related("configuration").prefetch_related("results")[:limit])


@dataclass(frozen=True)
class Progress:
    """Where a check stands as shown: its status (a check past its time limits reads expired), why, and how
    many of its checks ended each way."""

    status: str
    reason: str
    counts: dict[str, int]
    graded: int
    total: int

    @property
    def finished(self) -> bool:
        return self.status in (RunStatus.DONE, RunStatus.EXPIRED)


def receiver_check_progress(run: ReceiverCheck, results: list[CheckResult] | None = None) -> Progress:
    results = list(run.results.all()) if results is None else results
    counts = Counter(r.grade for r in results)
    status, reason = run.status, run.status_reason
    now = timezone.now()
    if status == RunStatus.QUEUED and now > run.start_by:
        status, reason = RunStatus.EXPIRED, NOT_STARTED
    elif status in IN_FLIGHT and now > run.deadline_at:
        status, reason = RunStatus.EXPIRED, NOT_FINISHED
    return Progress(
        status=status,
        reason=reason,
        counts={grade: counts.get(grade, 0) for grade in Grade.values},
        graded=sum(1 for r in results if r.grade != Grade.PENDING),
        total=len(results),
    )
