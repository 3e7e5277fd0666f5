"""The benchmark: the real stack (PostgreSQL, Redis, Celery workers) against local receivers, fast and slow.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dispatcher REDIS_URL=redis://127.0.0.1:6379/0 make bench

It creates its own database next to DATABASE_URL's (``<name>_bench``, dropped at the end unless --keep) and
uses REDIS_URL's Redis. Each measurement is repeated (--runs, median reported with min and max); results go
to bench/results/<timestamp>.json and .md. See docs/benchmarks.md for what each number means.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from core.queues import DELIVERIES, MAINTENANCE, RETRIES  # noqa: E402 - after the path

RESULTS = ROOT / "bench" / "results"


def fail(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr)
    sys.exit(2)


# --- Setup --------------------------------------------------------------------------------------------------


def bench_database_url(url: str) -> tuple[str, str]:
    """The bench's own database beside the given one: (its URL, its name)."""
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        fail("DATABASE_URL must point at PostgreSQL (the benchmark measures the production stack).")
    name = (parts.path.lstrip("/") or "postgres") + "_bench"
    return urlunsplit(parts._replace(path="/" + name)), name


def admin_connection(url: str):
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(
        host=parts.hostname or None,
        port=parts.port or None,
        user=parts.username or None,
        password=parts.password or None,
        dbname="postgres",
        autocommit=True,
    )


def recreate_database(url: str, name: str) -> None:
    with admin_connection(url) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str, name: str) -> None:
    with admin_connection(url) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise RuntimeError(f"timed out after {timeout}s waiting for {what}")


class Receiver:
    def __init__(self):
        self.port = free_port()
        self.process = subprocess.Popen([sys.executable, str(ROOT / "bench" / "receiver.py"), str(self.port)])
        wait_for(self._up, 20, "the receiver")

    def _up(self) -> bool:
        try:
            self.stats()
            return True
        except OSError:
            return False

    def url(self, path: str, host: int = 1) -> str:
        """The receiver's URL for ``path`` on its ``host``-th loopback address (127.0.0.1 to 127.0.0.11)."""
        return f"http://127.0.0.{host}:{self.port}{path}"

    def stats(self) -> dict:
        with urllib.request.urlopen(self.url("/stats"), timeout=10) as response:
            return json.loads(response.read())

    def reset(self) -> None:
        urllib.request.urlopen(urllib.request.Request(self.url("/reset"), method="POST"), timeout=10).read()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # a hanging request it still holds keeps aiohttp from stopping
            self.process.kill()
            self.process.wait()


