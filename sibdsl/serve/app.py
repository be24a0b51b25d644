"""The ASGI application (Starlette): the /v1 JSON API, and with `studio=True` the studio's pages.

Every request passes one gate before any work (`Guard`): the Host it was addressed to (a web page
cannot reach a loopback server through DNS rebinding), the Origin of a browser request (another
site cannot post to it), the access token when the server has one, and the size of the body.
Every response carries a strict Content-Security-Policy and nosniff; API errors are the coded
diagnostics of api.py as JSON, never a traceback.
"""

from __future__ import annotations

import gc
import hmac
import logging
import threading
import time
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .. import __version__
from . import api
from .api import ApiError, Workspace, problem

STATIC = Path(__file__).parent / "static"
log = logging.getLogger("sibc.serve")

# the studio's own page: scripts and styles from this server only, nothing inline, nothing framed
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
# a rendered council document: its own inline styles and SVG chart, no script at all, sandboxed
DOCUMENT_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
                "form-action 'none'; frame-ancestors 'self'; sandbox")


def _json(status: int, body: dict, headers: dict | None = None) -> JSONResponse:
    from .responses import JsonResponse  # any text, a lone surrogate included

    return JsonResponse(body, status_code=status, headers=headers)


def _error(err: ApiError) -> JSONResponse:
    return _json(err.status, err.body(), {"WWW-Authenticate": "Bearer"} if err.status == 401 else None)


class _Collector:
    """Python's cyclic collector held off while operations work, and let run after their answers are
    sent. A check of a long contract makes tens of thousands of objects (the declarations an edit
    moved, their model); the collector's passes over them, triggered by allocations during the
    request, cost a keystroke on 5 000 clauses ≈ 55 ms of processor time before its answer
    (docs/performance.md). Held, the same pass runs once the answer is on its way. Nothing is
    kept longer: reference counting frees as usual, and what only the collector can free (cycles)
    waits at most until no operation is running. Counted, so overlapping requests release it once."""

    def __init__(self):
        self._lock = threading.Lock()
        self._held = 0
        self._enable = False

    def hold(self) -> None:
        with self._lock:
            if self._held == 0:
                self._enable = gc.isenabled()  # disabled by someone else: left to them
                gc.disable()
            self._held += 1

    def release(self) -> None:
        with self._lock:
            self._held -= 1
            if self._held == 0 and self._enable:
                gc.enable()

    @property
    def held(self) -> int:
        return self._held


_COLLECTOR = _Collector()


class _ReleasedAfter:
    """An ASGI response that releases the collector once it has been sent (or the client has gone)."""

    def __init__(self, response: Response):
        self.response = response

    async def __call__(self, scope, receive, send) -> None:
        try:
            await self.response(scope, receive, send)
        finally:
            _COLLECTOR.release()


def _timed(function, ws, payload: dict, timing: dict):
    """function(ws, payload) in a worker thread, its wall and processor time noted in `timing`."""
    wall, cpu = time.perf_counter(), time.thread_time()
    try:
        return function(ws, payload)
    finally:
        timing["work"], timing["cpu"] = time.perf_counter() - wall, time.thread_time() - cpu


def _timing(response: Response, timing: dict, started: float) -> Response:
    """The Server-Timing header (W3C): where a request's time went on the server — reading and
    decoding the body, the operation (wall and this thread's processor time), and the whole answer
    with the JSON written — so that a page (performance.getEntriesByType("resource")[i].serverTiming)
    or a client can tell the server's share of a delay from the network's and its own."""
    timing["total"] = time.perf_counter() - started
    response.headers["Server-Timing"] = ", ".join(f"{k};dur={v * 1000:.1f}" for k, v in timing.items())
    return response


def _file(data: bytes, media: str, filename: str) -> Response:
    """A document or workbook: saved by a browser (attachment) unless it is a page to show."""
    disposition = "attachment" if media in api.DOWNLOADS else "inline"
    return Response(data, media_type=media, headers={
        "Content-Security-Policy": DOCUMENT_CSP,
        "Content-Disposition": f'{disposition}; filename="{filename}"'})


