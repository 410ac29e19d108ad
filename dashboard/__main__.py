"""Development server: ``python -m dashboard [--data DIR] [--host H] [--port P] [--debug]``,
and the accounts: ``python -m dashboard users add|list|remove`` (see
:mod:`dashboard.auth.cli`).

For production use gunicorn (see ``Procfile``). A missing or unbuilt data directory, or a
bad setting, ends in one line saying what to do, not a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dashboard.datasource import DataDirError
from dashboard.settings import SettingsError, load_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dashboard",
        description="Serve the prevention-network map (development server).",
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="data directory (default: $PNM_DATA_DIR or ./data/demo)",
    )
    parser.add_argument("--host", default=None, help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="port (default 8050)")
    parser.add_argument("--debug", action="store_true", help="Dash debug mode with hot reload")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the development server (or the ``users`` command); return the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["users"]:
        from dashboard.auth.cli import main as users_main

        return users_main(argv[1:])
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(data_dir=args.data, host=args.host, port=args.port)
        from dashboard.app import create_app

        app = create_app(settings)
    except (SettingsError, DataDirError) as err:
        print(f"python -m dashboard: {err}", file=sys.stderr)
        return 2
    # Dash's dev tools would ask dash-version.plotly.com for updates: the page must
    # request nothing from outside hosts, in debug mode too.
    app.run(
        host=settings.host,
        port=settings.port,
        debug=args.debug,
        dev_tools_disable_version_check=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
