"""Where a receiver check stands, and how each of its checks is graded."""

from django.db import models


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"  # saved, waiting for a worker
    RUNNING = "running", "Running"  # a worker is making its POSTs
    DONE = "done", "Done"  # every check is graded
    EXPIRED = "expired", "Expired"  # no worker finished it before its deadline


IN_FLIGHT = (RunStatus.QUEUED, RunStatus.RUNNING)

QUEUE_WAIT = 60.0  # seconds a check may wait for a worker before it is expired
# Why a check is expired.
NOT_STARTED = (
    f"No worker started it within {QUEUE_WAIT:g} s: is a Celery worker taking the maintenance queue running "
    "(make run starts one)?"
)
NOT_FINISHED = "It did not finish in time: the worker running it stopped."


class Grade(models.TextChoices):
    PENDING = "pending", "Waiting"  # its POSTs are not all answered yet
    PASS = "pass", "Pass"
    WARN = "warn", "Warning"
    FAIL = "fail", "Fail"
    SKIP = "skip", "Not applicable"
