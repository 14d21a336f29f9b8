"""The consoles' pages (issue 16), on the API's origin: the CSR dashboard with the agent view
(``/console``), the customer's Join and Remote Support page (``/join``, where invitations
link; ``/queues/{id}/form``, a queue's entry form), and their scripts and style sheet
(``/app/...``). The scripts are built from ``consoles/`` (TypeScript against a client
generated from ``/openapi.json``) by ``make consoles``, and the build is kept in the package
(``pages/app``) so that the image and every install serve it without Node.js
(``consoles/README.md``)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

PAGES = resources.files("gateway") / "pages"

router = APIRouter(include_in_schema=False)


def _page(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


JOIN_PAGE, CONSOLE_PAGE = _page("join.html"), _page("console.html")


@router.get("/join", response_class=HTMLResponse)
async def join_page() -> HTMLResponse:
    """Issue 14.9: where invitations link (``SUPPORT_SITE_URL/join?token=...``) and where the
    website instructions send a customer with the session number; after joining, the
    customer's Remote Support page."""
    return HTMLResponse(JOIN_PAGE)


@router.get("/queues/{queue_id}/form", response_class=HTMLResponse)
async def entry_form_page(queue_id: str) -> HTMLResponse:
    """R8: a queue's entry form, then the place in the queue and the estimated wait (R5)
    while the customer waits, then the Remote Support page: the Join page's script decides
    by the path."""
    return HTMLResponse(JOIN_PAGE)


@router.get("/console", response_class=HTMLResponse)
async def console_page() -> HTMLResponse:
    """The CSR dashboard and the agent view."""
    return HTMLResponse(CONSOLE_PAGE)


@router.get("/")
async def site() -> RedirectResponse:
    """The website instructions say "go to the site, choose Join": the Join page (staff open
    ``/console``)."""
    return RedirectResponse("/join", status_code=307)


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/app", StaticFiles(directory=Path(str(PAGES / "app"))), name="app")
