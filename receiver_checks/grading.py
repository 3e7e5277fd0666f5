"""How each check is graded: pure functions from what came back to pass, warn or fail, with what to fix.

Nothing here sends or saves anything; ``receiver_checks.services`` feeds these functions the answers it got.
Each verdict says what happened in a sentence and, when it is not a pass, how to fix it.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from urllib.parse import urlsplit

from receiver_checks.choices import Grade

TIMEOUT_KINDS = frozenset({"connect_timeout", "read_timeout", "total_timeout"})


@dataclass(frozen=True)
class Answer:
    """What came back from one POST: an HTTP status (-1 when none came), how long it took, and why it failed."""

    status: int
    duration_ms: int
    error_kind: str = ""
    error_message: str = ""
    location: str = ""  # the Location header of a redirect

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def redirected(self) -> bool:
        return 300 <= self.status < 400

    @property
    def timed_out(self) -> bool:
        return self.error_kind in TIMEOUT_KINDS

    @property
    def refused(self) -> bool:
        """A 4xx: what a receiver should answer a request it will not act on."""
        return 400 <= self.status < 500

    def sentence(self) -> str:
        """``Answered 200 in 12 ms.``, or ``Got no answer (...) after 1,000 ms.``"""
        return f"Got {self.describe()}." if self.status < 0 else f"Answered {self.describe()}."

    def describe(self) -> str:
        """``200 in 12 ms``, ``301 to https://... in 4 ms``, ``no answer (timed out ...) after 1,000 ms``."""
        took = f"{self.duration_ms:,} ms"
        if self.status < 0:
            return f"no answer ({self.error_message or self.error_kind or 'no HTTP response'}) after {took}"
        if self.redirected:
            return f"{self.status} to {self.location or '(no Location)'} in {took}"
        return f"{self.status} in {took}"


@dataclass(frozen=True)
class Limits:
    """The time limits a check ran under, in seconds: the transport's."""

    connect_timeout: float
    read_timeout: float
    total_timeout: float

    @property
    def slow_after(self) -> float:
        """An answer this slow risks the time limit: half of what the transport waits for it."""
        return min(self.read_timeout, self.total_timeout) / 2


@dataclass(frozen=True)
class Verdict:
    grade: str
    summary: str  # what came back, in a sentence or two
    fix: str = ""  # how to fix it; empty on a pass


# --- Why an answer is a failure, and how to fix it ---------------------------------------------------------


def redirect_fix(url: str, location: str) -> str:
    """Advice for a redirect: the usual causes are http to https and a trailing slash."""
    if not location:
        return "Make the URL answer the POST itself with a 2xx: Hotmart does not follow redirects."
    if url.startswith("http://") and location == "https://" + url.removeprefix("http://"):
        return f"Use the https URL, {location}: Hotmart does not follow the redirect from http to https."
    if location == url + "/" or location == url.split("?")[0] + "/":
        return f"Add the trailing slash: use {location} as the URL."
    if url == location + "/":
        return f"Remove the trailing slash: use {location} as the URL."
    return f"Use the URL it redirects to ({location}) directly, or make this URL answer the POST itself."


def failure(answer: Answer, *, url: str, content_type: str, limits: Limits) -> tuple[str, str]:
    """What an answer that is not a 2xx means for Hotmart's deliveries, and how to fix it."""
    status, kind = answer.status, answer.error_kind
    seen = answer.sentence()
    if answer.redirected:
        return (
            seen + " Hotmart does not follow redirects: this counts as a failed delivery.",
            redirect_fix(url, answer.location),
        )
    if status in (401, 403):
        return (
            seen + " It refused a notification carrying the right hottok.",
            "Compare the X-HOTMART-HOTTOK header with your hottok (the Documentation tab shows it), and require no "
            "other credential: Hotmart sends no Authorization header, no cookie and no signature.",
        )
    if status == 404:
        return (
            seen + " Hotmart takes a 404 for a wrong URL: after 5 attempts answered so, it disables the configuration.",
            "Check the URL's path, and that this route accepts POST requests.",
        )
    if status == 410:
        return (
            seen + " A 410 Gone tells Hotmart to stop: it disables the configuration at once.",
            "Answer 410 only when you no longer want these notifications.",
        )
    if status == 405:
        return (seen + " The route does not accept POST.", "Accept POST requests at this URL.")
    if status == 413:
        return (
            seen + " The body was too large for your server.",
            "Raise the request body limit of your server or framework to at least 1 MB (nginx client_max_body_size, "
            "express.json({limit}), PHP post_max_size).",
        )
    if status == 429:
        return (
            seen + " Rate limited: Hotmart sends bursts (a sale's events together, retries, renewals).",
            "Do not rate-limit Hotmart's notifications, or allow bursts of at least a few dozen requests.",
        )
    if status in (400, 415, 422):
        reads = "the JSON body" if content_type.startswith("application/json") else "the form fields"
        return (
            seen + " It refused the payload as invalid.",
            f"Parse {reads} ({content_type}), read only the fields you use and ignore the others; a notification "
            "Hotmart sends is never wrong in a way a 400 could fix.",
        )
    if 400 <= status < 500:
        return (seen, "Answer 2xx to every notification carrying your hottok, once you have stored it.")
    if status >= 500:
        return (
            seen + " Your receiver failed: Hotmart retries a 5xx up to 5 times and then gives the notification up.",
            "Read your receiver's logs for this request (open it in History to see exactly what was sent); answer "
            "2xx once the notification is stored, and do the work after.",
        )
    if kind in TIMEOUT_KINDS:
        return (
            seen + f" Hotmart waits a limited time for an answer (here {limits.read_timeout:g} s for the first byte, "
            f"{limits.total_timeout:g} s in all); past it, it retries.",
            "Store the notification and answer 200 at once; do the slow work (e-mails, API calls, access grants) "
            "afterwards, in a background job.",
        )
    if kind == "connection_refused":
        host = urlsplit(url)
        return (seen + f" Nothing listens at {host.hostname}:{host.port or '(default port)'}.", _start_or_correct())
    if kind == "dns":
        return (seen + " The host name does not resolve.", "Correct the URL's host name.")
    if kind == "tls":
        return (
            seen,
            "Serve a certificate browsers trust (e.g. Let's Encrypt) with its whole chain, for this host name.",
        )
    if kind == "blocked_address":
        return (
            seen + " In production mode only public addresses are reached.",
            "Use a public URL, or ask the operator to allow its network (DISPATCHER_ALLOWED_NETWORKS).",
        )
    return (seen, "Make sure a web server answers HTTP at this URL (open the attempt in History for the details).")


