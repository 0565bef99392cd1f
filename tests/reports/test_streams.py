"""Streams read ahead by a helper thread give the same rows in the same order, pass errors on, and stop cleanly."""

import threading

import pytest

from apps.org.selectors import org_tree_get
from apps.reports.filters import ReportFilters
from apps.reports.selectors import case_detail, unmet_requirements
from apps.reports.selectors import streams as streams_module
from apps.reports.selectors.streams import Snapshot, _ReadAhead, read_snapshot
from tests.reports.conftest import grow


def helpers_alive() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "report-read-ahead"]


@pytest.mark.parametrize("size", [0, 1, 2, 3, 4, 5, 9, 10, 11])
def test_read_ahead_gives_every_row_once_in_order(size):
    rows = [(i, f"row {i}") for i in range(size)]

    reader = _ReadAhead(iter(rows), 3)
    assert list(reader) == rows
    reader.close()

    assert not helpers_alive()


def test_an_error_while_reading_ahead_reaches_the_reader():
    def failing():
        yield from [(1,), (2,), (3,), (4,)]
        raise ConnectionError("the database went away")

    reader = _ReadAhead(failing(), 2)
    got = []
    with pytest.raises(ConnectionError, match="went away"):
        for row in reader:
            got.append(row)
    reader.close()

    assert got == [(1,), (2,), (3,), (4,)]
    assert not helpers_alive()


def test_a_reader_that_stops_early_stops_the_helper_and_closes_the_rows():
    closed = []

    def endless():
        try:
            i = 0
            while True:
                yield (i,)
                i += 1
        finally:
            closed.append(True)

    snapshot = Snapshot(read_ahead=True)
    snapshot._readers.append(reader := _ReadAhead(endless(), 5))
    assert [row for _, row in zip(range(12), reader, strict=False)] == [(i,) for i in range(12)]
    snapshot.close()

    assert closed == [True]
    assert not helpers_alive()


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of two rows, so the test company's streams are read ahead by helper threads."""
    monkeypatch.setattr(streams_module, "STREAM_CHUNK_SIZE", 2)


@pytest.mark.postgres
def test_the_case_detail_read_ahead_equals_the_case_detail_read_at_once(company, small_chunks, monkeypatch):
    grow(company, 9)
    tree = org_tree_get()

    rows_ahead = list(case_detail(filters=ReportFilters(), tree=tree, today=company.today).rows())
    monkeypatch.setattr(streams_module, "STREAM_CHUNK_SIZE", 1000)  # one chunk each: no helper starts
    at_once = list(case_detail(filters=ReportFilters(), tree=tree, today=company.today).rows())

    assert len(rows_ahead) == 17
    assert rows_ahead == at_once
    assert not helpers_alive()


@pytest.mark.postgres
def test_the_unmet_ranking_is_the_same_read_ahead(company, small_chunks):
    grow(company, 9)
    ranking = unmet_requirements(filters=ReportFilters(), tree=org_tree_get(), today=company.today)

    story = next(row for row in ranking if row.label == "One customer story")
    assert (story.open_judged, story.open_blocked) == (3 + 5, 1)  # fay, cat, gus and five grown cases; gus short
    assert not helpers_alive()


@pytest.mark.postgres
def test_leaving_a_snapshot_early_leaves_the_connection_usable(company, small_chunks):
    grow(company, 9)
    detail = case_detail(filters=ReportFilters(), tree=org_tree_get(), today=company.today)

    rows = detail.rows()
    first = [next(rows) for _ in range(3)]
    rows.close()  # the client went away mid-download

    assert len(first) == 3 and not helpers_alive()
    with read_snapshot() as snapshot:
        assert len(list(snapshot.rows(company.h2.cases.order_by("pk").values_list("pk")))) == 3 + 9
