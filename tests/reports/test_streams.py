"""Report streams read querysets in chunks through server-side cursors, in one snapshot, and close them all."""

import pytest
from django.db import connection

from apps.org.selectors import org_tree_get
from apps.reports.filters import ReportFilters
from apps.reports.selectors import case_detail
from apps.reports.selectors.streams import read_snapshot
from tests.reports.conftest import grow


def open_cursors() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_cursors")
        return cursor.fetchone()[0]


@pytest.mark.parametrize("chunk_size", [1, 2, 5, 12, 1000])
def test_a_stream_gives_every_row_once_in_order_whatever_the_chunk_size(company, chunk_size):
    grow(company, 9)
    cases = company.h2.cases.order_by("pk").values_list("pk", "subject_employee_id")

    with read_snapshot(chunk_size=chunk_size) as snapshot:
        streamed = list(snapshot.rows(cases))

    assert streamed == list(cases)
    assert len(streamed) == 3 + 9


@pytest.mark.postgres
def test_a_stream_reads_through_a_server_side_cursor_that_the_snapshot_closes(company):
    grow(company, 9)

    with read_snapshot(chunk_size=2) as snapshot:
        rows = snapshot.rows(company.h2.cases.order_by("pk").values_list("pk"))
        next(rows)
        assert open_cursors() == 1  # the rest of the rows wait in the database, not in memory
    assert open_cursors() == 0


@pytest.mark.postgres
def test_leaving_a_report_early_closes_its_cursors_and_leaves_the_connection_usable(company):
    grow(company, 9)
    detail = case_detail(filters=ReportFilters(), tree=org_tree_get(), today=company.today)

    rows = detail.rows()
    first = [next(rows) for _ in range(3)]
    rows.close()  # the client went away mid-download

    assert len(first) == 3
    assert open_cursors() == 0
    with read_snapshot() as snapshot:
        assert len(list(snapshot.rows(company.h2.cases.order_by("pk").values_list("pk")))) == 3 + 9
