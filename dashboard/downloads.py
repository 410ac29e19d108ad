"""The export download: a Flask route that sends the file a planner chose, and logs it.

``GET /export/download?<export request>`` (the query the export page's download link
carries, :meth:`dashboard.views.export.ExportRequest.to_query`) is read strictly,
checked against the signed-in user's scope, written (or taken from the preview), logged
in the audit log and streamed from disk.

A route rather than a ``dcc.Download``: a ``dcc.Download`` sends the file base64-encoded
inside a callback's JSON answer, which for a county at res 9 (tens of MB) means the whole
file held several times in the server's and the browser's memory; the route streams it
from disk with ``send_file``. And it is an ordinary request, so the sign-in guard that
protects every page protects it the same way, and a link to it can be shared or
scripted (with the user's own session) without the page.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote

from flask import Flask, Response, request, send_file

from dashboard.views.export import ExportProblem, ExportRequest, Scope, request_from_query
from dashboard.views.export_files import ExportService, Prepared
from geodata.audit import AuditError, record

DOWNLOAD_PATH: Final = "/export/download"
ANONYMOUS: Final = "anonymous"


@dataclass(frozen=True)
class Viewer:
    """Who is exporting: a user name for the audit log and the precincts they may see
    (None for the whole county)."""

    name: str
    scope: Scope = None


def signed_in() -> Viewer:
    """The signed-in user, from ``dashboard.auth.current_user()``.

    Until the sign-in package exists, everyone is ``"anonymous"`` with the whole county.
    Once it exists it is used strictly: an error in it is not swallowed, and a request
    without a user gets an empty scope (nothing to export) rather than the county.
    """
    if importlib.util.find_spec("dashboard.auth") is None:
        return Viewer(ANONYMOUS, None)
    from dashboard.auth import current_user  # type: ignore[import-not-found,unused-ignore]

    user = current_user()
    if user is None:
        return Viewer(ANONYMOUS, frozenset())
    name = getattr(user, "name", None) or getattr(user, "username", None) or ANONYMOUS
    scope = getattr(user, "scope", None)
    return Viewer(str(name), None if scope is None else frozenset(str(p) for p in scope))


def download(service: ExportService, search: str, viewer: Viewer) -> tuple[Prepared, ExportRequest]:
    """Prepare the download for the query ``search`` and log it; the file to send.

    Parameters
    ----------
    service : ExportService
    search : str
        The download link's query string.
    viewer : Viewer
        Who downloads, and their scope.

    Returns
    -------
    tuple
        The written file and the request it answers.

    Raises
    ------
    ExportProblem
        For a request that gives no file (bad value, out of scope, empty, unwritable).
    AuditError
        When the audit log cannot be written: nothing may then be sent.
    """
    asked = request_from_query(search, last_day=service.source.last_day, strict=True)
    prepared = service.prepare(asked, viewer.scope)
    since, until = asked.span(service.source.last_day)
    record(
        service.data_dir,
        user=viewer.name,
        action="export",
        layer=list(asked.layers),
        res=asked.res,
        fmt=asked.fmt,
        crs=asked.crs,
        features=sum(prepared.features.values()),
        per_layer=prepared.features,
        area=prepared.area.describe(asked.area, viewer.scope),
        time_window={"since": since, "until": until},
        categories=list(asked.cats) or "all",
        bytes=prepared.bytes,
        file=prepared.file_name,
        via="dashboard",
    )
    return prepared, asked


def content_disposition(name: str, fallback: str) -> str:
    """``attachment`` with the plain ``filename`` (ASCII: the name without the area's
    Chinese names) and the full name as RFC 5987 ``filename*`` (UTF-8, percent-encoded),
    which every current browser prefers."""
    plain = fallback if fallback and fallback.isascii() else "export.zip"
    plain = plain.replace("\\", "_").replace('"', "_")
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"


def _text(message: str, status: int) -> Response:
    return Response(message + "\n", status=status, mimetype="text/plain")


def register_download_route(server: Flask, service: ExportService) -> None:
    """Add ``GET /export/download`` to the app's Flask server."""

    def export_download() -> Response:
        query = request.query_string.decode("utf-8", errors="replace")
        lang = "en" if request.args.get("lang") == "en" else "zh"
        try:
            prepared, _ = download(service, query, signed_in())
        except ExportProblem as problem:
            return _text(problem.text(lang), problem.status)
        except AuditError:
            return _text(ExportProblem("export_audit_failed").text(lang), 503)
        response = send_file(prepared.path, mimetype="application/zip", max_age=0)
        response.headers["Content-Disposition"] = content_disposition(
            prepared.file_name, prepared.ascii_name
        )
        return response

    server.add_url_rule(DOWNLOAD_PATH, endpoint="pnm_export_download", view_func=export_download)
