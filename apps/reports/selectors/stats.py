"""Medians and percentiles from histograms ({value: how many}), so SQL only groups and counts.

Aggregating to a histogram keeps each report a fixed number of GROUP BY queries whose result size depends on the
number of distinct values (a few dozen), not on the number of cases; histograms of sub-units add up, so roll-ups
to ancestors are exact.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping


def _nth(histogram: Mapping[float, int], index: int) -> float:
    """The value at 0-based `index` of the sorted observations."""
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if index < seen:
            return value
    raise IndexError(index)


def median(histogram: Mapping[float, int]) -> float | None:
    """The middle observation (the mean of the two middle ones for an even count); None when empty."""
    total = sum(histogram.values())
    if total == 0:
        return None
    if total % 2:
        return float(_nth(histogram, total // 2))
    return (_nth(histogram, total // 2 - 1) + _nth(histogram, total // 2)) / 2


def percentile(histogram: Mapping[float, int], share: float) -> float | None:
    """Nearest-rank percentile: the smallest observation that at least `share` (0-1) of them do not exceed."""
    total = sum(histogram.values())
    if total == 0:
        return None
    # Rounded first so that 0.9 * 10 (9.000000000000002 in floating point) is rank 9, not 10.
    rank = max(1, math.ceil(round(share * total, 9)))
    return float(_nth(histogram, rank - 1))


def merged(*histograms: Mapping[float, int]) -> Counter[float]:
    """The histogram of all observations together."""
    total: Counter[float] = Counter()
    for histogram in histograms:
        total.update(histogram)
    return total


def rate(part: int, whole: int) -> float | None:
    """part / whole, or None when there is nothing to divide by."""
    return part / whole if whole else None
