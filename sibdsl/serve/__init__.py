"""`sibc serve` and `sibc studio`: the library over HTTP (a versioned JSON API) and in a browser.

    api.py      requests (plain dicts) → responses; contracts from a served folder; no HTTP here
    limited.py  verify and simulate in a child process, killed past their time budget
    openapi.py  the OpenAPI 3.1 description served at /v1/openapi.json
    app.py      the ASGI application (Starlette): routes, limits, tokens, security headers
    cli.py      the two click commands
    static/     the studio: plain HTML, JavaScript and CSS (nothing to build)
"""
