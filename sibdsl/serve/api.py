"""The JSON API without HTTP: a request (a dict decoded from JSON) → (status, response dict).

Every operation takes a contract reference: `"norrkoping"`, `{"name": "norrkoping", "version":
"<sha256>"}` (a contract of the served folder, by name; never a path) or `{"source": "<text>"}`
(a draft, as the studio sends it). Problems are the diagnostics of `sibc check --format json`;
an `ApiError` carries them with the HTTP status (docs/api.md lists which status means what).
app.py maps HTTP onto these functions; tests and benchmarks/serve.py call them over HTTP.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import threading
import time
from collections import OrderedDict
from fractions import Fraction
from pathlib import Path

from ..diagnostics import Diagnostic, SibError, sort_key, to_json
from ..incremental import Documents
from ..limits import MAX_OUTCOME_BYTES, MAX_SOURCE_CHARS
from ..source import Source

# limits of the API itself (docs/api.md); the contract and data limits are those of sibdsl/limits.py
MAX_REQUEST_BYTES = MAX_OUTCOME_BYTES  # a request carries at most one outcome file's worth of JSON
MAX_JSON_DEPTH = 32  # nesting of a request's JSON; outcome files and specs need four levels
MAX_SIMULATE_N = 1_000_000  # scenarios one /v1/simulate request may settle (and the time budget)
MAX_CURVE_POINTS = 201
MAX_DIFF_TIMEOUT = 10.0  # the solver's work limit per question of /v1/diff (deterministic rlimit)
DEFAULT_BUDGET = 20.0  # seconds for verify and simulate (and check's proofs) unless the server says less
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")  # a served contract: FOLDER/NAME.sib, no dots


class ApiError(Exception):
    """A request that cannot be answered: an HTTP status and the diagnostics that say why."""

    def __init__(self, status: int, diagnostics: list[dict], **extra):
        super().__init__(diagnostics[0]["message"] if diagnostics else str(status))
        self.status, self.diagnostics, self.extra = status, diagnostics, extra

    def body(self) -> dict:
        return {"ok": False, "diagnostics": self.diagnostics, **self.extra}


def problem(code: str, message: str, hint: str = "", where: str = "<request>") -> dict:
    """A diagnostic about the request itself, in the JSON of `sibc check --format json`."""
    return to_json(Diagnostic(code, message, Source(where, ""), None, hint=hint))


def bad_request(message: str, hint: str = "") -> ApiError:
    return ApiError(400, [problem("E860", message, hint)])


def diagnostics_json(diagnostics) -> list[dict]:
    return [to_json(d) for d in sorted(diagnostics, key=sort_key)]


def decode_json(body: bytes) -> dict:
    """The request body as a JSON object, within the size and nesting limits (E860, E862)."""
    if len(body) > MAX_REQUEST_BYTES:
        raise too_large(len(body))
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise bad_request("the request body is not UTF-8 text", "send JSON encoded as UTF-8") from None
    except RecursionError:
        raise bad_request(f"the request's JSON is nested deeper than {MAX_JSON_DEPTH} levels") from None
    except json.JSONDecodeError as err:
        raise bad_request(f"the request body is not JSON: {err.msg} at line {err.lineno}, column {err.colno}",
                          'send an object such as {"contract": "norrkoping"}') from None
    if _depth(data) > MAX_JSON_DEPTH:
        raise bad_request(f"the request's JSON is nested deeper than {MAX_JSON_DEPTH} levels")
    if not isinstance(data, dict):
        raise bad_request("the request body must be a JSON object", 'e.g. {"contract": "norrkoping"}')
    return data


def too_large(size: int) -> ApiError:
    return ApiError(413, [problem("E862", f"the request body has more than {MAX_REQUEST_BYTES:,} bytes"
                                  + (f" ({size:,})" if size else ""),
                                  "send the contract by name instead of its text, or fewer outcomes")])


def _depth(value) -> int:
    """Nesting depth without recursion (a hostile body must not exhaust the stack here either)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_JSON_DEPTH:
            return depth
        if isinstance(item, dict):
            stack += [(v, depth + 1) for v in item.values()]
        elif isinstance(item, list):
            stack += [(v, depth + 1) for v in item]
    return deepest


def fingerprint(text: str) -> str:
    # a lone surrogate (JSON's "\ud800") hashed as its three bytes, as check_source does: the
    # contract is then refused with E101 like any other, not with E900 (found by the fuzz campaign)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class Loaded:
    """A checked contract and what is derived from it once: the compiled evaluator, its JSON summary."""

    def __init__(self, name: str, text: str, path: Path | None, parser=None):
        from ..incremental import check_source

        self.name, self.text, self.path = name, text, path
        self.version = fingerprint(text)
        self.source = Source(name, text)
        # a draft the studio sends after each pause in typing: only its changed declarations are parsed
        self.contract, self.diagnostics = check_source(self.source, parser)
        self._compiled = None
        self._lock = threading.Lock()  # one compile at a time
        self._waiting: list = []  # the jobs of the requests that want the compile (None: one nobody cancels)
        self._waiting_lock = threading.Lock()

    @property
    def compiled(self):
        return self.compiled_for(None)

    def compiled_for(self, job):
        """The compiled evaluator, for a request whose run is `job` (limited.Job; None: it cannot be
        superseded). The compile stops at its next cancellation point (each definition and each
        step, evaluate.Evaluator's `stop`) once every request that wants it has been superseded,
        raising Cancelled; while another still wants it, it goes on for that one."""
        with self._waiting_lock:
            self._waiting.append(job)
        try:
            with self._lock:
                if self._compiled is None:
                    from ..evaluate import compile_contract

                    self._compiled = compile_contract(self.contract, self.source, stop=self._stop)
                return self._compiled
        finally:
            with self._waiting_lock:
                self._waiting.remove(job)

    def _stop(self) -> None:
        # this runs at every definition and step of the compile: a copy of the list without the lock
        # (list → tuple is one step for the interpreter), and a plain loop
        for job in tuple(self._waiting):
            if job is None or not job.cancelled:
                return
        from .limited import Cancelled

        raise Cancelled("every request that wanted the compile was superseded")

    def require(self) -> None:
        """422 with the contract's diagnostics when it has errors."""
        if self.contract is None:
            raise ApiError(422, diagnostics_json(self.diagnostics), contract=self.name, version=self.version)