class Guard:
    """Pure ASGI middleware: host, origin and token checks, the body-size limit, security headers."""

    def __init__(self, app, *, hosts: set[str], token: str | None):
        self.app, self.hosts, self.token = app, hosts, token

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        path = scope["path"]
        refusal = self.refusal(headers, path, scope.get("query_string", b""))
        if refusal is None and "content-length" in headers:
            try:
                size = int(headers["content-length"])
            except ValueError:
                size = -1
            if size < 0:
                refusal = api.bad_request("the Content-Length header is not a number")
            elif size > api.MAX_REQUEST_BYTES:
                refusal = api.too_large(size)
        if refusal is not None:
            return await self.secure(_error(refusal), path)(scope, receive, send)

        async def secure_send(message):
            if message["type"] == "http.response.start":
                extra = _security_headers(path, message.get("headers", []))
                message = {**message, "headers": list(message.get("headers", [])) + extra}
            await send(message)

        await self.app(scope, receive, secure_send)

    def refusal(self, headers: dict, path: str, query: bytes) -> ApiError | None:
        host = headers.get("host", "")
        if self.hosts and host.lower() not in self.hosts:
            return ApiError(403, [problem("E863", f"this server does not answer to the host name {host[:80]!r}",
                                          "address it as " + " or ".join(sorted(self.hosts)[:2]) +
                                          ", or start it with --allowed-host")])
        origin = headers.get("origin")
        if origin is not None and origin != "null" and origin.split("://", 1)[-1].lower() not in self.hosts \
                and self.hosts:
            return ApiError(403, [problem("E863", f"requests from the web page at {origin[:80]!r} are not allowed",
                                          "the API answers programs and its own studio, not other web sites")])
        # the preview form is posted into a sandboxed frame, for which Chromium sends `Origin: null`;
        # it only renders the posted text, never reads or writes a file
        if origin == "null" and path != "/studio/preview":
            return ApiError(403, [problem("E863", "requests from a sandboxed or local page are not allowed")])
        if self.token and _needs_token(path):
            sent = headers.get("authorization", "")
            given = sent[7:] if sent.lower().startswith("bearer ") else ""
            if not given and path == "/studio/preview":
                return None  # the preview is a form post: its token is checked in the form (see preview)
            if not hmac.compare_digest(given.encode(), self.token.encode()):
                return ApiError(401, [problem("E863", "a valid access token is required" if given else
                                              "this server needs an access token",
                                              "send it as `Authorization: Bearer TOKEN`")])
        return None

    @staticmethod
    def secure(response: Response, path: str):
        response.headers.update({k.decode(): v.decode() for k, v in _security_headers(path, [])})
        return response


async def read_limited(request: Request) -> bytes:
    """The body, counted as it arrives: a chunked body (no Content-Length for the guard to check)
    is refused (E862) as soon as it passes the limit, without being kept."""
    parts, seen = [], 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > api.MAX_REQUEST_BYTES:
            raise api.too_large(0)
        parts.append(chunk)
    return b"".join(parts)


def _needs_token(path: str) -> bool:
    """Everything that reads or computes needs the token; the static studio files and the OpenAPI
    description do not (they hold nothing of the user's)."""
    return not (path.startswith("/studio/static/") or path in ("/", "/v1/", "/studio", "/studio/",
                                                                "/v1/openapi.json", "/v1/health"))


def _security_headers(path: str, existing) -> list[tuple[bytes, bytes]]:
    names = {k.lower() for k, _ in existing}
    out = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
           (b"cross-origin-opener-policy", b"same-origin"), (b"cross-origin-resource-policy", b"same-origin")]
    if b"content-security-policy" not in names:
        out.append((b"content-security-policy", CSP.encode()))
    if path.startswith(("/v1/", "/studio/api/")):
        out.append((b"cache-control", b"no-store"))
    return out


