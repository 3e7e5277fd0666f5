"""Statuses and error kinds of notifications and attempts."""

from django.db import models


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # saved, no attempt made yet
    RETRYING = "retrying", "Retrying"  # an attempt failed, another one is scheduled
    DELIVERED = "delivered", "Delivered"  # a 2xx answered
    FAILED = "failed", "Failed"  # every automatic attempt failed
    CANCELLED = "cancelled", "Cancelled"  # stopped: its configuration was disabled or removed


OPEN_STATUSES = (NotificationStatus.PENDING, NotificationStatus.RETRYING)


class AttemptTrigger(models.TextChoices):
    AUTOMATIC = "automatic", "Automatic"
    MANUAL = "manual", "Manual resend"


class BulkResendStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"


class ErrorKind(models.TextChoices):
    NONE = "", "None"
    HTTP_STATUS = "http_status", "HTTP error status"
    REDIRECT = "redirect", "Redirect (not followed)"
    CONNECT_TIMEOUT = "connect_timeout", "Connect timeout"
    READ_TIMEOUT = "read_timeout", "Read timeout"
    TOTAL_TIMEOUT = "total_timeout", "Response took too long"
    CONNECTION_REFUSED = "connection_refused", "Connection refused"
    DNS = "dns", "Host name does not resolve"
    TLS = "tls", "TLS error"
    CONNECTION_ERROR = "connection_error", "Connection error"
    INVALID_RESPONSE = "invalid_response", "Invalid HTTP response"
    BLOCKED_ADDRESS = "blocked_address", "Address not allowed"
    INTERRUPTED = "interrupted", "Interrupted, outcome unknown"


# Failures that say the URL itself is wrong rather than the receiver having a bad moment.
URL_ERROR_KINDS = frozenset({ErrorKind.DNS, ErrorKind.CONNECTION_REFUSED, ErrorKind.TLS, ErrorKind.BLOCKED_ADDRESS})
URL_ERROR_STATUS_CODES = frozenset({404, 410})

NO_STATUS = -1  # what the history shows as the HTTP code of an attempt that got no HTTP answer
