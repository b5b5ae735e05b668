"""Fills a revtrace SQLite database with a year of a busy store for one
company (in UTC), straight into the tables (not over HTTP), then builds the
rollups and visitor days the service would have kept in step.

    python3 bench/report/generate.py DB COMPANY_ID EVENTS [RETURNING]

About five events per visitor; a visitor (a browser session) is active on
one day, except RETURNING (default 3 %) who come back within two weeks; three in ten talk to the assistant (chat, FAQ or a nudge,
three AI profiles); a fifth of the events are checkouts; a fifth of the
visitors are counted by a visit ping only.
"""
import os
import random
import sqlite3
import sys

db, company, events = sys.argv[1], sys.argv[2], int(sys.argv[3])
returning = float(sys.argv[4]) if len(sys.argv) > 4 else 0.03
random.seed(11)
conn = sqlite3.connect(db)
conn.execute("PRAGMA journal_mode=WAL")
conn.execute("PRAGMA synchronous=OFF")
DAY = 86_400_000
end = 1_795_651_200_000  # 2026-11-26T00:00:00Z
start = end - 365 * DAY
visitors = max(events // 5, 1)
PROFILES = ["advisor", "stylist", "faq-bot"]
SOURCES = ["CHAT_WIDGET", "FAQ", "NUDGE_CLICK"]


def iso_day(ms):
    import datetime
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime("%Y-%m-%d")


day_names = {d: iso_day(start + d * DAY) for d in range(366 + 14)}
first_day = [random.randrange(365) for _ in range(visitors)]
talked = [random.random() < 0.3 for _ in range(visitors)]
comes_back = [random.randrange(1, 14) if random.random() < returning else 0 for _ in range(visitors)]


def ticket_rows():
    for v in range(visitors):
        if talked[v]:
            source = v % 3
            yield (v + 1, company, f"T{v}", PROFILES[source], "faq" if source == 1 else "chat", f"FP-{v}", start)


def message_rows():
    for v in range(visitors):
        if talked[v]:
            at = start + first_day[v] * DAY + random.randrange(DAY - 3_600_000)
            yield (v + 1, "q", at, "shopper", None, "n1" if v % 3 == 2 else None)
            yield (v + 1, "a", at + 5_000, "ai", 1 if v % 4 else 0, None)


def event_rows():
    for e in range(events):
        v = random.randrange(visitors)
        d = first_day[v] + (comes_back[v] if random.random() < 0.5 else 0)
        at = start + d * DAY + random.randrange(DAY)
        checkout = e % 5 == 0
        attributed = talked[v] and v % 4 != 0 and random.random() < 0.8
        source = v % 3
        cents = random.randrange(1_000, 20_000)
        qty = 1 if checkout else random.choice([1, 1, 2, -1])
        yield (
            f"evt_r_{e:010d}", company, "CHECKOUT" if checkout else "CART_EVENT", "API", at, day_names[d], at,
            f"FP-{v}", None if checkout else ("ITEM_ADDED" if qty > 0 else "ITEM_REMOVED"),
            None if checkout else f"p{e % 500}", None if checkout else qty, f"o{e}" if checkout else None,
            f"{cents * (1 if checkout else qty) / 100:.2f}", "USD", cents * (1 if checkout else qty),
            "ATTRIBUTED" if attributed else "NO_TICKET", int(attributed),
            f"T{v}" if attributed else None, PROFILES[source] if attributed else None,
            SOURCES[source] if attributed else None, DAY, "[]", at, "ingest", int(e % 997 == 0),
        )


def visit_rows():
    for v in range(0, visitors, 5):
        yield (company, day_names[first_day[v]], f"FP-visit-{v}")


conn.executemany(
    "INSERT INTO tickets (ticket_pk, company_id, ticket_id, ai_profile_id, channel, fingerprint, created_at_ms)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)", ticket_rows())
conn.executemany(
    "INSERT INTO messages (ticket_pk, message_id, sent_at_ms, role, has_answer_found, nudge_id)"
    " VALUES (?, ?, ?, ?, ?, ?)", message_rows())
conn.executemany(
    "INSERT INTO events (event_id, company_id, cart_type, source_category, occurred_at_ms, day, received_at_ms,"
    " user_fingerprint, event_type, product_id, quantity_signed, order_id, amount, currency, usd_cents,"
    " reason, attributed, ticket_id, ai_profile_id, message_source, window_ms, candidates, decided_at_ms,"
    " decided_by, is_test)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", event_rows())
conn.executemany(
    "INSERT INTO visitor_days (company_id, day, user_fingerprint, seen) VALUES (?, ?, ?, 1)"
    " ON CONFLICT DO NOTHING", visit_rows())
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
for script in ("bench/common/rollups.sql", "crates/store/src/sqlite/migrations/visitor_counts.sql",
               "crates/store/src/sqlite/migrations/ticket_facts.sql"):
    with open(f"{root}/{script}") as f:
        conn.executescript(f.read())
with open(f"{root}/crates/store/src/sql/ticket_firsts.sql") as f:
    conn.executescript("UPDATE tickets SET " + f.read() + ";")
conn.commit()
conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
rows = conn.execute("SELECT count(*) FROM rollups").fetchone()[0]
vdays = conn.execute("SELECT count(*) FROM visitor_days").fetchone()[0]
print(f"{events:,} events, {visitors:,} visitors, {rows:,} rollup rows, {vdays:,} visitor days in {db}")