class Workspace:
    """The served folder: contracts by name (FOLDER/NAME.sib), checked once per exact text."""

    CACHE_SIZE = 32

    def __init__(self, folder: str | Path | None, *, allow_source: bool = True, budget: float = DEFAULT_BUDGET):
        self.folder = Path(folder).resolve() if folder is not None else None
        self.allow_source = allow_source
        self.budget = budget
        self._cache: OrderedDict[tuple[str, str], Loaded] = OrderedDict()
        self._lock = threading.Lock()
        self._parsers = Documents()  # an incremental parser per contract name (sibdsl/incremental.py)

    # ------------------------------------------------------------ the folder
    def names(self) -> list[dict]:
        if self.folder is None:
            return []
        out = []
        for path in sorted(self.folder.glob("*.sib")):
            if NAME_RE.match(path.stem) and path.is_file():
                data = path.read_bytes()
                out.append({"name": path.stem, "version": hashlib.sha256(data).hexdigest(), "bytes": len(data),
                            "scenarios": path.with_name(path.stem + ".scenarios.csv").is_file(),
                            "outcomes": path.with_name(path.stem + ".outcomes.json").is_file()})
        return out

    def path_of(self, name: object, *, must_exist: bool = True) -> Path:
        """FOLDER/NAME.sib for a well-formed name; 404 (E861) for anything else. A name is
        letters, digits, `_` and `-`: no separator, no dot, so it can never leave the folder."""
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise ApiError(404, [problem("E861", f"no contract named {json.dumps(name, ensure_ascii=False)[:120]}",
                                         "a contract name is the file name in the served folder without "
                                         "`.sib`: letters, digits, `_` and `-`")])
        if self.folder is None:
            raise ApiError(404, [problem("E861", f"no contract named `{name}`: this server serves no folder",
                                         "start it with `sibc serve FOLDER`, or send the contract's text as "
                                         '{"source": "…"}')])
        path = self.folder / f"{name}.sib"
        if must_exist and not path.is_file():
            from ..diagnostics import did_you_mean

            known = [n["name"] for n in self.names()]
            raise ApiError(404, [problem("E861", f"no contract named `{name}` in the served folder",
                                         did_you_mean(name, known) or
                                         ("the folder has " + ", ".join(f"`{k}`" for k in known[:10])
                                          if known else "the folder has no .sib files"))])
        return path

    def read(self, name: str) -> str:
        path = self.path_of(name)
        try:
            data = path.read_bytes()
            if len(data) > MAX_SOURCE_CHARS * 4:
                raise ApiError(422, [problem("E106", f"{name}.sib is larger than the limit of "
                                             f"{MAX_SOURCE_CHARS:,} characters", where=f"{name}.sib")])
            return data.decode("utf-8-sig")
        except (OSError, UnicodeDecodeError) as err:
            from ..outcomes import read_error

            raise ApiError(422, [to_json(read_error(f"{name}.sib", err))]) from None

    # ------------------------------------------------------------ references
    def load(self, ref: object, field: str = "contract") -> Loaded:
        """A contract reference → the checked contract (cached by name and exact text)."""
        version = None
        if isinstance(ref, str):
            name, text = ref, None
        elif isinstance(ref, dict) and ("name" in ref or "source" in ref):
            unknown = sorted(set(ref) - {"name", "version", "source"})
            if unknown:
                raise bad_request(f"`{field}` has an unknown field `{unknown[0]}`",
                                  'a contract is {"name": …, "version": …} or {"source": …}')
            name, text, version = ref.get("name"), ref.get("source"), ref.get("version")
            if text is not None and not isinstance(text, str):
                raise bad_request(f"`{field}.source` must be the contract's text as a string")
            if version is not None and not isinstance(version, str):
                raise bad_request(f"`{field}.version` must be a SHA-256 fingerprint as a string")
        else:
            raise bad_request(f"`{field}` is missing or not a contract reference",
                              f'name a contract of the folder, "{field}": "norrkoping", '
                              f'or send its text, "{field}": {{"source": "…"}}')
        if text is not None:
            if not self.allow_source:
                raise ApiError(403, [problem("E863", "this server evaluates only the contracts of its folder",
                                             'name one: {"contract": "norrkoping"}')])
            if len(text) > MAX_SOURCE_CHARS:
                raise ApiError(422, [problem("E106", f"the contract has more than {MAX_SOURCE_CHARS:,} characters")])
            if name is not None and (not isinstance(name, str) or not NAME_RE.match(name)):
                raise bad_request(f"`{field}.name` is not a contract name",
                                  "letters, digits, `_` and `-`, without `.sib`")
            display = f"{name}.sib" if name else "<source>"
        else:
            display = f"{name}.sib" if isinstance(name, str) else "<source>"
            text = self.read(name)
        if version is not None and version != fingerprint(text):
            raise ApiError(409, [problem("E865", f"{display} has changed: its version is {fingerprint(text)}, "
                                         f"not {version}", "fetch the contract again (GET /v1/contracts) and "
                                         "settle against the version you reviewed", where=display)],
                           version=fingerprint(text))
        key = (display, fingerprint(text))
        with self._lock:
            loaded = self._cache.get(key)
            if loaded is not None:
                self._cache.move_to_end(key)
                return loaded
        loaded = Loaded(display, text, None, self._parsers[display])
        with self._lock:
            self._cache[key] = loaded
            while len(self._cache) > self.CACHE_SIZE:
                self._cache.popitem(last=False)
        return loaded


