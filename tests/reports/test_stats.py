"""Medians and percentiles from histograms: the definitions docs/reports.md gives."""

from collections import Counter

from apps.reports.selectors.stats import median, merged, percentile, rate


def test_median_of_an_odd_count_is_the_middle_value():
    assert median({0: 1, 1: 1, 5: 1}) == 1


def test_median_of_an_even_count_is_the_mean_of_the_two_middle_values():
    assert median({0: 2, 1: 1, 2: 1}) == 0.5


def test_median_of_nothing_is_undefined():
    assert median({}) is None
    assert median(Counter()) is None


def test_percentile_is_the_nearest_rank():
    hours = {2: 1, 10: 1, 30: 1, 50: 1, 200: 1}
    assert percentile(hours, 0.9) == 200  # rank ceil(4.5) = 5
    assert percentile(hours, 0.5) == 30
    assert percentile({1: 9, 100: 1}, 0.9) == 1  # rank 9 of 10, not 10 (no floating-point drift)


def test_histograms_of_sub_units_add_up_to_the_whole():
    assert merged({1: 2}, {1: 1, 3: 1}) == Counter({1: 3, 3: 1})
    assert median(merged({0: 1}, {2: 1}, {4: 1})) == 2


def test_rate_is_undefined_without_a_whole():
    assert rate(1, 4) == 0.25
    assert rate(0, 0) is None
