"""The OpenAPI 3.1 description of the /v1 API, served at GET /v1/openapi.json (docs/api.md).

Written by hand from api.py's operations; tests/test_serve_api.py checks that every route of the
running server is described here and every described route answers."""

from __future__ import annotations

from .api import MAX_CURVE_POINTS, MAX_DIFF_TIMEOUT, MAX_SIMULATE_N, MAX_WHY_TIMEOUT

_REF = {"$ref": "#/components/schemas/ContractRef"}
_ERRORS = {
    "400": {"$ref": "#/components/responses/Problem"}, "401": {"$ref": "#/components/responses/Problem"},
    "403": {"$ref": "#/components/responses/Problem"}, "404": {"$ref": "#/components/responses/Problem"},
    "409": {"$ref": "#/components/responses/Problem"}, "413": {"$ref": "#/components/responses/Problem"},
    "415": {"$ref": "#/components/responses/Problem"}, "422": {"$ref": "#/components/responses/Problem"},
}
_OUTCOMES = {
    "outcomes": {"type": "object", "description": "the measured values, as in an outcome .json file "
                 "(docs/outcomes.md): amounts as strings such as \"48 000 000 SEK\", booleans, per-period objects"},
    "outcomes_csv": {"type": "string", "description": "instead of `outcomes`: the text of an outcome .csv file"},
    "outcomes_xlsx": {"type": "string", "contentEncoding": "base64",
                      "contentMediaType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                      "description": "instead of `outcomes`: an .xlsx outcome workbook, its bytes in base64; "
                      "the first sheet is read as `sibc eval` reads it, and problems name the cell "
                      "(Utfall!B3)"},
    "outcomes_filename": {"type": "string", "pattern": "^[^/\\\\]{1,100}\\.xlsx$",
                          "description": "the workbook's file name, used only in diagnostics "
                          "(default outcomes.xlsx)"},
}
_PARAMS = {"params": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]},
                      "description": "a draft's negotiable parameters and the values to settle with, as "
                      "`sibc eval --param NAME=VALUE`: e.g. {\"price\": \"15 000 SEK\"}; each within its "
                      "declared range (GET the check's `summary.parameters`)"}}
_INTERIM = {
    "as_of": {"type": "string", "format": "date", "description": "an interim settlement as of this date "
              "(as `sibc eval --as-of`): a value not yet measured is null; each line is settled, waiting "
              "(with what it waits for) or not due. The answer has `interim` instead of `settlement`"},
    "paid": {"type": "object", "description": "what was paid before, per line (as `sibc eval --paid`): the "
             "`interim` or `settlement` of an earlier answer; only the difference is paid now"},
    "paid_csv": {"type": "string", "description": "instead of `paid`: a CSV with the columns payment, period, paid"},
}
_WHY = {
    "why": {"type": "boolean", "default": False, "description": "for each line not paid, cut or below what "
            "other outcomes pay: the smallest change of the outcomes that pays it more (as `sibc eval --why`)"},
    "lang": {"enum": ["sv", "en"], "description": "the language of the audit trail's details (default: the evaluator's "
             "English), of `why` (default: each of the contract's) and of the workbook of `\"format\": \"xlsx\"` "
             "(its sheets, headings, trail and number formats; default: English)"},
    "timeout": {"type": "number", "minimum": 0.01, "maximum": MAX_WHY_TIMEOUT, "default": 3.0,
                "description": "`why`: the solver's work limit per question (deterministic)"},
}
_JOB = {"job": {"type": "string", "minLength": 1, "maxLength": 200, "description": "a name for this run (say, "
                "a page and a document): a newer request with the same job stops this run if it is still going, "
                "which then answers 409 (E867); a check that proves nothing (`verify: false`) with the job stops "
                "it too"}}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _op(summary: str, properties: dict, required: list[str], result: dict, *, budget: bool = False,
        description: str = "", files: dict | None = None) -> dict:
    responses = {"200": {"description": "the result", "content": {"application/json": {"schema": result},
                                                                  **(files or {})}},
                 **_ERRORS}
    if budget:
        responses["503"] = {"$ref": "#/components/responses/Problem"}
    return {"post": {
        "summary": summary, "description": description,
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "properties": properties, "required": required}}}},
        "responses": responses}}