# ---------------------------------------------------------------- describing a contract
def _text(value, lang: str | None = None) -> str | None:
    return None if value is None else value.get(lang) if lang else value.text


def _texts(value) -> dict | None:
    if value is None:
        return None
    return {"default": value.text, **dict(value.translations)}


def _number(value: Fraction | None) -> str | None:
    if value is None:
        return None
    from ..lang import to_decimal

    return format(to_decimal(Fraction(value)).normalize(), "f")


def _plain(value):
    """A validated outcome value as JSON (exact: numbers as decimal strings), e.g. to fill a form."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, Fraction)):
        return _number(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return str(value)


def outcome_file(contract, outcomes: dict) -> dict:
    """The validated outcomes written back as an outcome .json file holds them (docs/outcomes.md):
    amounts with the currency, shares as percentages, dates as YYYY-MM-DD, exact decimal strings.
    What a CSV or a workbook was read as, e.g. to fill the studio's form with it."""
    import datetime

    from ..units import MONEY, SHARE

    def one(kind: str, value):
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, datetime.date):
            return value.isoformat()
        if isinstance(value, dict):
            return {k: one(kind, v) for k, v in value.items()}
        if kind == MONEY:
            return f"{_number(Fraction(value))} {contract.currency}"
        if kind == SHARE:
            return f"{_number(Fraction(value) * 100)} %"
        return _number(Fraction(value))

    return {name: one(contract.measures[name].ty.kind, value) for name, value in outcomes.items()
            if name in contract.measures}


def describe(contract) -> dict:
    """What a form needs: the measures with their types, units, periods and bounds; the payments."""
    measures = []
    for name, m in contract.measures.items():
        series = contract.series.get(m.ty.series) if m.ty.series else None
        measures.append({
            "name": name, "label": _texts(m.label), "kind": m.ty.kind, "currency": m.ty.currency,
            "series": m.ty.series, "periods": [p.name for p in series.periods] if series else None,
            "lower": _number(m.lower), "upper": _number(m.upper), "better": m.better,
            "description": _texts(m.description), "line": m.clause.line,
        })
    # issue 17: a draft's negotiable parameters, each with the range the parties may agree within
    parameters = [{"name": name, "label": _texts(p.label), "kind": p.ty.kind, "currency": p.ty.currency,
                   "lower": _number(p.lower), "upper": _number(p.upper), "description": _texts(p.description),
                   "line": p.clause.line} for name, p in contract.parameters.items()]
    return {
        "title": _texts(contract.title), "id": contract.id, "languages": list(contract.languages),
        "currency": contract.currency, "measures": measures, "parameters": parameters,
        "term": [d.isoformat() for d in contract.term] if contract.term else None,
        "waterfalls": bool(contract.waterfalls),
        "payments": [{"name": n, "label": _texts(p.label)} for n, p in contract.payments.items()],
        "parties": [{"name": n, "label": _texts(p.label), "roles": sorted(p.roles)} for n, p in contract.parties.items()],
    }


# ---------------------------------------------------------------- operations
def _option(request: dict, key: str, kind, default=None, *, low=None, high=None):
    value = request.get(key)
    if value is None:  # absent, or JSON's null: the default (`"timeout": null` reached z3 as None)
        return default
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise bad_request(f"`{key}` must be {'a number' if kind in (int, float) else kind.__name__}")
    if low is not None and value < low or high is not None and value > high:
        raise bad_request(f"`{key}` must be between {low} and {high}, not {value}")
    return value


def _choice(request: dict, key: str, choices: tuple, default):
    value = request.get(key, default)
    if value not in choices:
        raise bad_request(f"`{key}` must be one of {', '.join(map(str, choices))}, not {json.dumps(value)[:60]}")
    return value


def check(ws: Workspace, request: dict) -> tuple[int, dict]:
    loaded = ws.load(request.get("contract"))
    run_verify = _option(request, "verify", bool, True)
    job = _job_name(request)
    diagnostics = diagnostics_json(loaded.diagnostics)
    body = {"ok": loaded.contract is not None, "contract": loaded.name, "version": loaded.version,
            "diagnostics": diagnostics}
    if job is not None and not (run_verify and loaded.contract is not None):
        _supersede(job)  # a newer text's check: the proofs of the older one are stale (the studio)
    if loaded.contract is not None:
        body["summary"] = describe(loaded.contract)
        if run_verify:
            from ..proofcache import diagnostic, verify_cached

            records = _limited(ws, lambda: verify_cached(loaded.contract, loaded.source), job=job)
            extra = [d for d in (diagnostic(r, loaded.source) for r in records) if d]
            body["diagnostics"] = diagnostics_json(list(loaded.diagnostics) + extra)
            body["ok"] = not any(d["severity"] == "error" for d in body["diagnostics"])
            body["proved"] = sum(r["status"] == "proved" for r in records)
    return 200, body


# at most one child process per core at a time: more proofs or simulations wait for a free one
_WORKERS = threading.BoundedSemaphore(max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                                          else os.cpu_count() or 1))


