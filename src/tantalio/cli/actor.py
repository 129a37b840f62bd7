"""Who runs a CLI command, for the audit log: every command that changes a workspace or
exports from it records an event (`store.audit`), as web actions do (issue 16).

The event's user is `cli:<OS login>`; `--as USER` (or $TANTALIO_AS) names the examiner on
whose behalf the command runs, recorded beside the login as the detail's `as`.
"""

from __future__ import annotations

import getpass
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from tantalio.store.audit import Actor
    from tantalio.store.workspace import Workspace

AsOpt = Annotated[
    str | None,
    typer.Option(
        "--as",
        envvar="TANTALIO_AS",
        metavar="USER",
        help="Examiner on whose behalf this runs; the audit log records it beside your OS "
        "login (default: $TANTALIO_AS).",
        show_default=False,
    ),
]


def os_login() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (a container without a passwd entry): still audited
        return "unknown"


def cli_username() -> str:
    return f"cli:{os_login()}"[:64]


def cli_actor(as_user: str | None) -> Actor:
    from tantalio.store.audit import Actor

    name = as_user.strip().lower()[:64] if as_user and as_user.strip() else None
    return Actor(cli_username(), name)


def record(
    ws: Workspace,
    actor: Actor,
    action: str,
    *,
    case: str | None = None,
    object_type: str | None = None,
    object_id: str | int | None = None,
    **detail: Any,
) -> None:
    """One audit event in its own transaction; `case` (a reference) names the case object."""
    from tantalio.store.audit import audit_actor
    from tantalio.store.repo import NotFound, get_case

    with ws.transaction() as s:
        if case is not None:
            object_type = "case"
            try:
                object_id = get_case(s, case).id
            except NotFound:
                object_id = None
            detail = {"reference": case, **detail}
        audit_actor(s, actor, action, object_type=object_type, object_id=object_id, detail=detail)
