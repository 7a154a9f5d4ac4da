"""The UI shell: ``/`` serves index.html; its scripts and styles are static files under ``/ui``.

``/?token=…`` is how the URL that ``legato up`` prints in local mode logs the browser in: the
token is kept in an HttpOnly cookie and the browser is sent on to ``/``, so the token leaves the
address bar and the history.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from legato.web.auth import is_local_token, set_local_cookie
from legato.web.state import web_state

UI_DIR = Path(__file__).resolve().parent.parent / "ui"

router = APIRouter(include_in_schema=False)


@router.get("/")
def index(request: Request, token: Annotated[str | None, Query(max_length=200)] = None) -> Response:
    if token is not None:
        response = RedirectResponse("/", status_code=303)
        if is_local_token(token, web_state(request)):
            set_local_cookie(request, response, token)
        return response
    return FileResponse(UI_DIR / "index.html", media_type="text/html; charset=utf-8")