# the runs named by a request's `job` that are still going: a newer request with the same job cancels
# the older one (the studio names each page's proofs of a document so: an edit makes them stale)
_JOBS: dict[str, object] = {}
_JOBS_LOCK = threading.Lock()
MAX_JOB = 200  # characters of a job's name


def _job_name(request: dict) -> str | None:
    job = request.get("job")
    if job is not None and not (isinstance(job, str) and 0 < len(job) <= MAX_JOB):
        raise bad_request(f"`job` must be a name of 1 to {MAX_JOB} characters",
                          'e.g. "job": "page-7f3a:norrkoping:proofs": a newer request with the same job '
                          "stops this one's run")
    return job


def _supersede(name: str) -> None:
    """A newer request of job `name` that runs nothing itself (a check without proofs): the run of
    the job still going, if any, is stopped now (its request answers E867)."""
    with _JOBS_LOCK:
        older = _JOBS.get(name)
    if older is not None:
        older.cancel()


@contextlib.contextmanager
def _job(name: str | None):
    """The `Job` of a run named `name` (None: a run nobody can cancel), registered while it runs;
    an older run of the same name still going is cancelled now."""
    from .limited import Job

    if name is None:
        yield None
        return
    job = Job()
    with _JOBS_LOCK:
        older, _JOBS[name] = _JOBS.get(name), job
    if older is not None:
        older.cancel()
    try:
        yield job
    finally:
        with _JOBS_LOCK:
            if _JOBS.get(name) is job:
                del _JOBS[name]
        job.close()


def _limited(ws: Workspace, work, seconds: float | None = None, job: str | None = None, handle=None):
    """work() in a child process within the budget: 503 (E864) past it, or when no core frees up
    within the budget; 409 (E867) when a newer request with the same `job` stopped it. `handle`:
    the job's Job where the request registered it already (a settlement and its `why`)."""
    from .limited import BudgetExceeded, Cancelled, run_limited

    seconds = ws.budget if seconds is None else min(seconds, ws.budget)
    deadline = time.monotonic() + seconds
    try:
        with _job(job) if handle is None else contextlib.nullcontext(handle) as handle:
            while not _WORKERS.acquire(timeout=min(0.1, max(deadline - time.monotonic(), 0))):
                if handle is not None and handle.cancelled:  # stale while it waited for a core
                    raise Cancelled("cancelled while it waited")
                if time.monotonic() >= deadline:
                    raise BudgetExceeded("no free worker")
            try:
                kind, value = run_limited(work, (), seconds, handle)
            finally:
                _WORKERS.release()
    except BudgetExceeded:
        raise ApiError(503, [problem("E864", f"the work was stopped after its time budget of {seconds:g} s",
                                     "ask for less (fewer scenarios, a shorter timeout per property), or "
                                     "run it with the command line, which has no budget")]) from None
    except Cancelled:
        raise _superseded(job) from None
    if kind == "diagnostics":
        raise ApiError(422, value)
    return value


def _superseded(job: str | None) -> ApiError:
    return ApiError(409, [problem("E867", f"a newer request of the same job (`{job}`) replaced this one, "
                                  "so its run was stopped",
                                  "nothing to do: the newer request answers; give runs that must all "
                                  "finish different jobs, or none")])


def _go_on(handle) -> None:
    """A cancellation point of work done in the request's thread (a settlement): Cancelled once a
    newer request of its job has arrived (`handle`: its limited.Job, None for a request without one)."""
    if handle is not None and handle.cancelled:
        from .limited import Cancelled

        raise Cancelled("superseded")


def _params(request: dict) -> dict[str, object]:
    """`params`: a draft's negotiable parameters, {name: value}, as `sibc eval --param NAME=VALUE`
    takes them (a value as text such as "1 500 SEK", a number, or true/false). Each is read as its
    parameter's type by load_outcomes, with the CLI's diagnostics (E476, E478, E50x)."""
    given = request.get("params")
    if given is None:
        return {}
    if not isinstance(given, dict):
        raise bad_request("`params` must be an object of a draft's parameters and their values",
                          'e.g. "params": {"price": "1 500 SEK"}, as `sibc eval --param price="1 500 SEK"`')
    result: dict[str, object] = {}
    for name, value in given.items():
        if isinstance(value, bool):
            result[name] = value
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            result[name] = str(value)
        elif isinstance(value, str) and value.strip():
            result[name] = value.strip()
        else:
            raise bad_request(f"`params.{name[:40]}` must be a value: a number, a text such as \"1 500 SEK\", "
                              "or true/false", 'e.g. "params": {"price": "1 500 SEK"}')
    return result


