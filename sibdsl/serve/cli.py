"""`sibc serve [FOLDER]` (the JSON HTTP API) and `sibc studio [FOLDER]` (the same server with the
browser application). Both answer on 127.0.0.1 only unless `--host` names another address, which
needs `--allow-remote` and an access token (docs/api.md, "Running it for others")."""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
from pathlib import Path

import click

from ..cli import EXIT_OK, guard

MIN_TOKEN = 16
STUDIO_PORT = 8765  # the studio's usual address, so a bookmark keeps working; a free one if it is taken


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _token(token_file: str | None) -> str | None:
    if token_file:
        try:
            token = Path(token_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as err:
            raise click.BadParameter(f"cannot read {token_file}: {err}", param_hint="--token-file") from None
    else:
        token = os.environ.get("SIBC_TOKEN", "").strip() or None
    if token is not None and len(token) < MIN_TOKEN:
        raise click.BadParameter(f"an access token needs at least {MIN_TOKEN} characters "
                                 "(e.g. `python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`)",
                                 param_hint="--token-file / SIBC_TOKEN")
    return token


def _options(function):
    for option in reversed([
        click.argument("folder", default=".", type=click.Path(file_okay=False, exists=True)),
        click.option("--host", default="127.0.0.1", show_default=True,
                     help="Address to listen on. Anything but loopback needs --allow-remote and a token."),
        click.option("--port", type=click.IntRange(0, 65535), default=None,
                     help="Port (default: 8321 for serve; 8765 for studio, or a free one if that is taken; 0: a free one)."),
        click.option("--allow-remote", is_flag=True,
                     help="Allow a non-loopback --host (then an access token is required)."),
        click.option("--token-file", type=click.Path(dir_okay=False), default=None,
                     help="A file holding the access token every API call must send as "
                          "`Authorization: Bearer TOKEN` (or set SIBC_TOKEN)."),
        click.option("--allowed-host", "allowed_hosts", multiple=True,
                     help="A Host header value to answer to (behind a reverse proxy: its public name). Repeatable."),
        click.option("--access-log", is_flag=True, help="Log every request (method, path, status) on stderr."),
        click.option("--budget", type=click.FloatRange(0.1, 3600), default=20.0, show_default=True,
                     help="Seconds a verification or simulation may run before it is stopped (E864)."),
    ]):
        function = option(function)
    return function


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    # proto=IPPROTO_TCP: asyncio turns Nagle's algorithm off only on sockets that say they are TCP;
    # with proto 0 every response waits ~40 ms for a delayed ACK (measured: 22 requests/s instead of hundreds)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as err:
        sock.close()
        raise click.ClickException(f"cannot listen on {host}:{port}: {err.strerror or err}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _run(folder, host, port, allow_remote, token_file, allowed_hosts, access_log, budget, *, studio: bool,
         no_source: bool = False, open_browser: bool = False, lang: str = "en", fallback: bool = False) -> None:
    import uvicorn

    from .app import create_app

    loopback = _is_loopback(host)
    token = _token(token_file)
    if not loopback:
        if not allow_remote:
            raise click.UsageError(f"--host {host} is reachable from other machines: add --allow-remote "
                                   "(and an access token) if that is what you mean")
        if token is None:
            raise click.UsageError("a server reachable from other machines needs an access token: "
                                   "--token-file FILE or SIBC_TOKEN")
    try:
        sock = _listen(host, port)
    except click.ClickException:
        if not (studio and fallback):
            raise
        sock = _listen(host, 0)  # the studio's usual port is taken (another studio?): any free one
    bound = sock.getsockname()[1]
    shown = f"[{host.strip('[]')}]" if ":" in host.strip("[]") else host
    hosts = set(allowed_hosts)
    if loopback:
        hosts |= {f"127.0.0.1:{bound}", f"localhost:{bound}", f"[::1]:{bound}"}
    app = create_app(folder, studio=studio, token=token, hosts={h.lower() for h in hosts},
                     allow_source=not no_source, budget=budget, lang=lang)
    url = f"http://{shown}:{bound}/" + ("studio/" if studio else "v1/")
    click.echo(f"sibc {'studio' if studio else 'serve'}: {url} — serving {Path(folder).resolve()}"
               + (" (token required)" if token else "") + "; Ctrl-C stops it")
    sys.stdout.flush()
    if open_browser:
        import webbrowser

        webbrowser.open(url + (f"#token={token}" if token else ""))
    config = uvicorn.Config(app, log_level="info" if access_log else "warning", access_log=access_log,
                            server_header=False, timeout_keep_alive=5,
                            limit_concurrency=256, h11_max_incomplete_event_size=64 * 1024)
    uvicorn.Server(config).run(sockets=[sock])
    sys.exit(EXIT_OK)


@click.command("serve")
@_options
@click.option("--no-source", is_flag=True,
              help="Settle only the contracts of FOLDER, by name: refuse contract texts in requests.")
@guard
def serve(folder, host, port, allow_remote, token_file, allowed_hosts, access_log, budget, no_source) -> None:
    """Serve the library as a JSON HTTP API over the contracts of FOLDER (docs/api.md):
    /v1/check, eval, verify, test, render, diff, simulate; the OpenAPI description at /v1/openapi.json."""
    _run(folder, host, 8321 if port is None else port, allow_remote, token_file, allowed_hosts, access_log, budget,
         studio=False, no_source=no_source)


@click.command("studio")
@_options
@click.option("--browser/--no-browser", "open_browser", default=True, show_default=True,
              help="Open the studio in the default web browser.")
@click.option("--lang", type=click.Choice(["sv", "en"]), default="sv", show_default=True,
              help="Language of the interface (it can be switched in the page).")
@guard
def studio(folder, host, port, allow_remote, token_file, allowed_hosts, access_log, budget, open_browser,
           lang) -> None:
    """Open the studio: edit the contracts of FOLDER in a web browser with live diagnostics, enter
    outcomes and see the settlement, the payout curve, scenarios, proofs and the council document."""
    _run(folder, host, STUDIO_PORT if port is None else port, allow_remote, token_file, allowed_hosts, access_log,
         budget, studio=True, open_browser=open_browser, lang=lang, fallback=port is None)
