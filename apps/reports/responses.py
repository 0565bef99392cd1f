"""An export as an HTTP download: CSV streamed as it is written, XLSX written to a temporary file first."""

from __future__ import annotations

import tempfile

from django.http import FileResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase

from .renderers.csv import CsvRenderer
from .services import PreparedExport


def export_response(export: PreparedExport) -> HttpResponseBase:
    """The download of a prepared export (record it first: `export_record(..., destination="download")`)."""
    if isinstance(export.renderer, CsvRenderer):
        response = StreamingHttpResponse(
            export.renderer.stream(export.sections), content_type=export.renderer.content_type
        )
        response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
        return response
    scratch = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it (and the OS removes it)
    export.renderer.write(export.sections, scratch)
    scratch.seek(0)
    return FileResponse(
        scratch, content_type=export.renderer.content_type, as_attachment=True, filename=export.filename
    )
