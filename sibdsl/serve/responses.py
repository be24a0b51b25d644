"""A JSON response that any text can go into.

A request may carry a lone surrogate (JSON's "\\ud800"), and an answer may echo it — a contract's
name in "no contract named …", a source sent back by the studio. Starlette writes JSON as UTF-8,
which has no lone surrogates, so such an answer ended in HTTP 500 (E900, found by the fuzz
campaign). Here it is written with \\u escapes instead: valid JSON in valid UTF-8 that a client
decodes to exactly the text it sent.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import JSONResponse


class JsonResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"))
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:
            return json.dumps(content, ensure_ascii=True, allow_nan=False, indent=None,
                              separators=(",", ":")).encode("ascii")
