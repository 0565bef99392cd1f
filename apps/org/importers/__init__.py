"""CSV import of org units and employees: read, check every row, then write the whole file or nothing.

columns: what each kind of file holds, the limits, RowError and ImportResult; reading: the file, its header and
cells; planning: the checks and the writes a valid file needs; writing: those writes and the audit entry;
service: org_csv_import, which runs the steps in one transaction. The names below are re-exported for callers;
a test that patches a limit or step patches the module that reads it (e.g. reading.MAX_IMPORT_ROWS).
"""

from .columns import COLUMNS, EXAMPLES, MAX_IMPORT_BYTES, MAX_IMPORT_ROWS, Column, ImportKind, ImportResult, RowError
from .reading import size_problem
from .service import org_csv_import

__all__ = [
    "COLUMNS",
    "EXAMPLES",
    "MAX_IMPORT_BYTES",
    "MAX_IMPORT_ROWS",
    "Column",
    "ImportKind",
    "ImportResult",
    "RowError",
    "org_csv_import",
    "size_problem",
]
