"""Who may see which case: case membership, and the workspace's own agency.

Issue 11 ("In the workspace") and issue 14 (Medium): users belong to an agency and are
members of cases; a user sees a case only as its member. Media, series, chat accounts and
groups belong to cases through exhibits, so each is visible when one of its cases is
(a media in several cases is visible to a member of any of them). Admins see every case:
they grant membership and cannot grant what they cannot name (docs/decisions/web.md).

Every grant and revoke is an audit event in the caller's transaction (store/audit.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Integer,
    String,
    delete,
    exists,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from tantalio.store import audit as store_audit
from tantalio.store.auth import User
from tantalio.store.base import Base
from tantalio.store.cases import Agency, Case, Exhibit, File
from tantalio.store.series import MediaSeries
from tantalio.store.timeutil import utcnow

# Roles that see every case without being a member (docs/decisions/web.md). Auditors hold no
# case permission at all (security.PERMISSIONS), so they see the audit log, not the cases.
SEES_ALL_ROLES = frozenset({"admin"})
# Largest id a database integer holds; a larger one names nothing (and must not overflow).
MAX_ID = 2**63 - 1


class CaseMember(Base):
    """A user's membership of a case: what lets a non-admin see the case at all."""

    __tablename__ = "case_member"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("case.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    granted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    granted_by: Mapped[str | None] = mapped_column(String(64), default=None)


class HomeAgency(Base):
    """The single row naming the agency this workspace works for (set at `tantalio init
    --agency`, or later with `tantalio agency set`). New users and cases belong to it."""

    __tablename__ = "home_agency"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"))


# --- agencies ---------------------------------------------------------------------------------


def ensure_agency(session: Session, name: str, country: str | None = None) -> Agency:
    """The agency of this name, created when missing; `country` (ISO 3166-1 alpha-2) is set
    when given."""
    name = name.strip()
    if not name or len(name) > 200:
        raise ValueError("an agency name has 1 to 200 characters")
    if country is not None:
        country = country.strip().upper()
        if len(country) != 2 or not country.isalpha():
            raise ValueError(f"country {country!r}: use a two-letter ISO 3166-1 code, e.g. DE")
    agency = session.scalar(select(Agency).where(Agency.name == name))
    if agency is None:
        agency = Agency(name=name, country=country)
        session.add(agency)
        session.flush()
    elif country is not None:
        agency.country = country
    return agency


def get_agency(session: Session, name: str) -> Agency | None:
    return session.scalar(select(Agency).where(Agency.name == name.strip()))


def list_agencies(session: Session) -> list[Agency]:
    return list(session.scalars(select(Agency).order_by(Agency.name)))


def home_agency(session: Session) -> Agency | None:
    row = session.get(HomeAgency, 1)
    return session.get(Agency, row.agency_id) if row is not None else None


def set_home_agency(session: Session, name: str, country: str | None = None) -> Agency:
    """Name the workspace's own agency; users and cases without one join it."""
    agency = ensure_agency(session, name, country)
    row = session.get(HomeAgency, 1)
    if row is None:
        session.add(HomeAgency(id=1, agency_id=agency.id))
    else:
        row.agency_id = agency.id
    session.execute(update(User).where(User.agency_id.is_(None)).values(agency_id=agency.id))
    session.execute(update(Case).where(Case.agency_id.is_(None)).values(agency_id=agency.id))
    session.flush()
    return agency


# --- membership -------------------------------------------------------------------------------


def sees_all(user: User) -> bool:
    return user.role in SEES_ALL_ROLES


def is_member(session: Session, user_id: int, case_id: int) -> bool:
    if not 0 < case_id <= MAX_ID:
        return False
    return session.get(CaseMember, (case_id, user_id)) is not None


def member_case_ids(session: Session, user_id: int) -> set[int]:
    return set(session.scalars(select(CaseMember.case_id).where(CaseMember.user_id == user_id)))


def visible_case_ids(session: Session, user: User) -> set[int] | None:
    """The ids of the cases `user` may see; None means every case."""
    return None if sees_all(user) else member_case_ids(session, user.id)


def case_references(session: Session, case_ids: Iterable[int]) -> set[str]:
    ids = _ids(case_ids)
    return set(session.scalars(select(Case.reference).where(Case.id.in_(ids)))) if ids else set()


def may_see_case(session: Session, user: User, case_id: int) -> bool:
    return sees_all(user) or is_member(session, user.id, case_id)


def _ids(values: Iterable[int]) -> list[int]:
    return sorted({int(v) for v in values if 0 < int(v) <= MAX_ID})


def visible_media(session: Session, user: User, media_ids: Iterable[int]) -> set[int]:
    """Those of `media_ids` that occur in a case `user` may see (all of them for admins):
    a file of the media lies in an exhibit of the case. A chat message carrying the media's
    hash does not make it visible: the picture itself came from another case."""
    ids = _ids(media_ids)
    if sees_all(user):
        return set(ids)
    out: set[int] = set()
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        out.update(
            session.scalars(
                select(File.media_id)
                .join(Exhibit, Exhibit.id == File.exhibit_id)
                .join(CaseMember, CaseMember.case_id == Exhibit.case_id)
                .where(CaseMember.user_id == user.id, File.media_id.in_(chunk))
                .distinct()
            )
        )
    return out


def media_in_cases(session: Session, media_ids: Iterable[int], case_ids: Iterable[int]) -> set[int]:
    """Those of `media_ids` with a file in one of `case_ids`."""
    ids, cases = _ids(media_ids), _ids(case_ids)
    out: set[int] = set()
    for i in range(0, len(ids), 500) if cases else ():
        out.update(
            session.scalars(
                select(File.media_id)
                .join(Exhibit, Exhibit.id == File.exhibit_id)
                .where(Exhibit.case_id.in_(cases), File.media_id.in_(ids[i : i + 500]))
                .distinct()
            )
        )
    return out


def may_see_media(session: Session, user: User, media_id: int) -> bool:
    return bool(visible_media(session, user, [media_id]))


def may_see_series(session: Session, user: User, series_id: int) -> bool:
    """A series is visible when one of its media is in a case of the user's, or when none of
    its media is in any case (a known series from a hash set, a new empty one): then it shows
    nothing of anybody's case."""
    if sees_all(user):
        return True
    if not 0 < series_id <= MAX_ID:
        return False
    in_cases = (
        select(Exhibit.case_id)
        .join(File, File.exhibit_id == Exhibit.id)
        .join(MediaSeries, MediaSeries.media_id == File.media_id)
        .where(MediaSeries.series_id == series_id)
    )
    mine = in_cases.join(CaseMember, CaseMember.case_id == Exhibit.case_id).where(
        CaseMember.user_id == user.id
    )
    return bool(session.scalar(select(exists(mine)))) or not session.scalar(
        select(exists(in_cases))
    )


def _seen_in_my_cases(session: Session, user: User, seen_table: type, key: str, ident: int) -> bool:
    if sees_all(user):
        return True
    if not 0 < ident <= MAX_ID:
        return False
    column = getattr(seen_table, key)
    q = (
        select(seen_table.id)  # type: ignore[attr-defined]
        .join(Exhibit, Exhibit.id == seen_table.exhibit_id)  # type: ignore[attr-defined]
        .join(CaseMember, CaseMember.case_id == Exhibit.case_id)
        .where(column == ident, CaseMember.user_id == user.id)
    )
    return bool(session.scalar(select(exists(q))))


def may_see_account(session: Session, user: User, account_id: int) -> bool:
    """A chat account is visible when it was seen in an exhibit of one of the user's cases."""
    from tantalio.store.chats import ChatAccountSeen

    return _seen_in_my_cases(session, user, ChatAccountSeen, "account_id", account_id)


def may_see_group(session: Session, user: User, group_id: int) -> bool:
    from tantalio.store.chats import ChatGroupSeen

    return _seen_in_my_cases(session, user, ChatGroupSeen, "group_id", group_id)


def item_exists(session: Session, kind: str, ident: int) -> bool:
    """Whether a case, media, series, account or group of this id exists: a missing one is
    answered 404 for everybody (ids are sequential, so existence tells nothing of content)."""
    from tantalio.store.chats import ChatAccount, ChatGroup
    from tantalio.store.media import Media
    from tantalio.store.series import Series

    model = {
        "case": Case,
        "media": Media,
        "series": Series,
        "account": ChatAccount,
        "group": ChatGroup,
    }[kind]
    return 0 < ident <= MAX_ID and session.get(model, ident) is not None


def case_members(session: Session, case_id: int) -> list[tuple[User, CaseMember]]:
    rows = session.execute(
        select(User, CaseMember)
        .join(CaseMember, CaseMember.user_id == User.id)
        .where(CaseMember.case_id == case_id)
        .order_by(User.username)
    )
    return [(u, m) for u, m in rows]


def grant(
    session: Session,
    case: Case,
    member: User,
    *,
    by: User | None = None,
    by_name: str | None = None,
    ip: str | None = None,
) -> bool:
    """Make `member` a member of `case`; False when they were one already. Audited."""
    if session.get(CaseMember, (case.id, member.id)) is not None:
        return False
    actor = by.username if by is not None else by_name
    session.add(
        CaseMember(case_id=case.id, user_id=member.id, granted_at=utcnow(), granted_by=actor)
    )
    session.flush()
    store_audit.audit(
        session,
        "case.grant",
        user=by,
        username=None if by is not None else by_name,
        object_type="case",
        object_id=case.id,
        detail={"reference": case.reference, "member": member.username, "role": member.role},
        ip=ip,
    )
    return True


def revoke(
    session: Session,
    case: Case,
    member: User,
    *,
    by: User | None = None,
    by_name: str | None = None,
    ip: str | None = None,
) -> bool:
    """End `member`'s membership of `case`; False when they were no member. Audited."""
    gone = session.execute(
        delete(CaseMember).where(CaseMember.case_id == case.id, CaseMember.user_id == member.id)
    )
    if not gone.rowcount:  # type: ignore[attr-defined]
        return False
    store_audit.audit(
        session,
        "case.revoke",
        user=by,
        username=None if by is not None else by_name,
        object_type="case",
        object_id=case.id,
        detail={"reference": case.reference, "member": member.username, "role": member.role},
        ip=ip,
    )
    return True


def exhibits_in_cases(
    session: Session, exhibit_ids: Iterable[int], case_ids: set[int] | None
) -> list[int]:
    """The exhibits among `exhibit_ids` that belong to one of `case_ids` (None: all)."""
    wanted = sorted(set(exhibit_ids))
    if case_ids is None or not wanted:
        return wanted
    q = select(Exhibit.id).where(Exhibit.id.in_(wanted), Exhibit.case_id.in_(sorted(case_ids)))
    return sorted(session.scalars(q))
