"""Where a receiver check stands, and how each of its checks is graded."""

from django.db import models


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"  # saved, waiting for a worker
    RUNNING = "running", "Running"  # a worker is making its POSTs
    DONE = "done", "Done"  # every check is graded
    EXPIRED = "expired", "Expired"  # no worker finished it before its deadline


IN_FLIGHT = (RunStatus.QUEUED, RunStatus.RUNNING)


class Grade(models.TextChoices):
    PENDING = "pending", "Waiting"  # its POSTs are not all answered yet
    PASS = "pass", "Pass"
    WARN = "warn", "Warning"
    FAIL = "fail", "Fail"
    SKIP = "skip", "Not applicable"
