"""Replay a customer story: a YAML or JSON file of steps (buy, approve, wait, refund, renew, ...)."""

import time

from django.utils import timezone

from configurations.cli import owner_or_error
from core.cli import Command as BaseCommand
from core.cli import dump_json, file_path, usage_error
from sales.output import outcome_lines
from sales.scenarios import ScenarioError, StepResult, path_shown, scenario_load, scenario_run, scenario_to_json


class Command(BaseCommand):
    help = (
        "Run a scenario file (YAML or JSON): a list of steps such as buy, approve, wait, refund, renew, "
        "cancel_subscription. It is checked by a dry run first, so a failing scenario records nothing. "
        "See docs/scenarios.md and the examples in scenarios/."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "file", metavar="FILE", type=file_path, help="The scenario, e.g. scenarios/card-refund.yaml."
        )
        parser.add_argument("--owner", help="The producer's username; default: the file's `owner`.")
        parser.add_argument("--check", action="store_true", help="Only check it (a dry run): nothing is recorded.")
        parser.add_argument("--no-sleep", action="store_true", help="Skip `sleep` steps.")
        parser.add_argument("--json", action="store_true", help="Print the steps and what each recorded as JSON.")

    def handle(self, *args, file, owner, check, no_sleep, json, **options):
        try:
            scenario = scenario_load(file)
            file = path_shown(file)
        except ScenarioError as exc:
            raise usage_error(str(exc)) from None
        username = owner or scenario.owner
        if not username:
            raise usage_error(f"{file}: say whose story it is: `owner:` in the file or --owner.")
        user = owner_or_error(username)
        printer = None if json else self._print_step
        if not json:
            self.stdout.write(f"Scenario: {scenario.name} ({len(scenario.steps)} steps, owner {username})")
        try:
            if check:
                scenario_run(scenario=scenario, owner=user, dry_run=True)
                self.stdout.write(dump_json({"ok": True}) if json else f"{file}: every step can run.")
                return
            results = scenario_run(
                scenario=scenario,
                owner=user,
                now=timezone.now(),
                sleep=None if no_sleep else time.sleep,
                on_step=printer,
            )
        except ScenarioError as exc:
            raise usage_error(f"{file}: {exc}") from None
        if json:
            self.stdout.write(dump_json(scenario_to_json(results)))
        else:
            events = sum(len(r.outcome.events) for r in results if r.outcome)
            self.stdout.write(f"Done: {events} events recorded.")

    def _print_step(self, result: StepResult) -> None:
        head = f"{result.step.number:>3}. {result.step.action}"
        if result.outcome is None:
            self.stdout.write(f"{head}: {result.note}")
            return
        lines = outcome_lines(result.outcome)
        self.stdout.write(f"{head}: {lines[0]}")
        for line in lines[1:]:
            if not line.lstrip().startswith("next:"):
                self.stdout.write(f"     {line}")
