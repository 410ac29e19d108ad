"""``python -m dashboard users``: add, list and remove the accounts of the users file.

::

    python -m dashboard users add zhang --role chief --precinct 511722001
    python -m dashboard users add li --role planner --password-stdin < pw.txt
    python -m dashboard users add lobby --role wall          # prints the kiosk's URL
    python -m dashboard users list
    python -m dashboard users remove zhang

The file is the one the dashboard reads (``PNM_USERS_FILE``, default
``<data_dir>/users.toml``); ``--users-file`` or ``--data`` choose another. Passwords are
asked twice on the terminal (never on the command line) or read from standard input.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from dashboard.auth.roles import ROLES
from dashboard.auth.users import (
    MIN_PASSWORD_CHARS,
    User,
    UsersError,
    make_user,
    new_token,
    read_users,
    write_users,
)
from dashboard.settings import SettingsError, load_settings
from geodata.store import has_table, read_table


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dashboard users", description="Manage the dashboard's accounts."
    )
    parser.add_argument("--users-file", type=Path, default=None, help="the users file")
    parser.add_argument("--data", type=Path, default=None, help="data directory")
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add", help="add (or with --replace, change) an account")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument(
        "--precinct",
        action="append",
        default=[],
        metavar="ID",
        help="a precinct of a chief's or planner's jurisdiction (repeat for several)",
    )
    how = add.add_mutually_exclusive_group()
    how.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    how.add_argument(
        "--no-password",
        action="store_true",
        help="no password: the account signs in through the proxy (PNM_AUTH=proxy) only",
    )
    add.add_argument("--replace", action="store_true", help="replace an existing account")
    sub.add_parser("list", help="list the accounts")
    remove = sub.add_parser("remove", help="remove an account")
    remove.add_argument("name")
    return parser


def _password(args: argparse.Namespace) -> str | None:
    if args.role == "wall" or args.no_password:
        return None
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(f"password for {args.name} (≥{MIN_PASSWORD_CHARS} characters): ")
    if getpass.getpass("again: ") != first:
        raise UsersError("the two passwords differ")
    return first


def _check_precincts(data_dir: Path, precincts: list[str]) -> None:
    """Warn about precinct ids the data set does not know (their chief would see nothing)."""
    if not precincts or not has_table(data_dir, "precincts"):
        return
    frame = read_table(data_dir, "precincts", columns=["precinct_id", "geometry"])
    known = set(frame["precinct_id"].astype(str))
    unknown = sorted(set(precincts) - known)
    if unknown:
        print(
            f"warning: precinct(s) {', '.join(unknown)} not in {data_dir}; "
            "this account will see nothing there",
            file=sys.stderr,
        )


def main(argv: list[str] | None = None) -> int:
    """Run the ``users`` command; return the exit code (2 with a one-line message on error)."""
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(data_dir=args.data, users_file=args.users_file)
        path = settings.users_path
        users = read_users(path)
        if args.command == "list":
            for u in users.values():
                scope = ",".join(sorted(u.precincts)) or "-"
                how = "password" if u.password else ("token" if u.token else "proxy")
                print(f"{u.name}\t{u.role}\t{scope}\t{how}")
            return 0
        if args.command == "remove":
            if args.name not in users:
                raise UsersError(f"no user {args.name!r} in {path}")
            del users[args.name]
            write_users(path, users.values())
            print(f"removed {args.name} from {path}")
            return 0
        if args.name in users and not args.replace:
            raise UsersError(f"user {args.name!r} exists in {path}; add --replace to change it")
        token = new_token() if args.role == "wall" else None
        user: User = make_user(
            args.name, args.role, precincts=args.precinct, password=_password(args), token=token
        )
        _check_precincts(settings.data_dir, args.precinct)
        users[user.name] = user
        write_users(path, users.values())
        print(f"saved {user.name} ({user.role}) in {path}")
        if token is not None:
            print(f"kiosk URL (shown once, keep it secret): /wall?token={token}")
        return 0
    except (UsersError, SettingsError, OSError) as exc:
        print(f"python -m dashboard users: {exc}", file=sys.stderr)
        return 2
