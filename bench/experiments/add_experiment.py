"""Adds a running holdout to a database filled by bench/report/generate.py:
VISITORS exposed visitors (FP-0 … FP-n, in the arm GrowthBook's hash puts
them), each exposed at the start of the day its events begin, straight into
the tables.

    python3 bench/experiments/add_experiment.py DB COMPANY_ID VISITORS
"""
import sqlite3
import sys

db, company, visitors = sys.argv[1], sys.argv[2], int(sys.argv[3])
KEY = "bench-holdout"
DAY = 86_400_000
end = 1_795_651_200_000  # 2026-11-26T00:00:00Z, as generate.py
start = end - 365 * DAY


def fnv1a32(text):
    h = 0x811C9DC5
    for b in text.encode():
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def arm(fingerprint):
    bucket = fnv1a32(str(fnv1a32(KEY + fingerprint))) % 10000
    return "holdout" if bucket < 1000 else "assisted"


conn = sqlite3.connect(db)
conn.execute("PRAGMA synchronous=OFF")
conn.execute(
    "INSERT INTO experiments (company_id, experiment_key, name, kind, control, starts_at_ms, ends_at_ms,"
    " revenue_cap_cents, created_at_ms) VALUES (?, ?, 'Bench holdout', 'holdout', 'holdout', ?, NULL, NULL, ?)",
    (company, KEY, start, start))
conn.executemany(
    "INSERT INTO experiment_arms (company_id, experiment_key, position, name, weight, assistant, ai_profile_id)"
    " VALUES (?, ?, ?, ?, ?, ?, NULL)",
    [(company, KEY, 0, "holdout", 10, 0), (company, KEY, 1, "assisted", 90, 1)])
first = dict(conn.execute(
    "SELECT user_fingerprint, min(occurred_at_ms) FROM events WHERE company_id = ? GROUP BY user_fingerprint",
    (company,)).fetchall())


def exposures():
    for v in range(visitors):
        fp = f"FP-{v}"
        at = first.get(fp, start + (v % 365) * DAY)
        yield (company, KEY, fp, arm(fp), at - at % DAY)


conn.executemany(
    "INSERT INTO exposures (company_id, experiment_key, fingerprint, arm, exposed_at_ms) VALUES (?, ?, ?, ?, ?)",
    exposures())
# What the service keeps in step with each event: every exposure's outcome
# (the store's own recount statement) and whether the visitor has a ticket.
conn.execute("""UPDATE exposures SET orders = s.orders, revenue_cents = s.revenue, cart_cents = s.cart,
        attributed_cents = s.attributed, unconverted = s.unconverted
     FROM (
        SELECT x.fingerprint AS fp,
            sum(CASE WHEN e.cart_type = 'CHECKOUT' THEN 1 ELSE 0 END) AS orders,
            sum(CASE WHEN e.cart_type = 'CHECKOUT' THEN coalesce(e.usd_cents, 0) - e.refunded_cents ELSE 0 END) AS revenue,
            sum(CASE WHEN e.cart_type = 'CART_EVENT' THEN coalesce(e.usd_cents, 0) ELSE 0 END) AS cart,
            sum(CASE WHEN e.cart_type = 'CHECKOUT' AND e.attributed
                THEN coalesce(e.usd_cents, 0) - e.refunded_cents ELSE 0 END) AS attributed,
            sum(CASE WHEN e.usd_cents IS NULL THEN 1 ELSE 0 END) AS unconverted
        FROM events e JOIN exposures x
          ON x.company_id = e.company_id AND x.experiment_key = ? AND x.fingerprint = e.user_fingerprint
        WHERE e.company_id = ? AND NOT e.is_test AND e.occurred_at_ms >= x.exposed_at_ms
        GROUP BY x.fingerprint
     ) s
     WHERE exposures.company_id = ? AND exposures.experiment_key = ? AND exposures.fingerprint = s.fp""",
             (KEY, company, company, KEY))
conn.execute("""UPDATE exposures SET with_ticket = 1 WHERE company_id = ? AND EXISTS (
        SELECT 1 FROM tickets t WHERE t.company_id = exposures.company_id AND t.fingerprint = exposures.fingerprint)""",
             (company,))
conn.commit()
conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
orders = conn.execute("SELECT sum(orders) FROM exposures").fetchone()[0]
print(f"{visitors:,} exposures in {KEY} ({orders:,} outcome orders)")
