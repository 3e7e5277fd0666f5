"""The Overview's chart of deliveries per hour, as geometry for an inline SVG (no JavaScript, no library)."""

from __future__ import annotations

from dataclasses import dataclass

from history.selectors import HourBucket

WIDTH, HEIGHT, GAP = 720, 160, 4


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    segments: list[tuple[str, float, float, int]]  # (outcome, y, height, count), bottom to top
    label: str  # "14:00"
    title: str  # "14:00–15:00: 12 delivered, 1 failed, 0 in progress"
    tick: bool  # show the hour under the bar


def hour_bars(buckets: list[HourBucket]) -> tuple[list[Bar], int]:
    """Stacked bars (delivered, failed, in progress) scaled to the busiest hour; answers (bars, that peak)."""
    peak = max((b.total for b in buckets), default=0)
    slot = WIDTH / max(len(buckets), 1)
    bars = []
    for index, bucket in enumerate(buckets):
        y = float(HEIGHT)
        segments = []
        for outcome, count in (("delivered", bucket.delivered), ("failed", bucket.failed), ("open", bucket.open)):
            if count and peak:
                height = max(HEIGHT * count / peak, 2.0)
                y -= height
                segments.append((outcome, round(y, 1), round(height, 1), count))
        label = bucket.start.strftime("%H:00")
        title = (
            f"{label}–{bucket.start.hour + 1:02d}:00: {bucket.delivered} delivered, {bucket.failed} failed or "
            f"cancelled, {bucket.open} in progress"
        )
        bars.append(Bar(round(index * slot + GAP / 2, 1), round(slot - GAP, 1), segments, label, title, index % 3 == 0))
    return bars, peak