def _outcomes(loaded: Loaded, request: dict, *, required: bool = True, as_of=None, pending: set | None = None):
    """The validated outcomes of a request: `outcomes` (an object, as in an outcome .json file)
    or `outcomes_csv` (the text of an outcome .csv file), with a draft's `params`; with `as_of`
    (an interim settlement) the values not yet measured are added to `pending`. 422 with E5xx
    diagnostics."""
    from ..outcomes import load_outcomes

    params = _params(request)

    given = [k for k in ("outcomes", "outcomes_csv", "outcomes_xlsx") if request.get(k) is not None]
    if len(given) > 1:
        raise bad_request(f"send the outcomes once: `{given[0]}` or `{given[1]}`, not both",
                          "an object (`outcomes`), a CSV text (`outcomes_csv`) "
                          "or a workbook (`outcomes_xlsx`)")
    if "outcomes_xlsx" in request:
        return _xlsx_outcomes(loaded, request["outcomes_xlsx"], request.get("outcomes_filename"),
                              params=params, as_of=as_of, pending=pending)
    if "outcomes_csv" in request:
        text, name = request["outcomes_csv"], "outcomes.csv"
        if not isinstance(text, str):
            raise bad_request("`outcomes_csv` must be the text of a CSV outcome file")
    elif isinstance(request.get("outcomes"), dict):
        text, name = json.dumps(request["outcomes"], ensure_ascii=False, indent=2), "outcomes.json"
    elif not required and request.get("outcomes") is None:
        return None
    else:
        raise bad_request("`outcomes` is missing or not an object",
                          'send the measured values: "outcomes": {"actual_costs": "48 000 000 SEK"}')
    try:
        return load_outcomes(loaded.contract, text=text, name=name, params=params, as_of=as_of, pending=pending)
    except SibError as err:
        raise ApiError(422, diagnostics_json(err.diagnostics)) from None


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
UPLOAD_NAME_RE = re.compile(r"^[^/\\\x00-\x1f]{1,100}\.xlsx$", re.IGNORECASE)


def _xlsx_outcomes(loaded: Loaded, data: object, filename: object, *, params=None, as_of=None, pending=None):
    """An uploaded workbook (`outcomes_xlsx`, base64) read as `sibc eval` reads an .xlsx outcome
    file: the first sheet, and diagnostics that name the cell (`Utfall!B3: …`). The bytes go to a
    private temporary file, removed at once; the diagnostics name the upload, never that file."""
    import base64
    import binascii
    import tempfile

    from ..outcomes import load_outcomes

    if not isinstance(data, str):
        raise bad_request("`outcomes_xlsx` must be the workbook's bytes in base64, as a string",
                          'e.g. "outcomes_xlsx": "UEsDBBQABgAI…" (base64 of the .xlsx file)')
    if filename is None:
        filename = "outcomes.xlsx"
    if not isinstance(filename, str) or not UPLOAD_NAME_RE.match(filename) or filename.strip() != filename:
        raise bad_request("`outcomes_filename` must be a file name ending in .xlsx, without a folder",
                          'e.g. "outcomes_filename": "utfall-2024.xlsx"; it is only used in diagnostics')
    try:
        raw = base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        raise bad_request("`outcomes_xlsx` is not base64", "encode the file's bytes as standard base64 "
                          "(RFC 4648, with + and /), e.g. `base64 -w0 utfall.xlsx`") from None
    if not raw.startswith(b"PK\x03\x04"):
        raise ApiError(422, [problem("E001", f"cannot read {filename}: it is not an Excel workbook (.xlsx)",
                                     "save it from Excel or LibreOffice as .xlsx, or send a CSV as "
                                     "`outcomes_csv`", where=filename)])
    with tempfile.TemporaryDirectory(prefix="sibc-upload-") as folder:
        path = Path(folder) / "upload.xlsx"
        path.write_bytes(raw)
        try:
            return load_outcomes(loaded.contract, path, params=params, as_of=as_of, pending=pending)
        except SibError as err:
            raise ApiError(422, _renamed(diagnostics_json(err.diagnostics), str(path), filename)) from None


def _renamed(value, old: str, new: str):
    """`value` (decoded JSON) with every occurrence of the temporary path replaced by the upload's name."""
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, list):
        return [_renamed(v, old, new) for v in value]
    if isinstance(value, dict):
        return {k: _renamed(v, old, new) for k, v in value.items()}
    return value


def _settle(loaded: Loaded, outcomes, handle=None):
    from ..evaluate import EvaluationError

    compiled = loaded.compiled_for(handle)
    _go_on(handle)  # compiled for another request that still wants it: this one was superseded meanwhile
    try:
        return compiled.evaluate(outcomes)
    except EvaluationError as err:
        raise ApiError(422, diagnostics_json([err.diagnostic])) from None
    except SibError as err:
        raise ApiError(422, diagnostics_json(err.diagnostics)) from None


MAX_WHY_TIMEOUT = MAX_DIFF_TIMEOUT  # `why`: the solver's work limit per question (deterministic rlimit)


def evaluate(ws: Workspace, request: dict) -> tuple[int, dict]:
    """POST /v1/eval: the settlement (`sibc eval`); with `as_of` and/or `paid` the interim or
    reconciled settlement (`--as-of`, `--paid`); with `why` why each line was not paid (more)
    (`--why`); a draft's parameters in `params` (`--param`). `lang` words the audit trail's details
    (and `why`'s answers) in Swedish or English; without it the details are the evaluator's English.

    With a `job`, a newer request of the same job supersedes it (409, E867) as it does a proof: the
    settlement, and the compile of a new text it needs (≈ 1 s for 5,000 clauses), run in the
    request's thread and stop at their next cancellation point (`_go_on`; Loaded.compiled_for)."""
    job = _job_name(request)
    if job is None:
        return _evaluate(ws, request, None, None)
    from .limited import Cancelled

    with _job(job) as handle:
        try:
            return _evaluate(ws, request, job, handle)
        except Cancelled:
            raise _superseded(job) from None


