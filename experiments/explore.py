"""``mixsim explore [TERRITORY]``: explore the levers live in a browser (a local web app).

The page (:mod:`mixsim.experiments.explore_app`) is served with Solara, the stack of Mesa's
SolaraViz, from the optional extra ``mixsim[explore]``. Solara is imported only when the command
runs: without the extra, the command says which extra to install and exits with code 2.

The server listens on 127.0.0.1 unless ``--host`` says otherwise, and serves the page's
front-end from the installed ``solara-assets`` package: nothing is fetched from the internet
(a town hall may have none), Solara's usage statistics are off.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys

from mixsim.model.errors import InputError

EXTRA_HINT = "pip install 'mixsim[explore]'"
APP_MODULE = "mixsim.experiments.explore_app"
DEFAULT_PORT = 8765
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def port_number(text: str) -> int:
    """Argument type: a TCP port, 0 to 65535."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= v <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, got {text!r}")
    return v


def missing_extra() -> str | None:
    """Name the missing package of the ``explore`` extra, or None when all are installed."""
    import importlib
    for module in ("solara", "solara_assets", "uvicorn"):
        try:
            importlib.import_module(module)
        except ImportError:
            return module
    return None


def check_port(host: str, port: int) -> int:
    """Refuse a port already taken (one clear message, not a server traceback)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as err:
            raise InputError(f"cannot listen on {host}:{port} ({err.strerror}); give another "
                             "--port (0 picks a free one) or --host", field="--port") from None
        return s.getsockname()[1]


OFFLINE_ENVIRONMENT = {
    "SOLARA_MODE": "production",
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
    "SOLARA_ASSETS_PROXY": "True",
    "SOLARA_ASSETS_CDN": "http://127.0.0.1:9/",  # the discard port: refused, never routed
    "SOLARA_THEME_SHOW_BANNER": "False",
    "SOLARA_THEME_LOADER": "plain",
    "SOLARA_THEME_TITLE": "mixsim explore",
}


def offline_solara(env: dict[str, str] | os._Environ) -> None:
    """Set Solara up for an offline, private server.

    * production mode: no development checks (they load a page from solara.dev);
    * no usage statistics (Solara sends them to mixpanel.com by default);
    * the front-end from the local ``solara-assets`` files, with an unreachable address as the
      fallback for a file that would be missing, so that the server never asks the internet;
    * no "runs on Solara" banner (it links to solara.dev).

    The environment variables are read when Solara is first imported; the settings of an
    already imported Solara are set too.
    """
    env.update(OFFLINE_ENVIRONMENT)
    if sys.modules.get("solara") is None:  # not imported yet (or not installed)
        return
    try:
        import solara.server.settings as server_settings
        import solara.settings as ui_settings
    except ImportError:  # the extra is incomplete: the command says so next
        return
    server_settings.main.mode = "production"
    server_settings.telemetry.mixpanel_enable = False
    server_settings.theme.show_banner = False
    server_settings.theme.loader = "plain"
    server_settings.theme.title = OFFLINE_ENVIRONMENT["SOLARA_THEME_TITLE"]
    ui_settings.assets.proxy = True
    ui_settings.assets.cdn = OFFLINE_ENVIRONMENT["SOLARA_ASSETS_CDN"]


def serve(settings, host: str, port: int) -> None:
    """Serve the page with these settings on ``host:port`` until interrupted (Ctrl+C)."""
    import threading
    import warnings

    # Solara warns on every page served to a host other than "localhost" that its session
    # cookie falls back to SameSite=Lax, which is what a local page wants
    warnings.filterwarnings("ignore", message="Cookies with samesite=none", category=UserWarning)
    offline_solara(os.environ)
    os.environ["SOLARA_APP"] = APP_MODULE
    import solara.server.settings  # noqa: F401  (then its settings are set explicitly)
    offline_solara(os.environ)
    from . import explore_engine as eng
    eng.configure(settings)
    explorer = eng.explorer()  # starts the worker processes and loads the maps
    # compute today's rules while the first visitor opens the page
    threading.Thread(target=explorer.reference, daemon=True, name="reference").start()
    import uvicorn
    url_host = f"[{host}]" if ":" in host else host
    print(f"mixsim explore: open http://{url_host}:{port}/ in a browser (Ctrl+C to stop)",
          file=sys.stderr, flush=True)
    if host not in LOOPBACK:
        print(f"mixsim explore: warning: listening on {host}: other computers of the network "
              "can open the page", file=sys.stderr)
    try:
        uvicorn.run("solara.server.starlette:app", host=host, port=port, log_level="warning",
                    access_log=False, ws_max_size=2**26)
    finally:
        explorer.close()
