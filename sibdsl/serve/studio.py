"""The studio's own routes beside the API: open, format and save a contract of the folder, and the
document preview (a form posted into a sandboxed frame, so the document's styles need no relaxing
of the studio page's Content-Security-Policy).

Saving writes FOLDER/NAME.sib atomically (sibdsl/fileio.py, as `sibc fmt` does) and only when the
file on disk is still the version the page opened (E865), so no one's edit is lost.
"""

from __future__ import annotations

import hmac
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..lang import texts
from . import api
from .api import ApiError, Workspace, problem
from .responses import JsonResponse as JSONResponse  # any text, a lone surrogate included


def routes(ws: Workspace, *, token, body_of, read, error, document_csp: str, lang: str) -> list[Route]:
    def named(payload: dict) -> str:
        name = payload.get("name")
        ws.path_of(name, must_exist=False)  # E861 for anything that is not a plain name
        return name

    async def config(request: Request) -> Response:
        return JSONResponse({"ok": True, "lang": lang, "folder": ws.folder.name if ws.folder else None,
                             "token_required": bool(token),
                             # issue 17/20: the words of the comparison, both languages, from the one
                             # table sibdsl/texts/diff.json (the CLI's English), not copied into the page
                             "texts": {"diff": _thawed(texts("diff"))}})

    async def open_file(request: Request) -> Response:
        try:
            name = request.query_params.get("name")
            text = await run_in_threadpool(ws.read, name)
        except ApiError as err:
            return error(err)
        return JSONResponse({"ok": True, "name": name, "source": text, "version": api.fingerprint(text),
                             "has_scenarios": ws.path_of(name).with_name(f"{name}.scenarios.csv").is_file(),
                             "outcomes": _outcomes_beside(ws, name)})

    async def save(request: Request) -> Response:
        try:
            payload = await body_of(request)
            name = named(payload)
            text = payload.get("source")
            if not isinstance(text, str):
                raise api.bad_request("`source` must be the contract's text")
            if len(text) > api.MAX_SOURCE_CHARS:
                raise ApiError(422, [problem("E106", f"the contract has more than {api.MAX_SOURCE_CHARS:,} characters")])
            version = await run_in_threadpool(_write, ws, name, text, payload.get("version"),
                                              payload.get("create") is True)
        except ApiError as err:
            return error(err)
        return JSONResponse({"ok": True, "name": name, "version": version})

    async def format_(request: Request) -> Response:
        try:
            payload = await body_of(request)
            text = payload.get("source")
            if not isinstance(text, str):
                raise api.bad_request("`source` must be the contract's text")
            formatted = await run_in_threadpool(_format, text)
        except ApiError as err:
            return error(err)
        return JSONResponse({"ok": True, "source": formatted, "changed": formatted != text})

    async def preview(request: Request) -> Response:
        """The council document of the posted draft, for the studio's preview frame."""
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
            return error(ApiError(415, [problem("E860", "the preview is a form post")]))
        try:
            raw = await read(request)
        except ApiError as err:
            return error(err)
        form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True).items()}
        if token and not hmac.compare_digest(form.get("token", "").encode(), token.encode()):
            return error(ApiError(401, [problem("E863", "this server needs an access token")]))
        request_ = {"contract": {"source": form.get("source", "")}, "format": form.get("format", "html")}
        if form.get("name"):
            request_["contract"]["name"] = form["name"]
        if form.get("lang") in ("sv", "en"):
            request_["lang"] = form["lang"]
        try:
            data, media, filename = await run_in_threadpool(api.render, ws, request_)
        except ApiError as err:
            return _problem_page(err, document_csp)
        disposition = "attachment" if media in api.DOWNLOADS else "inline"
        return Response(data, media_type=media, headers={"Content-Security-Policy": document_csp,
                                                         "Content-Disposition": f'{disposition}; filename="{filename}"'})

    async def new(request: Request) -> Response:
        """A new contract in the folder from one of `sibc new`'s templates; never over an existing file."""
        from ..new import TEMPLATES, Answers, render

        try:
            payload = await body_of(request)
            name = named(payload)
            template = payload.get("template", "savings-floor-cap")
            if not isinstance(template, str) or template not in TEMPLATES:
                raise api.bad_request(f"no template {str(template)[:40]!r}", "one of " + ", ".join(TEMPLATES))
            title = payload.get("title") or name
            if not isinstance(title, str) or len(title) > 200:
                raise api.bad_request("`title` must be a text of at most 200 characters")
            text = render(template, Answers(title=title))
            version = await run_in_threadpool(_write, ws, name, text, None, True)
        except ApiError as err:
            return error(err)
        return JSONResponse({"ok": True, "name": name, "version": version, "source": text})

    async def templates(request: Request) -> Response:
        from ..new import TEMPLATES

        return JSONResponse({"ok": True, "templates": [{"name": k, "description": v} for k, v in TEMPLATES.items()]})

    return [Route("/studio/api/config", config), Route("/studio/api/new", new, methods=["POST"]),
            Route("/studio/api/templates", templates), Route("/studio/api/file", open_file),
            Route("/studio/api/save", save, methods=["POST"]), Route("/studio/api/format", format_, methods=["POST"]),
            Route("/studio/preview", preview, methods=["POST"])]


