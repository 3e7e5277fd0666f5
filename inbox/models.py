"""Inboxes: URLs served by the sandbox that record every request they get and answer as their owner chose."""

from __future__ import annotations

from django.conf import settings
from django.db import models

DEFAULT_BODY = '{"received": true}'


class Inbox(models.Model):
    """A request catcher at ``/inbox/<token>/``: what it answers (status, body, delay) and how often it fails
    first, so a receiver's failure modes can be rehearsed without writing one."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="inboxes")
    name = models.CharField(max_length=100)
    token = models.CharField(max_length=40, unique=True, help_text="The secret part of the inbox's URL.")
    status_code = models.PositiveSmallIntegerField(default=200)
    response_body = models.TextField(blank=True, default=DEFAULT_BODY)
    response_content_type = models.CharField(max_length=100, default="application/json")
    delay_ms = models.PositiveIntegerField(default=0, help_text="How long it hangs before answering.")
    fail_first = models.PositiveIntegerField(default=0, help_text="The first N requests get fail_status.")
    fail_status = models.PositiveSmallIntegerField(default=500)
    received_count = models.PositiveBigIntegerField(default=0, help_text="Requests taken since the last reset.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="inbox_name_unique_per_owner")]

    def __str__(self) -> str:
        return self.name


class InboxRequest(models.Model):
    """One request an inbox caught: exactly what came (method, path, headers, body bytes) and what it answered."""

    inbox = models.ForeignKey(Inbox, on_delete=models.CASCADE, related_name="requests")
    number = models.PositiveBigIntegerField(help_text="1 for the first request since the inbox's last reset.")
    received_at = models.DateTimeField()
    method = models.CharField(max_length=16)
    path = models.TextField(help_text="The path after the inbox's URL, with the query string.")
    headers = models.JSONField(default=dict, help_text="As received, secrets included: shown masked.")
    body = models.BinaryField(blank=True, default=b"")
    body_size = models.PositiveBigIntegerField(default=0, help_text="Bytes received (body keeps at most the cap).")
    body_truncated = models.BooleanField(default=False)
    remote_addr = models.CharField(max_length=64, blank=True)
    response_status = models.PositiveSmallIntegerField()
    response_delay_ms = models.PositiveIntegerField(default=0)
    # For a Hotmart notification, what it is about, read from its body when it came: the event (or, for the
    # legacy 1.0 postback, "1.0 " and its status) and the transaction or subscriber; empty for anything else.
    event_type = models.CharField(max_length=64, blank=True)
    subject = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["inbox", "-id"], name="inbox_request_newest"),
            models.Index(fields=["inbox", "number"], name="inbox_request_number"),
            models.Index(fields=["received_at"], name="inbox_request_received"),
        ]

    def __str__(self) -> str:
        return f"{self.method} #{self.number} to {self.inbox_id} ({self.response_status})"
