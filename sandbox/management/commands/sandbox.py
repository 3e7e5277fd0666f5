"""Run the whole sandbox in one terminal: web, Celery worker, Celery beat and, without REDIS_URL, an
embedded Redis. Ctrl-C stops all of them; if one of them dies, the others are stopped too."""

import os
import shlex
import sys

from django.conf import settings
from honcho.manager import Manager
from honcho.printer import Printer

from core.cli import Command as BaseCommand
from core.queues import DELIVERIES, MAINTENANCE, RETRIES


class Command(BaseCommand):
    help = "Start web (runserver), a Celery worker, Celery beat and, without REDIS_URL, an embedded Redis."

    def add_arguments(self, parser):
        parser.add_argument("--addrport", default=settings.SANDBOX_ADDRPORT)
        parser.add_argument(
            "--concurrency",
            type=int,
            default=settings.DISPATCHER["CONCURRENCY"],
            help="POSTs in flight at once in each worker (DISPATCHER_CONCURRENCY).",
        )

    def handle(self, *args, addrport, concurrency, **options):
        python = shlex.quote(sys.executable)
        manage = shlex.quote(str(settings.BASE_DIR / "manage.py"))
        env = os.environ.copy()
        env["PYTHONUNBUFFERED"] = "1"
        env["DISPATCHER_CONCURRENCY"] = str(max(1, int(concurrency)))
        manager = Manager(Printer(sys.stdout, colour=sys.stdout.isatty()))
        embedded = not os.environ.get("REDIS_URL")
        if embedded:
            socket_path = settings.EMBEDDED_REDIS_SOCKET
            manager.add_process("redis", f"{python} -m sandbox.embedded_redis {shlex.quote(str(socket_path))}", env=env)
            env["REDIS_URL"] = f"unix://{socket_path}"
        schedule = shlex.quote(str(settings.DATA_DIR / "celerybeat-schedule"))
        manager.add_process(
            "web", f"{python} {manage} runserver {shlex.quote(addrport)} --noreload --insecure", env=env
        )
        # Celery's few threads only answer doorbells and run the periodic tasks; each worker's engine keeps the
        # POSTs in flight on its event loop (docs/architecture.md).
        worker = (
            f"{python} -m celery -A dispatcher worker --pool threads --concurrency 4"
            " --without-gossip --without-mingle -l INFO"
        )
        # Two workers, two lanes: a failing or hanging receiver only holds up the retries worker.
        manager.add_process("worker", f"{worker} -n {DELIVERIES}@%h -Q {DELIVERIES},{MAINTENANCE}", env=env)
        manager.add_process(RETRIES, f"{worker} -n {RETRIES}@%h -Q {RETRIES}", env=env)
        manager.add_process("beat", f"{python} -m celery -A dispatcher beat -l INFO -s {schedule}", env=env)
        self.stdout.write(
            "\n".join(
                [
                    "",
                    f"Hotmart Webhook Dispatcher Simulator ({settings.DISPATCHER_MODE} mode)",
                    f"  web       http://{addrport}/  (login demo / demo)",
                    f"  redis     {'embedded, ' + env['REDIS_URL'] if embedded else 'from REDIS_URL'}",
                    f"  database  {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}",
                    "  Ctrl-C stops everything.",
                    "",
                ]
            )
        )
        manager.loop()
        # Ctrl-C or a SIGTERM is how the sandbox is meant to stop: that is a clean exit, not an error.
        stopped_on_purpose = manager.returncode in (130, 143)
        sys.exit(0 if stopped_on_purpose else manager.returncode)