def _start_or_correct() -> str:
    return "Start your receiver, or correct the URL's host and port."


# --- The checks ---------------------------------------------------------------------------------------------


def grade_delivery(answer: Answer, *, url: str, content_type: str, limits: Limits) -> Verdict:
    """A notification Hotmart would send: any 2xx passes, anything else fails."""
    if answer.ok:
        return Verdict(Grade.PASS, answer.sentence())
    summary, fix = failure(answer, url=url, content_type=content_type, limits=limits)
    return Verdict(Grade.FAIL, summary, fix)


def grade_forged(answer: Answer, control: Answer | None) -> Verdict:
    """A forged notification (wrong or no hottok) must be refused with a 4xx; a 2xx means anyone can fake sales.

    ``control`` is the answer to the same event with the right hottok: when that was refused too, a 4xx here
    proves nothing about the hottok.
    """
    if answer.ok:
        return Verdict(
            Grade.FAIL,
            f"Accepted it: {answer.describe()}. Anyone who learns this URL can fake sales and get access for free.",
            "Compare the X-HOTMART-HOTTOK header with your hottok before anything else, in constant time (e.g. "
            "hmac.compare_digest), and answer 401 when it is missing or different.",
        )
    if answer.refused and control is not None and control.ok:
        return Verdict(Grade.PASS, f"Refused it: {answer.describe()}.")
    if answer.refused:
        seen = control.describe() if control else "not sent"
        return Verdict(
            Grade.WARN,
            f"Refused it ({answer.describe()}), but the same notification with the right hottok was refused too "
            f"({seen}): this does not show that the hottok is checked.",
            "Make the receiver accept genuine notifications first (see the other checks), then run the check again.",
        )
    return Verdict(
        Grade.WARN,
        f"{answer.sentence()[:-1]}: not a 2xx, but not a clear refusal either.",
        "Answer 401 (or 403) when the hottok is missing or wrong; a 5xx or a timeout looks like an outage in your "
        "monitoring.",
    )


def grade_repeat(first: Answer, second: Answer) -> Verdict:
    """The same notification (same ``id``) twice must get a 2xx both times."""
    if first.ok and second.ok:
        return Verdict(Grade.PASS, f"Answered {first.describe()}, then {second.describe()} to the repeat.")
    if first.ok:
        return Verdict(
            Grade.FAIL,
            f"Answered {first.describe()} the first time, then {second.describe()} to the repeat. Hotmart sends a "
            "notification again when an answer is lost or late; a non-2xx makes it retry up to 5 times, and can get "
            "the configuration disabled.",
            "Deduplicate on the payload's `id` (the same on every attempt): when you have already processed it, "
            "answer 200 and do nothing more.",
        )
    return Verdict(
        Grade.WARN,
        f"The first copy was not accepted ({first.describe()}; the repeat: {second.describe()}), so repeats could "
        "not be judged.",
        "Make the receiver accept this event first (see its check), then run the check again.",
    )


def grade_tolerant(answer: Answer, control: Answer | None, *, compared: str, fix: str) -> Verdict:
    """A variation Hotmart can send (an unknown field, a large body, an unknown purchase, only Hotmart's
    headers) must get a 2xx.

    It fails when ``control``, the plain notification it is ``compared`` with, was accepted: the variation is
    the cause. When that was refused too, the variation's answer proves nothing: a warning.
    """
    if answer.ok:
        return Verdict(Grade.PASS, answer.sentence())
    if control is not None and control.ok:
        return Verdict(Grade.FAIL, f"{answer.sentence()[:-1]}, though {compared} got {control.describe()}.", fix)
    seen = control.describe() if control else "not sent"
    return Verdict(
        Grade.WARN,
        f"{answer.sentence()[:-1]}; {compared} was not accepted either ({seen}), so the cause is elsewhere.",
        "Make the receiver accept this event first (see its check), then run the check again.",
    )


