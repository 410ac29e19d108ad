"""The dashboard's one settings object, read from ``PNM_*`` variables and a TOML file.

Precedence, lowest first: built-in defaults, the TOML file named by ``PNM_CONFIG``, the
environment. Everything is validated at start so a typo stops the app with a message
naming the key, instead of a map that silently ignores it.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from geodata.store import DATA_ENV
from geodata.tiles import PACKAGE_NAME

CONFIG_ENV = "PNM_CONFIG"
LANGUAGES = ("zh", "en")
CACHES = ("simple", "redis")
# The wall screen's views, in their default order (see dashboard.views.wall).
WALL_VIEWS = ("gaps", "heat", "patrol", "community")
AUTH_MODES = ("users", "proxy", "none")


class SettingsError(ValueError):
    """A setting is unknown, malformed or inconsistent with another one."""


@dataclass(frozen=True)
class Settings:
    """What the dashboard needs to know about its environment.

    Attributes
    ----------
    data_dir : Path
        Data directory (store and hex cubes); ``PNM_DATA_DIR``, default ``./data/demo``.
    tile_url : str
        Basemap tile URL template with ``{z}``, ``{x}``, ``{y}``; ``PNM_TILE_URL``. Empty
        (the default) draws an offline vector basemap of the area.
    tile_attribution : str
        Attribution shown with the tiles; ``PNM_TILE_ATTRIBUTION``. Default: a tile
        package's own (its metadata's ``attribution``).
    tile_package : Path or None
        An MBTiles file of raster tiles the app serves itself at ``/tiles/z/x/y``
        (:mod:`dashboard.tiles`); ``PNM_TILE_PACKAGE``, default
        ``<data_dir>/basemap.mbtiles`` when it exists. ``tile_url`` wins when both are set.
    language : str
        Default language, ``zh`` or ``en``; ``PNM_LANGUAGE``, default ``zh``.
    cache : str
        ``simple`` (one process) or ``redis`` (shared by workers); ``PNM_CACHE``.
    redis_url : str
        Redis for ``cache = "redis"``; ``PNM_REDIS_URL``.
    host, port : str, int
        Where ``python -m dashboard`` listens; ``PNM_HOST``, ``PNM_PORT``.
    wall_views : tuple of str
        The wall screen's views in rotation order (``gaps``, ``heat``, ``patrol``,
        ``community``); ``PNM_WALL_VIEWS`` (comma-separated). ``/wall?views=`` overrides.
    wall_period_s, wall_refresh_s : float
        Seconds each wall view shows, and between two data refreshes of the wall;
        ``PNM_WALL_PERIOD_S`` (default 30), ``PNM_WALL_REFRESH_S`` (default 60).
    wall_stale_minutes : float
        Data older than this (since the cubes were built), or a refresh that fails,
        puts the stale-data banner on the wall; ``PNM_WALL_STALE_MINUTES`` (default 60).
    auth : str
        Sign-in mode: ``users`` (a users file, the default), ``proxy`` (a trusted reverse
        proxy's header) or ``none`` (no sign-in: a demo, said in a banner); ``PNM_AUTH``.
    users_file : Path or None
        The users file (TOML or JSON); ``PNM_USERS_FILE``, default
        ``<data_dir>/users.toml`` (or ``users.json`` when only that exists).
    secret_key, secret_key_file : str, Path or None
        The key that signs session cookies, the same for every worker;
        ``PNM_SECRET_KEY`` or a file holding it, ``PNM_SECRET_KEY_FILE``.
    proxy_header : str
        Header naming the signed-in user in ``proxy`` mode (e.g. ``X-Remote-User``);
        ``PNM_PROXY_HEADER``.
    proxy_addresses : tuple of str
        Addresses or networks of the reverse proxies whose header is believed;
        ``PNM_PROXY_ADDRESSES`` (comma-separated).
    trusted_proxies : tuple of str
        Addresses or networks of the reverse proxies in front of the app whose
        ``X-Forwarded-For``, ``-Proto`` and ``-Host`` are believed (one hop);
        ``PNM_TRUSTED_PROXIES`` (comma-separated). Empty: nobody's (the default).
    session_hours : float
        How long a sign-in lasts; ``PNM_SESSION_HOURS``, default 8.
    cookie_secure : bool
        Send the session cookie over HTTPS only; ``PNM_COOKIE_SECURE`` (``1``/``true``).
        Without it the cookie is still ``Secure`` on a request that came over HTTPS
        (directly, or through a trusted proxy saying ``X-Forwarded-Proto: https``).
    warm : bool
        Warm the layer cache in the background after each (re)load of the data
        (:mod:`dashboard.views.warm`); ``PNM_WARM`` (default ``1``; ``0`` turns it off).
    switch_wait_s : float
        With the warm-up on, new cubes are put in service once the views of every scope's
        default window are warm, or after this many seconds, whichever comes first;
        ``PNM_SWITCH_WAIT`` (default 120; ``0`` puts them in service at once).
    """

    data_dir: Path = Path("data/demo")
    tile_url: str = ""
    tile_attribution: str = ""
    tile_package: Path | None = None
    language: str = "zh"
    cache: str = "simple"
    redis_url: str = "redis://127.0.0.1:6379/0"
    host: str = "127.0.0.1"
    port: int = 8050
    wall_views: tuple[str, ...] = WALL_VIEWS
    wall_period_s: float = 30.0
    wall_refresh_s: float = 60.0
    wall_stale_minutes: float = 60.0
    auth: str = "users"
    users_file: Path | None = None
    secret_key: str = field(default="", repr=False)
    secret_key_file: Path | None = None
    proxy_header: str = ""
    proxy_addresses: tuple[str, ...] = ()
    trusted_proxies: tuple[str, ...] = ()
    session_hours: float = 8.0
    cookie_secure: bool = False
    warm: bool = True
    switch_wait_s: float = 120.0

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise SettingsError(
                f"language must be one of {', '.join(LANGUAGES)}, not {self.language!r}"
            )
        if self.cache not in CACHES:
            raise SettingsError(f"cache must be one of {', '.join(CACHES)}, not {self.cache!r}")
        if self.cache == "redis" and not self.redis_url.startswith(("redis://", "rediss://")):
            raise SettingsError(
                f"redis_url must start with redis:// or rediss://: {self.redis_url!r}"
            )
        if self.tile_url:
            if not self.tile_url.startswith(("http://", "https://", "/")):
                raise SettingsError(f"tile_url must be an http(s) URL or a path: {self.tile_url!r}")
            missing = [p for p in ("{z}", "{x}", "{y}") if p not in self.tile_url]
            if missing:
                raise SettingsError(f"tile_url lacks {', '.join(missing)}: {self.tile_url!r}")
        if not 1 <= self.port <= 65535:
            raise SettingsError(f"port must be 1..65535, not {self.port}")
        if not self.host:
            raise SettingsError("host must not be empty")
        unknown_views = [v for v in self.wall_views if v not in WALL_VIEWS]
        if not self.wall_views or unknown_views:
            raise SettingsError(
                f"wall_views must name some of {', '.join(WALL_VIEWS)}, not {self.wall_views!r}"
            )
        for name in ("wall_period_s", "wall_refresh_s"):
            if not getattr(self, name) >= 2:
                raise SettingsError(f"{name} must be at least 2 seconds, not {getattr(self, name)}")
        if not self.wall_stale_minutes > 0:
            raise SettingsError(
                f"wall_stale_minutes must be positive, not {self.wall_stale_minutes}"
            )
        if not 0 <= self.switch_wait_s <= 3600:
            raise SettingsError(f"switch_wait_s must be 0..3600 seconds, not {self.switch_wait_s}")
        if self.auth not in AUTH_MODES:
            raise SettingsError(f"auth must be one of {', '.join(AUTH_MODES)}, not {self.auth!r}")
        if not 0 < self.session_hours <= 24 * 30:
            raise SettingsError(f"session_hours must be in (0, 720], not {self.session_hours}")
        if self.auth == "proxy" and not (self.proxy_header and self.proxy_addresses):
            raise SettingsError(
                "auth = proxy needs PNM_PROXY_HEADER (e.g. X-Remote-User) and "
                "PNM_PROXY_ADDRESSES (the reverse proxies' addresses)"
            )
        for name in ("proxy_addresses", "trusted_proxies"):
            for address in getattr(self, name):
                try:
                    ipaddress.ip_network(address, strict=False)
                except ValueError:
                    raise SettingsError(f"{name}: not an address: {address!r}") from None

    @property
    def tile_package_path(self) -> Path:
        """The tile package: the configured one, else ``basemap.mbtiles`` in the data
        directory (which may not exist: then there is none)."""
        if self.tile_package is not None:
            return self.tile_package
        return self.data_dir / PACKAGE_NAME

    @property
    def users_path(self) -> Path:
        """The users file: the configured one, else ``users.toml`` (or an existing
        ``users.json``) in the data directory."""
        if self.users_file is not None:
            return self.users_file
        toml_path, json_path = self.data_dir / "users.toml", self.data_dir / "users.json"
        return json_path if json_path.exists() and not toml_path.exists() else toml_path


# Setting name -> environment variable. The data directory shares geodata's variable.
ENV_VARS: dict[str, str] = {
    "data_dir": DATA_ENV,
    "tile_url": "PNM_TILE_URL",
    "tile_attribution": "PNM_TILE_ATTRIBUTION",
    "tile_package": "PNM_TILE_PACKAGE",
    "language": "PNM_LANGUAGE",
    "cache": "PNM_CACHE",
    "redis_url": "PNM_REDIS_URL",
    "host": "PNM_HOST",
    "port": "PNM_PORT",
    "wall_views": "PNM_WALL_VIEWS",
    "wall_period_s": "PNM_WALL_PERIOD_S",
    "wall_refresh_s": "PNM_WALL_REFRESH_S",
    "wall_stale_minutes": "PNM_WALL_STALE_MINUTES",
    "auth": "PNM_AUTH",
    "users_file": "PNM_USERS_FILE",
    "secret_key": "PNM_SECRET_KEY",
    "secret_key_file": "PNM_SECRET_KEY_FILE",
    "proxy_header": "PNM_PROXY_HEADER",
    "proxy_addresses": "PNM_PROXY_ADDRESSES",
    "trusted_proxies": "PNM_TRUSTED_PROXIES",
    "session_hours": "PNM_SESSION_HOURS",
    "cookie_secure": "PNM_COOKIE_SECURE",
    "warm": "PNM_WARM",
    "switch_wait_s": "PNM_SWITCH_WAIT",
}
PATH_SETTINGS = ("data_dir", "users_file", "secret_key_file", "tile_package")


def _coerce(name: str, value: Any, source: str) -> Any:
    if name == "wall_views":
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
            raise SettingsError(f"{source}: wall_views must be view names, not {value!r}")
        return tuple(i.strip() for i in items if i.strip())
    if name in ("wall_period_s", "wall_refresh_s", "wall_stale_minutes", "switch_wait_s"):
        try:
            if isinstance(value, bool):
                raise TypeError
            return float(value)
        except (TypeError, ValueError):
            raise SettingsError(f"{source}: {name} must be a number, not {value!r}") from None
    if name in PATH_SETTINGS:
        if not isinstance(value, str | os.PathLike) or not str(value):
            raise SettingsError(f"{source}: {name} must be a non-empty path")
        return Path(value)
    if name in ("proxy_addresses", "trusted_proxies"):
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
            raise SettingsError(f"{source}: {name} must be addresses, not {value!r}")
        return tuple(i.strip() for i in items if i.strip())
    if name == "session_hours":
        if isinstance(value, bool):
            raise SettingsError(f"{source}: session_hours must be a number, not {value!r}")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise SettingsError(
                f"{source}: session_hours must be a number, not {value!r}"
            ) from None
    if name in ("cookie_secure", "warm"):
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text not in ("1", "0", "true", "false", "yes", "no"):
            raise SettingsError(f"{source}: {name} must be true or false, not {value!r}")
        return text in ("1", "true", "yes")
    if name == "port":
        if isinstance(value, bool):
            raise SettingsError(f"{source}: port must be an integer, not {value!r}")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise SettingsError(f"{source}: port must be an integer, not {value!r}") from None
    if not isinstance(value, str):
        raise SettingsError(f"{source}: {name} must be a string, not {value!r}")
    return value.strip()


def _from_toml(path: Path) -> dict[str, Any]:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"{CONFIG_ENV} names {path}, which does not exist") from None
    except tomllib.TOMLDecodeError as err:
        raise SettingsError(f"{path} is not valid TOML: {err}") from None
    known = [f.name for f in fields(Settings)]
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise SettingsError(
            f"{path}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(known)}"
        )
    values = {k: _coerce(k, v, str(path)) for k, v in raw.items()}
    for name in PATH_SETTINGS:
        if name in values and not values[name].is_absolute():
            # A relative path in a file means relative to the file, not to the cwd.
            values[name] = path.parent / values[name]
    return values


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Read and validate the settings.

    Parameters
    ----------
    environ : mapping, optional
        The environment to read (default ``os.environ``).
    **overrides
        Values that win over everything else (e.g. from command-line options); None
        values are ignored.

    Returns
    -------
    Settings

    Raises
    ------
    SettingsError
        On an unknown key in the TOML file, a malformed value or an inconsistent pair.
    """
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    config = env.get(CONFIG_ENV, "").strip()
    if config:
        values.update(_from_toml(Path(config)))
    for name, var in ENV_VARS.items():
        if env.get(var, "").strip():
            values[name] = _coerce(name, env[var], var)
    known = {f.name for f in fields(Settings)}
    for name, value in overrides.items():
        if name not in known:
            raise SettingsError(f"unknown setting {name!r}")
        if value is not None:
            values[name] = _coerce(name, value, name)
    return replace(Settings(), **values)
