"""Users, browser sessions, API tokens and the audit tables of the examiner web application.

Why these live in the store: the CLI (`tantalio user ...`, `tantalio audit verify`) and the web
app share them, and only `store/` talks SQL. Secrets are never stored: passwords as argon2
hashes, session cookies and API tokens as SHA-256 digests of random 256-bit values.
The audit chain itself (append, verify) is `tantalio.store.audit`.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import (
    DDL,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    delete,
    event,
    func,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from tantalio.store.base import Base
from tantalio.store.timeutil import utcnow

# Roles (issue 4): admin (users, settings), examiner (cases, triage, categorize),
# victim-identification specialist (series, identification status), auditor (read-only audit).
ROLES = ("admin", "examiner", "victim-id", "auditor")
ROLE_ALIASES = {"vid": "victim-id", "victim-identification": "victim-id", "victim_id": "victim-id"}
GENESIS_HASH = "0" * 64
SESSION_LIFETIME = timedelta(hours=12)
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)

_hasher = PasswordHasher()
# Verified against when a username does not exist, so a miss costs as much as a hit.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def normalize_role(role: str) -> str:
    value = ROLE_ALIASES.get(role.strip().lower(), role.strip().lower())
    if value not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    return value


class User(Base):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    # The agency the user works for (DESIGN.md: User → agency); optional on a laptop.
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id", ondelete="SET NULL"))
    password_hash: Mapped[str] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    # Safe-viewing preferences: Gaussian blur radius (px on a 256 px thumbnail), grayscale.
    blur: Mapped[int] = mapped_column(Integer, default=12)
    grayscale: Mapped[bool] = mapped_column(Boolean, default=True)
    # The web app's language (en, es, pt); None: the browser's Accept-Language.
    locale: Mapped[str | None] = mapped_column(String(8), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)


class WebSession(Base):
    """A browser session; the cookie carries the random token, the row its SHA-256."""

    __tablename__ = "web_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    ip: Mapped[str | None] = mapped_column(String(64))


class ApiToken(Base):
    """A bearer token for scripts: `tnt_<prefix>_<secret>`; only the digest is kept."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class AuditEvent(Base):
    """One audited action: who, when, what, on which object. Never updated, never deleted."""

    __tablename__ = "audit_event"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    username: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(128))
    detail: Mapped[str] = mapped_column(Text, default="{}")  # canonical JSON, hashed as stored
    ip: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """The single row naming the newest audit event (seq 0 and the genesis hash when empty)."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


AUTH_TABLES = [
    User.__table__,
    WebSession.__table__,
    ApiToken.__table__,
    AuditEvent.__table__,
    AuditHead.__table__,
]

# Defence in depth: the database itself refuses UPDATE and DELETE on audit rows. Someone with
# the database's owner rights can drop the triggers; `verify_audit_chain` still catches them.
AUDIT_TRIGGERS_SQLITE = [
    "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
]
AUDIT_TRIGGERS_POSTGRESQL = [
    "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'audit_event is append-only'; END $$ LANGUAGE plpgsql",
    "CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event "
    "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
]
for _sql in AUDIT_TRIGGERS_SQLITE:
    event.listen(AuditEvent.__table__, "after_create", DDL(_sql).execute_if(dialect="sqlite"))
for _sql in AUDIT_TRIGGERS_POSTGRESQL:
    event.listen(AuditEvent.__table__, "after_create", DDL(_sql).execute_if(dialect="postgresql"))


# --- passwords, users -------------------------------------------------------------------------


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_strength(password: str) -> None:
    if len(password) < 10:
        raise ValueError("password must have at least 10 characters")


def create_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    *,
    display_name: str | None = None,
    agency_id: int | None = None,
    must_change_password: bool = False,
) -> User:
    username = username.strip().lower()
    if (
        not username
        or len(username) > 64
        or not username.replace(".", "").replace("-", "").replace("_", "").isalnum()
    ):
        raise ValueError(f"invalid username {username!r}: letters, digits, '.', '-', '_' only")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise ValueError(f"user {username!r} already exists")
    check_password_strength(password)
    if agency_id is None:  # users join the workspace's own agency unless told otherwise
        from tantalio.store.access import home_agency

        home = home_agency(session)
        agency_id = home.id if home is not None else None
    user = User(
        username=username,
        display_name=display_name,
        role=normalize_role(role),
        agency_id=agency_id,
        password_hash=hash_password(password),
        must_change_password=must_change_password,
        disabled=False,
        blur=12,
        grayscale=True,
        created_at=utcnow(),
    )
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username.strip().lower()))


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def count_users(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(User)) or 0)


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this password, or None. Rehashes outdated argon2 parameters."""
    user = get_user(session, username)
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or user.disabled:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user


def set_password(session: Session, user: User, password: str) -> None:
    check_password_strength(password)
    user.password_hash = hash_password(password)
    user.must_change_password = False
    revoke_sessions(session, user.id)


def set_disabled(session: Session, user: User, disabled: bool) -> None:
    """Disabling also ends the user's sessions and API tokens at once."""
    user.disabled = disabled
    if disabled:
        revoke_sessions(session, user.id)
        session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )


# --- sessions and tokens ----------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_session(session: Session, user: User, ip: str | None = None) -> tuple[str, WebSession]:
    """A new browser session; returns the cookie value (shown once) and the row."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.execute(delete(WebSession).where(WebSession.expires_at < now))  # forget stale ones
    row = WebSession(
        id=_digest(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + SESSION_LIFETIME,
        ip=ip,
    )
    session.add(row)
    session.flush()
    return token, row


def resolve_session(session: Session, token: str) -> tuple[User, WebSession] | None:
    row = session.get(WebSession, _digest(token))
    if row is None or row.expires_at < utcnow():
        return None
    user = session.get(User, row.user_id)
    if user is None or user.disabled:
        return None
    return user, row


def end_session(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.id == _digest(token)))


def revoke_sessions(session: Session, user_id: int) -> None:
    session.execute(delete(WebSession).where(WebSession.user_id == user_id))


def create_api_token(session: Session, user: User, name: str) -> tuple[str, ApiToken]:
    prefix = secrets.token_hex(4)
    token = f"tnt_{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiToken(
        user_id=user.id,
        name=name[:100],
        prefix=prefix,
        token_hash=_digest(token),
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return token, row


def resolve_api_token(session: Session, token: str) -> User | None:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None or row.revoked_at is not None:
        return None
    user = session.get(User, row.user_id)
    if user is None or user.disabled:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > TOKEN_TOUCH_INTERVAL:
        row.last_used_at = now  # at most one write a minute per token, not one per request
    return user


def list_api_tokens(session: Session, user_id: int) -> list[ApiToken]:
    return list(
        session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id))
    )


def revoke_api_token(session: Session, user_id: int, token_id: int) -> bool:
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user_id or row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    return True


def bootstrap_admin(session: Session) -> str | None:
    """On first start (no user at all) create `admin` with a one-time password, returned once."""
    if count_users(session) > 0:
        return None
    password = secrets.token_urlsafe(12)
    user = create_user(
        session, "admin", password, "admin", display_name="Administrator", must_change_password=True
    )
    from tantalio.store.audit import audit

    audit(
        session,
        "user.create",
        username="(first start)",
        object_type="user",
        object_id=user.id,
        detail={"username": "admin", "role": "admin"},
    )
    session.commit()
    return password