def create_app(folder: str | Path | None, *, studio: bool = False, token: str | None = None,
               hosts: set[str] | None = None, allow_source: bool = True, budget: float = api.DEFAULT_BUDGET,
               lang: str = "en") -> Starlette:
    """The application over `folder`. `hosts`: the Host header values it answers to (empty: any, only
    behind a proxy that checks it); `token`: required on every API call when set."""
    ws = Workspace(folder, allow_source=allow_source or studio, budget=budget)

    async def body_of(request: Request) -> dict:
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            raise ApiError(415, [problem("E860", "the request must be JSON",
                                         "send the header `Content-Type: application/json`")])
        return api.decode_json(await read_limited(request))

    def operation(name: str):
        function = api.OPERATIONS[name]

        async def endpoint(request: Request):
            _COLLECTOR.hold()
            try:
                response = await answer(request)
            except BaseException:
                _COLLECTOR.release()
                raise
            return _ReleasedAfter(response)

        async def answer(request: Request) -> Response:
            started = time.perf_counter()
            timing: dict[str, float] = {}
            try:
                payload = await body_of(request)
                timing["read"] = time.perf_counter() - started
                if name == "eval" and payload.get("format") == "xlsx":
                    return _file(*await run_in_threadpool(api.settlement_file, ws, payload))
                status, body = await run_in_threadpool(_timed, function, ws, payload, timing)
            except ApiError as err:
                return _timing(_error(err), timing, started)
            except RecursionError:
                return _error(ApiError(422, [problem("E106", "the input is too deeply nested to process")]))
            return _timing(_json(status, body), timing, started)

        return Route(f"/v1/{name}", endpoint, methods=["POST"], name=name)

    async def render(request: Request) -> Response:
        try:
            payload = await body_of(request)
            data, media, filename = await run_in_threadpool(api.render, ws, payload)
        except ApiError as err:
            return _error(err)
        return _file(data, media, filename)

    async def contracts(request: Request) -> Response:
        return _json(200, {"ok": True, "contracts": await run_in_threadpool(ws.names)})

    async def explain(request: Request) -> Response:
        try:
            return _json(*api.explain(request.path_params["code"]))
        except ApiError as err:
            return _error(err)

    async def openapi(request: Request) -> Response:
        from .openapi import document

        return _json(200, document(__version__))

    async def health(request: Request) -> Response:
        return _json(200, {"ok": True, "version": __version__})

    async def index(request: Request) -> Response:
        if studio and request.url.path == "/":
            return RedirectResponse("/studio/", status_code=307)
        return _json(200, {"ok": True, "sibc": __version__, "api": "/v1", "openapi": "/v1/openapi.json",
                           "operations": [f"/v1/{name}" for name in (*api.OPERATIONS, "render")],
                           "docs": "docs/api.md"})

    routes = [
        Route("/", index), Route("/v1/", index), Route("/v1/health", health), Route("/v1/openapi.json", openapi),
        Route("/v1/contracts", contracts), Route("/v1/explain/{code}", explain),
        Route("/v1/render", render, methods=["POST"]),
        *(operation(name) for name in api.OPERATIONS),
    ]
    if studio:
        from . import studio as studio_routes

        routes += studio_routes.routes(ws, token=token, body_of=body_of, read=read_limited, error=_error, document_csp=DOCUMENT_CSP,
                                       lang=lang)
        routes += [Route("/studio/", lambda request: FileResponse(STATIC / "index.html")),
                   Route("/studio", lambda request: RedirectResponse("/studio/", status_code=307)),
                   Mount("/studio/static", StaticFiles(directory=STATIC), name="static")]

    async def not_found(request: Request, exc) -> Response:
        status = getattr(exc, "status_code", 404)
        if status == 405:
            return _error(ApiError(405, [problem("E860", f"{request.method} is not allowed on {request.url.path}",
                                                 "the operations under /v1 are POST requests with a JSON body")]))
        return _error(ApiError(status, [problem("E860", f"no such address {request.url.path[:100]!r}",
                                                "the API is under /v1; GET /v1/openapi.json describes it")]))

    async def crashed(request: Request, exc: Exception) -> Response:
        log.exception("internal error on %s", request.url.path)
        return _json(500, {"ok": False, "diagnostics": [problem(
            "E900", f"internal error in sibc {__version__}: {type(exc).__name__}",
            "this is a bug in sibc, not in your contract; please report it with the request that caused it")]})

    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found, Exception: crashed})
    app.state.workspace = ws
    return Guard(app, hosts=hosts or set(), token=token)
