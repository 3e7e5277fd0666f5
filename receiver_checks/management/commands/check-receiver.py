"""Grade a receiver against Hotmart's contract from the command line, for a person or a CI pipeline.

Exit status: 0 when no check failed (warnings allowed), 1 when a check failed or the check could not finish,
2 for bad input (one line on stderr).
"""

from __future__ import annotations

import time

from django.core.exceptions import ValidationError

from configurations.cli import owner_or_error
from configurations.models import Configuration
from core.cli import Command as BaseCommand
from core.cli import dump_json, usage_error, validation_message
from receiver_checks import selectors, services
from receiver_checks.choices import Grade, RunStatus
from receiver_checks.models import ReceiverCheck
from receiver_checks.serializers import ReceiverCheckSerializer

FAILED = 1
MARKS = {Grade.PASS: "PASS", Grade.WARN: "WARN", Grade.FAIL: "FAIL", Grade.SKIP: "SKIP", Grade.PENDING: "...."}


class Command(BaseCommand):
    help = (
        "Check a receiver against Hotmart's contract: every event it gets, forged hottoks, repeats, unknown "
        "purchases and fields, redirects, speed, size. Exit 0 when nothing failed, 1 when a check failed, 2 for "
        "bad input."
    )

    def add_arguments(self, parser):
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--configuration", type=int, metavar="ID", help="Check this configuration.")
        target.add_argument("--url", help="Check this URL with the owner's hottok (every event); needs --owner.")
        target.add_argument("--show", type=int, metavar="CHECK", help="Print the report of an earlier check.")
        parser.add_argument("--owner", help="The producer whose hottok a --url check sends.")
        parser.add_argument(
            "--payload-version", choices=["2.0.0", "1.0"], help="Payload format of a --url check (default 2.0.0)."
        )
        parser.add_argument("--json", action="store_true", help="Print the report as JSON (the API's shape).")
        parser.add_argument(
            "--in-process",
            action="store_true",
            help="Run the check in this process instead of on a worker (CI without a Celery worker).",
        )

    def handle(self, *args, configuration, url, show, owner, payload_version, json, in_process, **options):
        if show is not None:
            run = ReceiverCheck.objects.filter(pk=show).first()
            if run is None:
                raise usage_error(f"No receiver check {show}.")
            return self._finish(run, json=json, printed=set())
        run = self._start(configuration, url, owner, payload_version, in_process=in_process)
        if not json:
            self.stdout.write(f"Receiver check #{run.pk} of {run.url}, payload {run.get_payload_version_display()}")
        printed: set[str] = set()
        if in_process:
            services.receiver_check_run(check_id=run.pk)
        else:
            run = self._wait(run, json=json, printed=printed)
        return self._finish(run, json=json, printed=printed)

    def _start(self, configuration_id, url, username, payload_version, *, in_process: bool) -> ReceiverCheck:
        configuration = None
        if configuration_id is not None:
            if payload_version:
                raise usage_error(
                    "--payload-version is for a --url check; a configuration is checked in its own version."
                )
            configuration = Configuration.objects.select_related("owner").filter(pk=configuration_id).first()
            if configuration is None:
                raise usage_error(f"No configuration {configuration_id}; `manage.py configurations list` shows them.")
            owner = configuration.owner
            if username and owner.get_username() != username:
                raise usage_error(f"Configuration {configuration_id} is not {username}'s.")
        else:
            if not username:
                raise usage_error("--url needs --owner: the producer whose hottok it sends.")
            owner = owner_or_error(username)
        try:
            run, _created = services.receiver_check_start(
                owner=owner,
                configuration=configuration,
                url=url,
                payload_version=payload_version,
                enqueue=not in_process,
            )
        except ValidationError as exc:
            raise usage_error(validation_message(exc)) from None
        return run

    def _wait(self, run: ReceiverCheck, *, json: bool, printed: set[str]) -> ReceiverCheck:
        """Follow the check until it ends (or passes its deadline), printing each check as it is graded."""
        while True:
            run = selectors.receiver_check_get(owner_id=run.owner_id, check_id=run.pk)
            progress = selectors.receiver_check_progress(run)
            if not json:
                self._print_results(run, printed)
            if progress.finished:
                return run
            time.sleep(0.3)  # polling the database: the worker has no other way to tell this process

    def _finish(self, run: ReceiverCheck, *, json: bool, printed: set[str]) -> None:
        run = selectors.receiver_check_get(owner_id=run.owner_id, check_id=run.pk)
        progress = selectors.receiver_check_progress(run)
        if json:
            self.stdout.write(dump_json(ReceiverCheckSerializer(run).data))
        else:
            self._print_results(run, printed)
            self._print_fixes(run)
            self._print_summary(run, progress)
        if progress.status != RunStatus.DONE or run.grade == Grade.FAIL:
            raise SystemExit(FAILED)

    def _print_results(self, run: ReceiverCheck, printed: set[str]) -> None:
        for result in run.results.all():
            if result.grade == Grade.PENDING or result.key in printed:
                continue
            printed.add(result.key)
            codes = " ".join(str(a["status"]) for a in result.answers)
            self.stdout.write(f"  {MARKS[result.grade]}  {result.title}" + (f"  [{codes}]" if codes else ""))

    def _print_fixes(self, run: ReceiverCheck) -> None:
        troubles = [r for r in run.results.all() if r.grade in (Grade.FAIL, Grade.WARN)]
        for result in troubles:
            ids = ", ".join(f"#{n}" for n in result.notification_ids)
            self.stdout.write("")
            self.stdout.write(f"{MARKS[result.grade]}  {result.title}")
            self.stdout.write(f"  came back: {result.summary}")
            if result.fix:
                self.stdout.write(f"  fix: {result.fix}")
            if ids:
                self.stdout.write(f"  notifications: {ids} (manage.py notifications show ID)")

    def _print_summary(self, run: ReceiverCheck, progress: selectors.Progress) -> None:
        self.stdout.write("")
        if progress.status != RunStatus.DONE:
            self.stderr.write(f"Receiver check #{run.pk} did not finish: {progress.reason}")
            return
        counts = progress.counts
        self.stdout.write(
            f"{run.get_grade_display().upper()}: {counts[Grade.FAIL]} failed, {counts[Grade.WARN]} warnings, "
            f"{counts[Grade.PASS]} passed, {counts[Grade.SKIP]} not applicable (receiver check #{run.pk}, hottok "
            f"{run.hottok_shown})."
        )