def _outcomes_beside(ws: Workspace, name: str) -> dict | None:
    """NAME.outcomes.json beside the contract, to fill the form with (None when absent or unreadable)."""
    import json

    path = ws.path_of(name).with_name(f"{name}.outcomes.json")
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig")) if path.is_file() else None
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return {k: v for k, v in data.items() if not k.startswith("_")} if isinstance(data, dict) else None


def _write(ws: Workspace, name: str, text: str, version, create: bool = False) -> str:
    from ..fileio import OutputError, write_atomic

    path = ws.path_of(name, must_exist=False)

    def refused(reason: str) -> ApiError:
        return ApiError(500, [problem("E866", f"{name}.sib could not be saved: {reason}",
                                      "the old file is unchanged; fix the folder's permissions or free space",
                                      where=f"{name}.sib")])

    if create and path.exists():
        raise ApiError(409, [problem("E865", f"{name}.sib already exists", "choose another name, or open it",
                                     where=f"{name}.sib")])
    if path.exists():
        try:
            current = path.read_bytes().decode("utf-8-sig", "replace")
        except OSError as err:
            raise refused(err.strerror or str(err)) from None
        if version is not None and version != api.fingerprint(current):
            raise ApiError(409, [problem("E865", f"{name}.sib was changed on disk since you opened it",
                                         "reload it and merge your change; your text stays in the editor",
                                         where=f"{name}.sib")], version=api.fingerprint(current))
    try:
        write_atomic(path, text)
    except OutputError as err:
        raise refused(str(err)) from None
    return api.fingerprint(text)


def _format(text: str) -> str:
    from ..diagnostics import SibError
    from ..fmt import format_file_text
    from ..source import Source

    data = text.encode("utf-8", "surrogatepass")  # a lone surrogate: E101 from fmt, not E900
    try:
        return format_file_text(Source("<draft>", text), data).decode("utf-8")
    except SibError as err:
        raise ApiError(422, api.diagnostics_json(err.diagnostics)) from None


def _problem_page(err: ApiError, csp: str) -> Response:
    """The preview frame shows why there is no document: each diagnostic, escaped."""
    from markupsafe import escape

    items = "".join(f"<li><b>{escape(d['code'])}</b> {escape(d['message'])}"
                    + (f" (line {d['span']['line']})" if d.get("span") else "")
                    + (f"<br><i>{escape(d['hint'])}</i>" if d.get("hint") else "") + "</li>"
                    for d in err.diagnostics)
    page = (f"<!doctype html><meta charset=utf-8><title>No document</title>"
            f"<body style='font-family:sans-serif'><p>The document cannot be made until these are fixed:</p>"
            f"<ul>{items}</ul></body>")
    return Response(page, status_code=err.status, media_type="text/html; charset=utf-8",
                    headers={"Content-Security-Policy": csp})


def _thawed(value):
    """lang.texts' read-only view as plain JSON data."""
    if isinstance(value, tuple):
        return [_thawed(item) for item in value]
    if hasattr(value, "items"):
        return {key: _thawed(item) for key, item in value.items()}
    return value
