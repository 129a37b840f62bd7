"""The platform database: its own Alembic history, banks, soft removal, the change feed."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect

from tantalio.store.platform import BankExists, PlatformStore
from tantalio.store.platform.records import NewEntry

PDQ_A = "a" * 64


def test_migrations_use_own_version_table(db_url: str) -> None:
    store = PlatformStore(db_url)
    store.close()
    PlatformStore(db_url).close()  # applying again is a no-op
    engine = create_engine(db_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert "platform_alembic_version" in tables
    assert "alembic_version" not in tables  # a case workspace's table name stays free
    assert {
        "platform_banks",
        "platform_entries",
        "platform_index_changes",
        "platform_api_keys",
        "platform_rules",
        "platform_review_items",
        "platform_deliveries",
    } <= tables


def test_banks_entries_and_change_feed(db_url: str) -> None:
    store = PlatformStore(db_url)
    bank = store.create_bank("KNOWN", pdq_threshold=20)
    try:
        store.create_bank("KNOWN")
        raise AssertionError("duplicate bank accepted")
    except BankExists:
        pass
    ids = store.add_entries(
        bank.id,
        [
            NewEntry(pdq=PDQ_A, category=1, source_list="list.csv", original_id="x1"),
            NewEntry(md5="b" * 32),
        ],
    )
    assert len(ids) == 2 and ids[1] == ids[0] + 1
    changes = store.changes_since(0)
    assert [(c.op, c.first_id, c.last_id, c.bank_id) for c in changes] == [
        ("add", ids[0], ids[1], bank.id)
    ]
    assert store.remove_entries([ids[0]]) == 1
    assert store.remove_entries([ids[0]]) == 0  # already removed
    last = store.changes_since(changes[-1].seq)
    assert [(c.op, c.first_id) for c in last] == [("remove", ids[0])]
    # Removed entries keep their provenance (reports) but leave listings and sizes.
    [gone] = store.get_entries([ids[0]])
    assert gone.removed_at is not None and gone.source_list == "list.csv"
    assert [e.id for e in store.list_entries(bank.id)] == [ids[1]]
    assert store.bank_sizes() == {bank.id: 1}
    # A deleted bank frees its name; its entries are removed through the feed.
    assert store.delete_bank("KNOWN")
    assert store.get_bank("KNOWN") is None
    assert store.changes_since(last[-1].seq)[-1].op == "remove"
    assert store.create_bank("KNOWN").id != bank.id
    store.close()


def test_review_take_is_exclusive(db_url: str) -> None:
    store = PlatformStore(db_url)
    bank = store.create_bank("B")
    [eid] = store.add_entries(bank.id, [NewEntry(pdq=PDQ_A)])
    rule = store.create_rule(
        name="r",
        action="ban",
        webhook_url="http://127.0.0.1:9/x",
        webhook_secret="s" * 16,
        review=True,
    )
    [ev] = store.record_matches(
        [{"entry_id": eid, "bank_id": bank.id, "signal_type": "pdq", "distance": 3}]
    )
    item = store.create_review_item(ev.id, rule.id)
    assert store.take_review(item.id, "alice") is not None
    assert store.take_review(item.id, "bob") is None
    assert store.decide_review(item.id, "bob", "confirm", None) is None  # not bob's
    decided = store.decide_review(item.id, "alice", "confirm", "seen")
    assert decided is not None and decided.status == "decided" and decided.decided_by == "alice"
    store.close()