def _evaluate(ws: Workspace, request: dict, job: str | None, handle) -> tuple[int, dict]:
    from ..report import settlement_json

    loaded = ws.load(request.get("contract"))
    loaded.require()
    explain = _choice(request, "explain", (None, "sv", "en"), None)
    if _choice(request, "format", ("json", "xlsx"), "json") == "xlsx":
        raise bad_request("a workbook is a file: ask POST /v1/eval over HTTP for it")  # app.py answers it
    why = _option(request, "why", bool, False)
    lang = _choice(request, "lang", (None, "sv", "en"), None)
    timeout = _option(request, "timeout", float, 3.0, low=0.01, high=MAX_WHY_TIMEOUT)
    if _interim_asked(request):
        if explain or why:
            raise bad_request("an interim or reconciled settlement (`as_of`, `paid`) is answered without "
                              "`explain` and `why`", "as `sibc eval --as-of/--paid`: ask for the final "
                              "settlement's explanation separately")
        return _interim(ws, loaded, request, lang, handle)
    outcomes = _outcomes(loaded, request)
    settlement = _settle(loaded, outcomes, handle)
    _go_on(handle)
    body = {"ok": not settlement.diagnostics, "contract": loaded.name, "version": loaded.version,
            "settlement": settlement_json(settlement, lang), "diagnostics": diagnostics_json(settlement.diagnostics),
            "outcomes": outcome_file(loaded.contract, outcomes), "why_lines": _why_lines(loaded, settlement)}
    if explain:
        from ..explain_text import explain_settlement

        body["explanation"] = explain_settlement(loaded.contract, settlement, explain)
    if why:
        contract = loaded.contract
        languages = (lang,) if lang else tuple(x for x in contract.languages if x in ("sv", "en")) or ("en",)

        def work():
            from ..why import why_json, why_not_paid

            # amounts as the settlement beside them writes them (lang.money), in the request's language
            return why_json(why_not_paid(contract, outcomes, settlement, timeout=timeout, languages=languages,
                                         tables=True), contract)

        body["why"] = _limited(ws, work, job=job, handle=handle)
    _go_on(handle)  # superseded while its answer was put together: the newer request's answers
    return (200 if not settlement.diagnostics else 422), body


def _why_lines(loaded: Loaded, settlement) -> list[dict]:
    """The lines `why` would ask about (why.questions, before any solving): unpaid, cut by a clause, or
    paid but below a step of their formula ("partial"). The studio puts its "why not (more)?" button
    on these, and on no other line."""
    from ..why import questions

    return [{"payment": paid.payment, "period": paid.period, "to": paid.recipient, "clause": paid.clause.name,
             "status": status}
            for _, _, paid, _, _, status, _ in questions(loaded.contract, settlement, loaded.compiled.program)]


def _interim_asked(request: dict) -> bool:
    return any(request.get(k) is not None for k in ("as_of", "paid", "paid_csv"))


def _interim(ws: Workspace, loaded: Loaded, request: dict, lang: str | None, handle=None) -> tuple[int, dict]:
    """`sibc eval --as-of DATE --paid FILE` over HTTP (sibdsl/interim.py): each line settled, waiting
    (with the values it waits for) or not due, and what to pay now after what was paid before."""
    from ..cli import _as_of
    from ..evaluate import EvaluationError
    from ..interim import interim_json, load_paid, overpayments, settle

    contract = loaded.contract
    as_of = None
    text = request.get("as_of")
    if text is not None:
        if not isinstance(text, str):
            raise bad_request("`as_of` must be a date as text, YYYY-MM-DD", 'e.g. "as_of": "2018-06-30"')
        try:
            as_of = _as_of(text, contract, Source, option="as_of")
        except SibError as err:
            raise ApiError(422, diagnostics_json(err.diagnostics)) from None
    pending: set = set()
    outcomes = _outcomes(loaded, request, as_of=as_of, pending=pending)
    evaluator = loaded.compiled_for(handle)
    _go_on(handle)
    notes: list = []
    paid: dict = {}
    given = [k for k in ("paid", "paid_csv") if request.get(k) is not None]
    if len(given) > 1:
        raise bad_request("send what was paid once: `paid` or `paid_csv`, not both",
                          "an earlier settlement's JSON (`paid`) or a CSV payment,period,paid (`paid_csv`)")
    if given:
        value = request[given[0]]
        if given[0] == "paid":
            if not isinstance(value, dict):
                raise bad_request("`paid` must be an earlier settlement as an object with `lines`",
                                  "send the `settlement` or `interim` of an earlier /v1/eval answer, or a CSV "
                                  "as `paid_csv`")
            paid_text, paid_name = json.dumps(value, ensure_ascii=False, indent=2), "paid.json"
        else:
            if not isinstance(value, str):
                raise bad_request("`paid_csv` must be the text of a CSV with the columns payment, period, paid")
            paid_text, paid_name = value, "paid.csv"
        try:
            paid = load_paid(contract, evaluator.program, None, text=paid_text, name=paid_name, warnings=notes)
        except SibError as err:
            raise ApiError(422, diagnostics_json(err.diagnostics)) from None
    try:
        interim = settle(evaluator, outcomes, pending, as_of, paid)
    except EvaluationError as err:
        raise ApiError(422, diagnostics_json([err.diagnostic])) from None
    except SibError as err:
        raise ApiError(422, diagnostics_json(err.diagnostics)) from None
    negative = [evaluator._negative(ln.line) for ln in interim.lines if ln.line is not None and ln.line.exact < 0]
    diagnostics = diagnostics_json(notes + overpayments(interim, paid) + negative)
    return (422 if negative else 200), {
        "ok": not negative, "contract": loaded.name, "version": loaded.version,
        "interim": interim_json(interim, lang),
        "diagnostics": diagnostics, "outcomes": outcome_file(contract, outcomes)}


