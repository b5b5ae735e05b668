-- Derives `multi`, `visitor_counts`, the multi-day mirror and spans from `visitor_days` (migration 2,
-- after its backfills; and bench generators that write rows directly).
UPDATE visitor_days SET multi = 1
WHERE (company_id, user_fingerprint) IN
      (SELECT company_id, user_fingerprint FROM visitor_days GROUP BY 1, 2 HAVING count(*) > 1);
DELETE FROM visitor_counts;
DELETE FROM multi_visitor_days;
DELETE FROM multi_visitors;
INSERT INTO multi_visitors (company_id, fingerprint)
SELECT DISTINCT company_id, user_fingerprint FROM visitor_days WHERE multi = 1;
INSERT INTO multi_visitor_days (company_id, visitor_id, day, flags)
SELECT v.company_id, m.visitor_id, v.day, v.seen | (v.assisted << 1) | (v.converted << 2)
FROM visitor_days v JOIN multi_visitors m ON m.company_id = v.company_id AND m.fingerprint = v.user_fingerprint;
UPDATE multi_visitors SET
    first_day = (SELECT min(day) FROM multi_visitor_days d WHERE d.company_id = multi_visitors.company_id
                 AND d.visitor_id = multi_visitors.visitor_id),
    last_day = (SELECT max(day) FROM multi_visitor_days d WHERE d.company_id = multi_visitors.company_id
                AND d.visitor_id = multi_visitors.visitor_id),
    flags = (SELECT coalesce(max(flags & 1) | max(flags & 2) | max(flags & 4), 0)
             FROM multi_visitor_days d WHERE d.company_id = multi_visitors.company_id
             AND d.visitor_id = multi_visitors.visitor_id);
DELETE FROM visitor_spans;
INSERT INTO visitor_spans
SELECT company_id, max(CAST(julianday(last_day) - julianday(first_day) AS INTEGER)) FROM multi_visitors GROUP BY 1;
INSERT INTO visitor_counts
SELECT company_id, day, seen, assisted, converted, count(*) FROM visitor_days WHERE multi = 0 GROUP BY 1, 2, 3, 4, 5;