def _result(**properties) -> dict:
    return {"type": "object", "properties": {"ok": {"type": "boolean"}, "contract": {"type": "string"},
                                             "version": {"type": "string"}, **properties}}


def document(version: str) -> dict:
    diagnostics = {"type": "array", "items": {"$ref": "#/components/schemas/Diagnostic"}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "sibc serve", "version": version,
                 "description": "Outcome contracts (sibdsl) checked, settled, verified, tested, rendered, "
                                "compared and simulated over HTTP. Amounts are decimal strings, never floats. "
                                "Errors carry the diagnostics of `sibc check --format json`."},
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer",
                                          "description": "required when the server was started with a token"}},
            "schemas": {
                "ContractRef": {"oneOf": [
                    {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$",
                     "description": "a contract of the served folder, by name (FOLDER/NAME.sib)"},
                    {"type": "object", "properties": {"name": {"type": "string"}, "version": {
                        "type": "string", "description": "the SHA-256 of the text you reviewed: 409 if it changed"}},
                     "required": ["name"], "additionalProperties": False},
                    {"type": "object", "properties": {"source": {"type": "string"}, "name": {"type": "string"}},
                     "required": ["source"], "additionalProperties": False,
                     "description": "a draft's text (refused with 403 by a server started with --no-source)"}]},
                "Span": {"type": ["object", "null"], "properties": {
                    k: {"type": "integer"} for k in ("line", "column", "end_line", "end_column")}},
                "Diagnostic": {"type": "object", "required": ["code", "severity", "message", "file"], "properties": {
                    "code": {"type": "string", "pattern": "^[EW][0-9]{3}$"},
                    "severity": {"enum": ["error", "warning"]}, "message": {"type": "string"},
                    "file": {"type": "string"}, "span": {"$ref": "#/components/schemas/Span"},
                    "label": {"type": "string"}, "hint": {"type": "string"},
                    "labels": {"type": "array"}, "notes": {"type": "array", "items": {"type": "string"}}}},
                "Problem": {"type": "object", "required": ["ok", "diagnostics"], "properties": {
                    "ok": {"const": False}, "diagnostics": diagnostics}},
                "Settlement": {"type": "object", "description": "as `sibc eval --format json` prints it",
                               "properties": {"contract": {"type": "string"}, "currency": {"type": "string"},
                                              "total": {"type": "string"}, "lines": {"type": "array"},
                                              "by_recipient": {"type": "object"}, "by_payer": {"type": "object"},
                                              "returns": {"type": "array"}, "guarantees": {"type": "array"},
                                              "values": {"type": "object"}}},
            },
            "responses": {"Problem": {"description": "the request was refused; the diagnostics say why",
                                      "content": {"application/json": {"schema": {
                                          "$ref": "#/components/schemas/Problem"}}}}},
        },
        "security": [{}, {"token": []}],
        "paths": {
            "/v1/health": {"get": {"summary": "the server is up", "responses": {"200": {"description": "ok"}}}},
            "/v1/openapi.json": {"get": {"summary": "this description", "responses": {"200": {"description": "ok"}}}},
            "/v1/contracts": {"get": {"summary": "the contracts of the served folder with their versions",
                                      "responses": {"200": {"description": "ok", "content": {"application/json": {
                                          "schema": {"type": "object", "properties": {"contracts": {"type": "array"}}}}}}}}},
            "/v1/explain/{code}": {"get": {
                "summary": "the documentation page of a diagnostic code (as `sibc explain CODE`)",
                "parameters": [{"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "ok"}, "404": {"$ref": "#/components/responses/Problem"}}}},
            "/v1/check": _op("check a contract (as `sibc check --format json`)",
                             {"contract": _REF, "verify": {"type": "boolean", "default": True}, **_JOB}, ["contract"],
                             _result(diagnostics=diagnostics, summary={"type": "object"}, proved={"type": "integer"}),
                             budget=True, description="200 also when the contract has errors: they are the answer "
                             "(`ok` false). `summary` lists the measures a form needs, and a draft's `parameters` "
                             "with their ranges."),
            "/v1/eval": _op("settle a contract for measured outcomes (as `sibc eval --format json`)",
                            {"contract": _REF, **_OUTCOMES, **_PARAMS, **_INTERIM, **_WHY, **_JOB,
                             "explain": {"enum": ["sv", "en"]},
                             "format": {"enum": ["json", "xlsx"], "default": "json", "description":
                                        "xlsx: the settlement as a workbook (as `sibc eval --format xlsx`), "
                                        "sent as an attachment NAME.settlement.xlsx"}}, ["contract"],
                            _result(settlement={"$ref": "#/components/schemas/Settlement"}, diagnostics=diagnostics,
                                    explanation={"type": "string"},
                                    interim={"type": "object", "description": "with `as_of` or `paid`, instead "
                                             "of `settlement`: as `sibc eval --as-of --format json` prints it"},
                                    why={"type": "array", "description": "with `why`: as `sibc eval --why "
                                         "--format json` prints it"},
                                    why_lines={"type": "array", "description": "the lines `why` asks about, "
                                               "found without solving: `payment`, `period`, `to`, `clause` and "
                                               "`status` (unpaid, reduced, partial)"}, outcomes={
                                        "type": "object", "description": "the outcomes as they were read, "
                                        "written as an outcome .json file holds them"}),
                            files={XLSX: {"schema": {"type": "string", "contentEncoding": "binary"}}}),
            "/v1/curve": _op("the total as one measure varies, the others held at `outcomes`",
                             {"contract": _REF, **_OUTCOMES, **_PARAMS, "measure": {"type": "string"},
                              "from": {"type": "string"}, "to": {"type": "string"},
                              "points": {"type": "integer", "minimum": 2, "maximum": MAX_CURVE_POINTS}},
                             ["contract", "measure"], _result(points={"type": "array"})),
            "/v1/verify": _op("prove the contract's properties (as `sibc verify --format json`)",
                              {"contract": _REF, "timeout": {"type": "number", "description": "seconds per property"},
                               **_JOB},
                              ["contract"], _result(z3={"type": "string"}, properties={"type": "array"}), budget=True),
            "/v1/test": _op("run the scenario table (as `sibc test --format json`)",
                            {"contract": _REF, "scenarios_csv": {"type": "string"}, "lang": {"enum": ["sv", "en"]}},
                            ["contract"], _result(passed={"type": "integer"}, failed={"type": "integer"},
                                                  scenarios={"type": "array"})),
            "/v1/render": {"post": {
                "summary": "the council document (as `sibc render`)",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["contract"], "properties": {
                        "contract": _REF, "format": {"enum": ["html", "md", "pdf", "docx"], "default": "html",
                                                      "description": "pdf and docx are sent as attachments, "
                                                      "NAME.LANG.pdf or NAME.LANG.docx"},
                        "lang": {"enum": ["sv", "en"]}, "vary": {"type": "string"}}}}}},
                "responses": {"200": {"description": "the document", "content": {
                    "text/html": {}, "text/markdown": {}, "application/pdf": {}, DOCX: {}}}, **_ERRORS}}},
            "/v1/diff": _op("compare two drafts: clauses and money (as `sibc diff --format json`; each change "
                            "also worded in Swedish and English, `words`)",
                            {"old": _REF, "new": _REF,
                             "timeout": {"type": "number", "minimum": 0.01, "maximum": MAX_DIFF_TIMEOUT,
                                         "description": "the solver's work limit per question (deterministic)"},
                             "each_payment": {"type": "boolean", "default": False}, **_JOB},
                            ["old", "new"], {"type": "object"}),
            "/v1/simulate": _op("Monte Carlo over outcome distributions (as `sibc simulate --format json`)",
                                {"contract": _REF, "scenarios": {"type": "object", "description":
                                 "the distributions, as in a .json scenario file (docs/simulate.md)"},
                                 "n": {"type": "integer", "minimum": 1, "maximum": MAX_SIMULATE_N},
                                 "seed": {"type": "integer", "minimum": 0}, **_JOB},
                                ["contract", "scenarios"], _result(report={"type": "object"}), budget=True),
        },
    }