def settlement_file(ws: Workspace, request: dict) -> tuple[bytes, str, str]:
    """(workbook, content type, file name) for POST /v1/eval with "format": "xlsx": the workbook of
    `sibc eval --format xlsx`. A settlement with errors is refused (422), as JSON, not half-written."""
    import io

    from ..report import settlement_xlsx

    loaded = ws.load(request.get("contract"))
    loaded.require()
    _choice(request, "explain", (None, "sv", "en"), None)
    lang = _choice(request, "lang", (None, "sv", "en"), None)  # the workbook's words and number formats
    if _interim_asked(request) or request.get("why"):
        raise bad_request("a workbook is written of the final settlement, without `as_of`, `paid` and `why`",
                          'as `sibc eval --format xlsx`: leave them out, or ask for "format": "json"')
    settlement = _settle(loaded, _outcomes(loaded, request))
    if settlement.diagnostics:
        raise ApiError(422, diagnostics_json(settlement.diagnostics), contract=loaded.name,
                       version=loaded.version)
    stream = io.BytesIO()
    settlement_xlsx(settlement, stream, lang or "en", loaded.contract)
    return stream.getvalue(), XLSX_TYPE, f"{_stem(loaded)}.settlement.xlsx"


def _stem(loaded: Loaded) -> str:
    return loaded.name.removesuffix(".sib").strip("<>") or "contract"


def curve(ws: Workspace, request: dict) -> tuple[int, dict]:
    """The total (and each line) as one measure moves over a range, the others held at `outcomes`."""
    from ..units import BOOL, DATE

    loaded = ws.load(request.get("contract"))
    loaded.require()
    contract = loaded.contract
    name = request.get("measure")
    measure = contract.measures.get(name) if isinstance(name, str) else None
    # a date is not numeric either (a curve over a date measure ended in E900: found by the campaign)
    if measure is None or measure.ty.kind in (BOOL, DATE) or measure.ty.series:
        from ..diagnostics import did_you_mean

        usable = [n for n, m in contract.measures.items() if m.ty.kind not in (BOOL, DATE) and not m.ty.series]
        raise bad_request(f"`measure` must name a numeric measure of the contract without periods, not "
                          f"{json.dumps(name)[:60]}", did_you_mean(str(name), usable) or
                          "one of " + ", ".join(f"`{u}`" for u in usable))
    base = _outcomes(loaded, request)
    points = _option(request, "points", int, 41, low=2, high=MAX_CURVE_POINTS)
    low, high = _bound(request, "from", measure.lower), _bound(request, "to", measure.upper)
    here = Fraction(base[name])
    if low is None:
        low = Fraction(0) if here >= 0 else 2 * here
    if high is None:
        high = max(2 * here, low + 1) if here > low else low + max(abs(low), Fraction(1))
    if high <= low:
        raise bad_request("`to` must be above `from`")
    result = []
    for i in range(points):
        x = low + (high - low) * i / (points - 1)
        settlement = _settle(loaded, {**base, name: x})
        result.append({"x": _number(x), "total": str(settlement.total)})
    return 200, {"ok": True, "contract": loaded.name, "version": loaded.version, "measure": name,
                 "kind": measure.ty.kind, "currency": contract.currency, "at": _number(here), "points": result}


def _bound(request: dict, key: str, default):
    value = request.get(key)
    if value is None:
        return default
    try:
        return Fraction(str(value).replace(" ", "").replace("\u00a0", "").replace(",", "."))
    except (ValueError, ZeroDivisionError):
        raise bad_request(f"`{key}` must be a number, not {json.dumps(value)[:60]}") from None


def verify(ws: Workspace, request: dict) -> tuple[int, dict]:
    loaded = ws.load(request.get("contract"))
    loaded.require()
    timeout = _option(request, "timeout", float, 10.0, low=0.01, high=ws.budget)
    job = _job_name(request)
    contract = loaded.contract

    def work():
        from ..verify import verdict_json, verify_contract, z3_version

        return {"z3": z3_version(), "properties": [verdict_json(v) for v in verify_contract(contract, timeout)]}

    result = _limited(ws, work, job=job)
    violated = any(p["verdict"] == "violated" for p in result["properties"])
    return 200, {"ok": not violated, "contract": loaded.name, "version": loaded.version, **result}


def test(ws: Workspace, request: dict) -> tuple[int, dict]:
    from ..cli.test import json_report as scenario_json  # the JSON of `sibc test --format json`
    from ..explain_text import explain_line
    from ..scenarios import load_scenarios, run_scenarios

    loaded = ws.load(request.get("contract"))
    loaded.require()
    lang = _choice(request, "lang", ("sv", "en"), "en")
    text = request.get("scenarios_csv")
    if text is None:
        ref = request.get("contract")
        name = ref if isinstance(ref, str) else ref.get("name") if isinstance(ref, dict) else None
        if not isinstance(name, str):
            raise bad_request("`scenarios_csv` is missing", "send the scenario table's CSV text, or name a "
                              "contract of the folder that has NAME.scenarios.csv beside it")
        path = ws.path_of(name, must_exist=False).with_name(f"{name}.scenarios.csv")
        if not path.is_file():
            raise ApiError(404, [problem("E861", f"`{name}` has no scenario table {name}.scenarios.csv",
                                         "send one as `scenarios_csv`")])
        text = path.read_text(encoding="utf-8-sig")
    elif not isinstance(text, str):
        raise bad_request("`scenarios_csv` must be the text of a scenario CSV file")
    try:
        scenarios = load_scenarios(loaded.contract, text=text, name="scenarios.csv")
    except SibError as err:
        raise ApiError(422, diagnostics_json(err.diagnostics)) from None
    results = run_scenarios(loaded.contract, scenarios, loaded.source)
    data = scenario_json(loaded.name, "scenarios.csv", loaded.contract, results, None)
    for entry, r in zip(data["scenarios"], results):
        entry["explanation"] = ([text for ln in r.settlement.lines for text in explain_line(loaded.contract, ln, lang)]
                                if not r.passed and r.settlement is not None else [])
        entry["outcomes"] = {k: _plain(v) for k, v in r.scenario.outcomes.items()}
    passed = sum(r.passed for r in results)
    return 200, {"ok": passed == len(results), "contract": loaded.name, "version": loaded.version,
                 "passed": passed, "failed": len(results) - passed, **data}