def grade_format(
    control: Answer, other: Answer, *, configured: str, other_version: str, configured_type: str
) -> Verdict:
    """The receiver reads the payload format it is configured for (JSON 2.0.0 or the 1.0 form)."""
    if control.ok:
        extra = " It accepts the other format too." if other.ok else ""
        return Verdict(Grade.PASS, f"Reads {configured}: answered {control.describe()}.{extra}")
    if other.ok:
        if configured_type.startswith("application/json"):
            fix = (
                "Read the JSON body (PHP: json_decode(file_get_contents('php://input')), not $_POST; other "
                "frameworks: a JSON body parser), or switch the configuration to the legacy 1.0 postback."
            )
        else:
            fix = "Read the form fields (application/x-www-form-urlencoded), or switch the configuration to 2.0.0."
        return Verdict(
            Grade.FAIL,
            f"Refused {configured} ({control.describe()}) but accepted the {other_version} "
            f"({other.describe()}): the receiver reads the other format.",
            fix,
        )
    return Verdict(
        Grade.WARN,
        f"Refused both formats ({configured}: {control.describe()}; {other_version}: {other.describe()}), so the "
        "format is not the cause.",
        "See the event checks for why it refuses them.",
    )


def grade_redirects(redirects: list[tuple[str, Answer]], *, url: str) -> Verdict:
    """No POST may be redirected: Hotmart does not follow redirects. ``redirects`` are (what, answer) pairs."""
    if not redirects:
        return Verdict(Grade.PASS, "No answer was a redirect.")
    locations = sorted({answer.location for _, answer in redirects})
    names = _names(what for what, _ in redirects)
    statuses = ", ".join(sorted({str(answer.status) for _, answer in redirects}))
    count = f"{len(redirects)} answers were redirects" if len(redirects) != 1 else "1 answer was a redirect"
    return Verdict(
        Grade.FAIL,
        f"{count} ({statuses} to {', '.join(loc or '(no Location)' for loc in locations)}): {names}. Hotmart "
        "does not follow redirects, so each counts as a failed delivery.",
        redirect_fix(url, locations[0]),
    )


def grade_speed(timed: list[tuple[str, Answer]], *, limits: Limits) -> Verdict:
    """Every answer in time: fail past the time limit, warn when slow enough to risk it."""
    answered = [(what, a) for what, a in timed if a.status >= 0]
    late = [(what, a) for what, a in timed if a.timed_out]
    fix = (
        "Store the notification and answer 200 at once; do the slow work (e-mails, API calls, access grants) "
        "afterwards, in a background job."
    )
    if late:
        names = _names(what for what, _ in late)
        return Verdict(
            Grade.FAIL,
            f"{len(late)} POST{'s' if len(late) != 1 else ''} got no answer in time (the limits: "
            f"{limits.read_timeout:g} s for the first byte, {limits.total_timeout:g} s in all): {names}. Hotmart "
            "counts a late answer as a failure and sends the notification again.",
            fix,
        )
    if not answered:
        return Verdict(Grade.SKIP, "No answer came to time.")
    what, slowest = max(answered, key=lambda pair: pair[1].duration_ms)
    median = statistics.median(a.duration_ms for _, a in answered)
    seen = f"The slowest answer took {slowest.duration_ms:,} ms ({what}); the median {median:,.0f} ms."
    if slowest.duration_ms >= limits.slow_after * 1000:
        return Verdict(
            Grade.WARN,
            seen + f" That is more than half of the {min(limits.read_timeout, limits.total_timeout):g} s limit: a "
            "busier moment would make it time out.",
            fix,
        )
    return Verdict(Grade.PASS, seen)


def grade_https(url: str, *, local: bool) -> Verdict:
    """The hottok travels in a header: over plain http anyone on the way can read it."""
    if url.lower().startswith("https://"):
        return Verdict(Grade.PASS, "The URL uses https.")
    if local:
        return Verdict(Grade.PASS, "Plain http to a local or private address: fine for testing on your machine.")
    return Verdict(
        Grade.WARN,
        "The URL uses plain http: the hottok, and your buyers' data, travel unencrypted.",
        "Serve the receiver over https (e.g. a Let's Encrypt certificate) and use the https URL.",
    )


def _names(whats, shown: int = 5) -> str:
    """``A, B, C, D, E and 3 more``: which POSTs, without a wall of names."""
    named = sorted(set(whats))
    more = f" and {len(named) - shown} more" if len(named) > shown else ""
    return ", ".join(named[:shown]) + more


def overall(grades: list[str]) -> str:
    """The run's grade: fail when any check failed, warn when any warned, else pass."""
    if Grade.FAIL in grades:
        return Grade.FAIL
    if Grade.WARN in grades:
        return Grade.WARN
    return Grade.PASS