class Workers:
    """Worker processes as docker-compose.yml starts them: ``count`` on the deliveries lane and one on the retries
    lane (where failing and slow receivers' notifications go), threads pool of 4, each with its engine keeping up
    to ``concurrency`` POSTs in flight (DISPATCHER_CONCURRENCY)."""

    THREADS = 4  # docker-compose.yml's WORKER_CONCURRENCY default: Celery's threads answer doorbells only

    def __init__(self, count: int, concurrency: int, env: dict[str, str], log_dir: Path):
        env = {**env, "DISPATCHER_CONCURRENCY": str(concurrency)}
        lanes = [(f"bench{index}", f"{DELIVERIES},{MAINTENANCE}") for index in range(count)]
        self.processes = [self._start(name, queues, env, log_dir) for name, queues in lanes]
        self.retries = self._start(RETRIES, RETRIES, env, log_dir)

    @classmethod
    def _start(cls, name: str, queues: str, env: dict[str, str], log_dir: Path) -> subprocess.Popen:
        log = open(log_dir / f"worker-{name}.log", "ab")  # noqa: SIM115
        command = [sys.executable, "-m", "celery", "-A", "dispatcher", "worker", "--pool", "threads"]
        command += ["--concurrency", str(cls.THREADS), "-n", f"{name}@%h", "-Q", queues]
        command += ["--without-gossip", "--without-mingle", "-l", "WARNING"]
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)

    def rss_kib(self) -> list[int]:
        import psutil

        return [psutil.Process(p.pid).memory_info().rss // 1024 for p in self.processes]

    def stop(self) -> None:
        everyone = [*self.processes, self.retries]
        for process in everyone:
            process.terminate()
        for process in everyone:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def summary(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": values}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# --- Measurements -------------------------------------------------------------------------------------------


class Bench:
    def __init__(self, args, env: dict[str, str], log_dir: Path):
        from django.contrib.auth import get_user_model

        from configurations import services as configuration_services
        from configurations.models import Product

        self.args = args
        self.env = env
        self.log_dir = log_dir
        self.receiver = Receiver()
        self.user, _ = get_user_model().objects.get_or_create(username="bench")
        configuration_services.account_get_or_create(user=self.user)
        self.product = Product.objects.filter(owner=self.user).first() or configuration_services.product_create(
            owner=self.user, name="Bench product", price="97.00"
        )

    def reset(self, receivers: list[str]) -> None:
        """Empty history and configurations, then one configuration per receiver path."""
        from django.db import connection

        from configurations.models import Configuration
        from configurations.services import configuration_create

        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE history_attempt, history_notification, history_event, history_bulkresend CASCADE")
        Configuration.objects.all().delete()
        self.receiver.reset()
        for index, path in enumerate(receivers):
            configuration_create(
                owner=self.user,
                name=f"bench {index}",
                events=["PURCHASE_APPROVED"],
                url=self.receiver.url(path, host=index + 1),  # each receiver a host of its own
            )

    def record(self, count: int) -> float:
        """Record ``count`` purchase events; answers the seconds it took."""
        from history.publishing import event_record

        started = time.monotonic()
        for _ in range(count):
            event_record(owner=self.user, event_type="PURCHASE_APPROVED", product=self.product)
        return time.monotonic() - started

    def delivered(self) -> int:
        from history.models import Notification

        return Notification.objects.filter(status="delivered").count()

    def steady_rate(self) -> float:
        """Deliveries per second between the 10th and 90th percentile of the attempts' end times."""
        from history.models import Attempt

        ends = sorted(
            started.timestamp() + duration / 1000
            for started, duration in Attempt.objects.values_list("started_at", "duration_ms")
        )
        low, high = ends[len(ends) // 10], ends[(len(ends) * 9) // 10]
        return (len(ends) * 0.8) / max(high - low, 1e-6)

    def throughput(self, *, workers: int, fanout: int, notifications: int, path: str = "/hook/{i}") -> dict:
        """Queue ``notifications`` (events x fan-out), start the workers, measure the steady delivery rate, and
        the database connections the workers hold meanwhile."""
        self.reset([path.format(i=i) for i in range(fanout)])
        record_seconds = self.record(notifications // fanout)
        pool = Workers(workers, self.args.concurrency, self.env, self.log_dir)
        connections = []
        try:

            def done() -> bool:
                connections.append(self.worker_connections())
                return self.delivered() >= notifications

            wait_for(done, 900, f"{notifications} deliveries")
        finally:
            pool.stop()
        return {
            "rate": self.steady_rate(),
            "record_rate": (notifications // fanout) / record_seconds,
            "connections_max": max(connections),
        }

    def worker_connections(self) -> int:
        """PostgreSQL connections to the bench database other than the benchmark's own."""
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            return cursor.fetchone()[0]

    def head_of_line(self, *, events: int, rate: float, slow_ms: int) -> dict:
        """Every event fans out to a fast receiver and to one answering in ``slow_ms``: the fast receiver's
        latency (event recorded -> its POST arrives), events recorded at ``rate`` per second."""
        self.reset(["/hook/fast", f"/slow/0?ms={slow_ms}"])
        pool = Workers(self.args.workers, self.args.concurrency, self.env, self.log_dir)
        try:
            recorded = self.record_at(rate=rate, count=events)
            wait_for(lambda: len(self.receiver.stats()["arrivals"]) >= len(recorded), 300, "every fast POST")
            wait_for(lambda: self.delivered() >= 2 * events, 600, "every slow POST")
        finally:
            pool.stop()
        arrivals = self.receiver.stats()["arrivals"]
        delays = [(arrivals[event] - at) * 1000 for event, at in recorded.items() if event in arrivals]
        return {
            "events": len(recorded),
            "rate": rate,
            "slow_ms": slow_ms,
            "fast_mean_ms": statistics.mean(delays),
            "fast_p99_ms": percentile(delays, 0.99),
            "fast_max_ms": max(delays),
        }

    def record_at(self, *, rate: float, count: int) -> dict[str, float]:
        """Record ``count`` events at a steady ``rate`` per second, the workers running; answers when each
        event was recorded, by its id."""
        from history.publishing import event_record

        time.sleep(3)  # let the workers connect before the clock starts
        recorded: dict[str, float] = {}
        next_at = time.monotonic()
        for _ in range(count):
            result = event_record(owner=self.user, event_type="PURCHASE_APPROVED", product=self.product)
            recorded[str(result.event.uuid)] = time.time()
            next_at += 1 / rate
            time.sleep(max(0.0, next_at - time.monotonic()))
        return recorded

    def baseline(self, notifications: int) -> float:
        """The same POSTs from a plain keep-alive requests loop: no database, no queue."""
        import requests

        from history.models import Notification

        body = Notification.objects.first().payload.encode() if Notification.objects.exists() else b"{}" * 900
        session = requests.Session()
        url = self.receiver.url("/hook/baseline")
        headers = {"Content-Type": "application/json", "X-HOTMART-HOTTOK": "x" * 40}
        started = time.monotonic()
        for _ in range(notifications):
            session.post(url, data=body, headers=headers, timeout=10).raise_for_status()
        return notifications / (time.monotonic() - started)

    def latency(self, *, rate: float, seconds: float) -> dict:
        """Record events at a steady rate with workers running; event recorded -> first POST received."""
        self.reset(["/hook/latency"])
        pool = Workers(self.args.workers, self.args.concurrency, self.env, self.log_dir)
        try:
            recorded = self.record_at(rate=rate, count=int(rate * seconds))
            wait_for(lambda: len(self.receiver.stats()["arrivals"]) >= len(recorded), 300, "every first POST")
        finally:
            pool.stop()
        arrivals = self.receiver.stats()["arrivals"]
        delays = [(arrivals[event] - at) * 1000 for event, at in recorded.items() if event in arrivals]
        return {
            "events": len(recorded),
            "p50_ms": percentile(delays, 0.50),
            "p95_ms": percentile(delays, 0.95),
            "p99_ms": percentile(delays, 0.99),
        }

    def isolation(self, notifications: int) -> dict:
        """Healthy throughput with 1 hanging receiver among 11, as a ratio of the same run without it."""
        healthy = [f"/hook/{i}" for i in range(10)]
        without = self.throughput_of(healthy, notifications)
        with_hanging = self.throughput_of([*healthy, "/hang/0"], notifications, healthy_count=10)
        return {"healthy_alone": without, "healthy_beside_hanging": with_hanging, "ratio": with_hanging / without}

    def throughput_of(self, paths: list[str], notifications: int, healthy_count: int | None = None) -> float:
        from history.models import Notification

        self.reset(paths)
        events = notifications // len(paths)
        healthy_count = healthy_count or len(paths)
        self.record(events)
        pool = Workers(self.args.workers, self.args.concurrency, self.env, self.log_dir)
        try:
            # the hanging configuration's notifications never finish within the run; count the healthy ones
            wait_for(lambda: self.delivered() >= events * healthy_count, 900, "the healthy deliveries")
        finally:
            pool.stop()
        Notification.objects.exclude(status="delivered").delete()
        return self.steady_rate()

    def memory(self) -> dict:
        """Worker RSS after 1,000 and after --memory-deliveries deliveries, one worker process."""
        self.reset(["/hook/memory"])
        pool = Workers(1, self.args.concurrency, self.env, self.log_dir)
        points = {}
        try:
            for target in (1_000, self.args.memory_deliveries):
                batch = target - self.delivered()
                for start in range(0, batch, 5_000):
                    self.record(min(5_000, batch - start))
                wait_for(lambda target=target: self.delivered() >= target, 3600, f"{target} deliveries")
                points[target] = pool.rss_kib()[0]
        finally:
            pool.stop()
        first, last = points[1_000], points[self.args.memory_deliveries]
        return {"rss_kib": points, "growth": (last - first) / first}


def machine() -> dict:
    import celery
    import django
    import psutil
    import redis
    from django.conf import settings
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgresql = cursor.fetchone()[0].split()[0]
    redis_version = redis.Redis.from_url(settings.REDIS_URL).info("server")["redis_version"]
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.machine(),
    )
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "cpu": model,
        "python": platform.python_version(),
        "django": django.get_version(),
        "celery": celery.__version__,
        "postgresql": postgresql,
        "redis": redis_version,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def markdown(results: dict) -> str:
    m = results["machine"]
    lines = [
        f"Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB; Python {m['python']}, "
        f"Django {m['django']}, Celery {m.get('celery', '?')}, PostgreSQL {m.get('postgresql', '?')}, "
        f"Redis {m.get('redis', '?')}; {m['when']}.",
    ]

    def row(name, s, unit="", fmt="{:.0f}"):
        cells = [fmt.format(s[key]) + unit for key in ("median", "min", "max")]
        lines.append(f"| {name} | {' | '.join(cells)} |")

    if results.get("throughput"):
        lines += ["", "| measurement | median | min | max |", "|---|---|---|---|"]
        row("baseline: keep-alive requests loop, POST/s", results["baseline"])
    for key, value in results.get("throughput", {}).items():
        row(f"throughput {key}, deliveries/s", value["rate"])
        row(f"throughput {key}, ratio to baseline", value["ratio"], fmt="{:.2f}")
    if results.get("slow"):
        slow_ms = results.get("args", {}).get("slow_ms", 200)
        for key, value in results["slow"].items():
            row(f"10 receivers answering in {slow_ms} ms, {key}, deliveries/s", value["rate"])
        connections = ", ".join(f"{key}: {value['connections']}" for key, value in results["slow"].items())
        lines.append(f"Database connections held by the workers during the slow runs (at most): {connections}.")
    for hol in results.get("headofline", []):
        lines.append(
            f"Fan-out to a fast receiver and one answering in {hol['slow_ms']} ms, {hol['events']} events at "
            f"{hol['rate']:g}/s: the fast receiver's latency mean {hol['fast_mean_ms']:.0f} ms, "
            f"p99 {hol['fast_p99_ms']:.0f} ms, max {hol['fast_max_ms']:.0f} ms."
        )
    if "latency" in results:
        lat = results["latency"]
        lines += [
            "",
            f"Latency at {results['latency_rate']} events/s ({lat['events']} events): "
            f"p50 {lat['p50_ms']:.0f} ms, p95 {lat['p95_ms']:.0f} ms, p99 {lat['p99_ms']:.0f} ms.",
        ]
    if "isolation" in results:
        iso = results["isolation"]
        lines.append(
            f"Isolation: healthy throughput beside a hanging receiver / alone = {iso['ratio']:.2f} "
            f"({iso['healthy_beside_hanging']:.0f} / {iso['healthy_alone']:.0f} deliveries/s)."
        )
    if "memory" in results:
        mem = results["memory"]
        points = ", ".join(f"{k:,} deliveries: {v / 1024:.0f} MiB" for k, v in mem["rss_kib"].items())
        lines.append(f"Worker memory: {points} (growth {mem['growth']:+.1%}).")
    if "history" in results:
        lines += [
            "",
            "| history query | p50 ms | p95 ms | queries | whole-table scans | rows read and thrown away |",
            "|---|---|---|---|---|---|",
        ]
        for name, value in results["history"]["timings"].items():
            scans = len(value.get("whole_table_scans", [])) if "queries" in value else "?"
            lines.append(
                f"| {name} | {value['p50_ms']:.1f} | {value['p95_ms']:.1f} | {value.get('queries', '?')} | {scans} "
                f"| {value.get('rows_thrown_away', '?')} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="repetitions of each throughput measurement")
    parser.add_argument("--notifications", type=int, default=5000, help="notifications per throughput run")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="N for the N-worker runs")
    parser.add_argument(
        "--concurrency", type=int, default=512, help="POSTs in flight per worker process (DISPATCHER_CONCURRENCY)"
    )
    parser.add_argument("--slow-ms", type=int, default=200, help="answer time of the slow receivers")
    parser.add_argument("--slow-notifications", type=int, default=5000, help="notifications of the slow run")
    parser.add_argument("--latency-rate", type=float, default=100)
    parser.add_argument("--latency-seconds", type=float, default=20)
    parser.add_argument("--memory-deliveries", type=int, default=100_000)
    parser.add_argument("--history-notifications", type=int, default=1_000_000)
    parser.add_argument("--only", help="comma-separated: throughput,slow,headofline,latency,isolation,memory,history")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    parser.add_argument("--render", metavar="JSON", help="only print the Markdown table of an earlier result")
    args = parser.parse_args()
    if args.render:
        print(markdown(json.loads(Path(args.render).read_text())))
        return

    source_url = os.environ.get("DATABASE_URL", "")
    if not source_url or not os.environ.get("REDIS_URL"):
        fail("set DATABASE_URL (PostgreSQL) and REDIS_URL (Redis); see docs/benchmarks.md.")
    url, name = bench_database_url(source_url)
    recreate_database(source_url, name)
    os.environ.update({"DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "dispatcher.settings", "LOG_LEVEL": "WARNING"})
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    only = set((args.only or "throughput,slow,headofline,latency,isolation,memory,history").split(","))

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    log_dir = RESULTS / stamp
    log_dir.mkdir(parents=True, exist_ok=True)
    bench = Bench(args, env, log_dir)
    results: dict = {"machine": machine(), "args": vars(args)}
    try:
        if "throughput" in only:
            cases = {
                "1 worker, 1 configuration": (1, 1),
                f"{args.workers} workers, 1 configuration": (args.workers, 1),
                "1 worker, fan-out 10": (1, 10),
                f"{args.workers} workers, fan-out 10": (args.workers, 10),
            }
            results["throughput"] = {}
            baselines = []
            for label, (workers, fanout) in cases.items():
                rates, ratios = [], []
                for _ in range(args.runs):
                    measured = bench.throughput(workers=workers, fanout=fanout, notifications=args.notifications)
                    base = bench.baseline(args.notifications)  # in the same run, right after
                    baselines.append(base)
                    rates.append(measured["rate"])
                    ratios.append(measured["rate"] / base)
                    print(f"{label}: {measured['rate']:.0f}/s, baseline {base:.0f}/s", flush=True)
                results["throughput"][label] = {"rate": summary(rates), "ratio": summary(ratios)}
            results["baseline"] = summary(baselines)
        if "slow" in only:
            results["slow"] = {}
            for workers in (1, args.workers):
                rates, connections = [], []
                for _ in range(args.runs):
                    measured = bench.throughput(
                        workers=workers, fanout=10, notifications=args.slow_notifications,
                        path=f"/slow/{{i}}?ms={args.slow_ms}",
                    )  # fmt: skip
                    rates.append(measured["rate"])
                    connections.append(measured["connections_max"])
                    print(f"slow receivers, {workers} workers: {measured['rate']:.0f}/s", flush=True)
                results["slow"][f"{workers} workers"] = {"rate": summary(rates), "connections": max(connections)}
        if "headofline" in only:
            results["headofline"] = [
                bench.head_of_line(events=events, rate=rate, slow_ms=500) for events, rate in ((100, 10), (200, 25))
            ]
            print("head of line", results["headofline"], flush=True)
        if "latency" in only:
            results["latency_rate"] = args.latency_rate
            results["latency"] = bench.latency(rate=args.latency_rate, seconds=args.latency_seconds)
            print("latency", results["latency"], flush=True)
        if "isolation" in only:
            results["isolation"] = bench.isolation(args.notifications)
            print("isolation", results["isolation"], flush=True)
        if "memory" in only:
            results["memory"] = bench.memory()
            print("memory", results["memory"], flush=True)
        if "history" in only:
            from bench.history_scale import history_at_scale

            results["history"] = history_at_scale(bench.user, args.history_notifications)
            print("history", results["history"]["timings"], flush=True)
    finally:
        # What was measured is kept even when a later measurement fails.
        (RESULTS / f"{stamp}.json").write_text(json.dumps(results, indent=2, default=str))
        table = markdown(results)
        (RESULTS / f"{stamp}.md").write_text(table)
        print(table)
        bench.receiver.stop()
        if not args.keep:
            from django.db import connections

            connections.close_all()
            drop_database(source_url, name)


if __name__ == "__main__":
    main()