RENDER_TYPES = {"html": "text/html; charset=utf-8", "md": "text/markdown; charset=utf-8",
                "pdf": "application/pdf", "docx": DOCX_TYPE}
#: formats a browser should save rather than show
DOWNLOADS = {"application/pdf", DOCX_TYPE, XLSX_TYPE}


def render(ws: Workspace, request: dict) -> tuple[bytes, str, str]:
    """(document, content type, file name) for POST /v1/render."""
    from ..render import render as render_document

    loaded = ws.load(request.get("contract"))
    loaded.require()
    contract = loaded.contract
    fmt = _choice(request, "format", tuple(RENDER_TYPES), "html")
    default = contract.languages[0] if contract.languages and contract.languages[0] in ("sv", "en") else "en"
    lang = _choice(request, "lang", ("sv", "en"), default)
    from ..render.complete import open_parameters

    if (draft := open_parameters(contract, None)) is not None:  # issue 17: no council document of a draft
        raise ApiError(422, [problem(draft.code, draft.message, draft.hint, where=loaded.name)])
    vary = request.get("vary")
    if vary is not None and (not isinstance(vary, str) or vary not in contract.measures):
        raise bad_request(f"`vary`: the contract has no measure {json.dumps(vary)[:60]}")
    try:
        source_bytes = loaded.text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate in a text: a document is UTF-8 (found by the fuzz campaign)
        raise ApiError(422, [problem("E101", "the contract has a lone surrogate (an unpaired half of a UTF-16 "
                                     "character) in a text; a document cannot show it",
                                     "delete the character, or type it again: it is probably half of an emoji",
                                     where=loaded.name)]) from None
    data = render_document(contract, source_bytes, lang, fmt, path=loaded.name, vary=vary)
    return data, RENDER_TYPES[fmt], f"{_stem(loaded)}.{lang}.{fmt}"


def diff(ws: Workspace, request: dict) -> tuple[int, dict]:
    from ..diff import changes_json, clause_changes, currency_mismatch, effect_json, money_effect
    from ..lang import LANGUAGES
    from ..parser import parse

    old, new = ws.load(request.get("old"), "old"), ws.load(request.get("new"), "new")
    timeout = _option(request, "timeout", float, 3.0, low=0.01, high=MAX_DIFF_TIMEOUT)
    each = _option(request, "each_payment", bool, False)
    job = _job_name(request)
    for loaded in (old, new):
        loaded.require()
    mismatch = currency_mismatch(old.source, old.contract, new.source, new.contract)
    if mismatch is not None:  # issue 17 (E761): amounts in two currencies are not comparable numbers
        raise ApiError(422, diagnostics_json([mismatch]), contract=new.name, version=new.version)
    changes = clause_changes(parse(old.source), parse(new.source))
    effect = _limited(ws, lambda: money_effect(old.contract, new.contract, timeout=timeout,
                                               lines="all" if each else "payers"), job=job)
    differs = bool(changes) or any(e.differs is not False for e in effect.effects)
    return 200, {   # the JSON of `sibc diff --format json`, each change also worded in each language (`words`)
        "ok": True, "old": old.name, "new": new.name, "same_meaning": not differs,
        "changes": changes_json(changes, LANGUAGES),
        "money": effect_json(effect),
    }


def simulate(ws: Workspace, request: dict) -> tuple[int, dict]:
    from ..simulate import CHUNK, SpecReader

    loaded = ws.load(request.get("contract"))
    loaded.require()
    spec_data = request.get("scenarios")
    if not isinstance(spec_data, dict):
        raise bad_request("`scenarios` is missing or not an object",
                          'the distributions per measure, as in a .json scenario file (docs/simulate.md)')
    n = _option(request, "n", int, 10_000, low=1, high=MAX_SIMULATE_N)
    seed = _option(request, "seed", int, None, low=0, high=2**63)
    job = _job_name(request)
    reader = SpecReader(loaded.contract, Source("scenarios.json", json.dumps(spec_data, ensure_ascii=False, indent=2)))
    spec = reader.spec()
    if spec is None or reader.diagnostics:
        raise ApiError(422, diagnostics_json(reader.diagnostics))
    contract = loaded.contract

    def work():
        from ..simulate import run

        acc = run(contract, spec, n, seed=seed, chunk=CHUNK)
        used = seed if seed is not None else (spec.seed if spec.seed is not None else 0)
        return acc.report(spec, used, CHUNK)

    report = _limited(ws, work, job=job)
    return 200, {"ok": not report.get("failed"), "contract": loaded.name, "version": loaded.version, "report": report}


def explain(code: str) -> tuple[int, dict]:
    from ..codes import CODES

    key = code.strip().upper()
    if key not in CODES:
        raise ApiError(404, [problem("E860", f"no diagnostic code `{code[:20]}`", "codes look like E201 or W401")])
    from ..explain import page

    c = CODES[key]
    return 200, {"code": key, "severity": c.severity.value, "title": c.title, "page": page(key)}


OPERATIONS = {"check": check, "eval": evaluate, "verify": verify, "test": test, "diff": diff,
              "simulate": simulate, "curve": curve}
