"""Fills a revtrace SQLite database with TICKETS conversations and EVENTS commerce
events for one company, straight into the tables (not over HTTP), with every
stored decision left as NO_TICKET so that `revtrace reattribute` has to decide
every event again.

    python3 bench/reattribute/generate.py DB COMPANY_ID EVENTS TICKETS
"""
import os
import random
import sqlite3
import sys

db, company, events, tickets = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
random.seed(7)
conn = sqlite3.connect(db)
conn.execute("PRAGMA journal_mode=WAL")
conn.execute("PRAGMA synchronous=OFF")
base = 1_788_220_800_000  # 2026-09-01T00:00:00Z
span = 90 * 86_400_000
visitors = tickets * 2  # half of the visitors talked to the assistant


def ticket_rows():
    for t in range(tickets):
        yield (t + 1, company, f"T{t}", "default", "faq" if t % 10 == 0 else "chat", f"FP-{t * 2}", base)


def message_rows():
    for t in range(tickets):
        asked = base + random.randrange(span)
        yield (t + 1, "q", asked, "shopper", None, None)
        yield (t + 1, "a", asked + 5_000, "ai", 1 if t % 4 else 0, None)


def event_rows():
    # Stored in time order, as ingestion stores them.
    times = sorted(base + random.randrange(span) for _ in range(events))
    for e, at in enumerate(times):
        fp = f"FP-{random.randrange(visitors)}"
        checkout = e % 5 == 0
        yield (
            f"evt_bench_{e:010d}", company, "CHECKOUT" if checkout else "CART_EVENT", "API", at,
            "2026-09-01", at, fp, None if checkout else "ITEM_ADDED", None if checkout else "p1",
            None if checkout else 1, f"o{e}" if checkout else None, "48.00", "USD", 4800,
            "NO_TICKET", 0, 86_400_000, "[]", at, "ingest",
        )


conn.executemany(
    "INSERT INTO tickets (ticket_pk, company_id, ticket_id, ai_profile_id, channel, fingerprint, created_at_ms)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)", ticket_rows())
conn.executemany(
    "INSERT INTO messages (ticket_pk, message_id, sent_at_ms, role, has_answer_found, nudge_id)"
    " VALUES (?, ?, ?, ?, ?, ?)", message_rows())
conn.executemany(
    "INSERT INTO events (event_id, company_id, cart_type, source_category, occurred_at_ms, day, received_at_ms,"
    " user_fingerprint, event_type, product_id, quantity_signed, order_id, amount, currency, usd_cents,"
    " reason, attributed, window_ms, candidates, decided_at_ms, decided_by)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", event_rows())
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
for script in ("bench/common/rollups.sql", "crates/store/src/sqlite/migrations/visitor_counts.sql"):
    with open(f"{root}/{script}") as f:
        conn.executescript(f.read())
conn.commit()
conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
print(f"{events:,} events and {tickets:,} tickets in {db}")
