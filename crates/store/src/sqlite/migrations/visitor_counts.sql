-- Derives `multi`, `visitor_counts` and the multi-day mirror from `visitor_days` (migration 2,
-- after its backfills; and bench generators that write rows directly).
UPDATE visitor_days SET multi = 1
WHERE (company_id, user_fingerprint) IN
      (SELECT company_id, user_fingerprint FROM visitor_days GROUP BY 1, 2 HAVING count(*) > 1);
DELETE FROM visitor_counts;
DELETE FROM multi_visitor_days;
DELETE FROM multi_visitors;
INSERT INTO multi_visitors (company_id, fingerprint)
SELECT DISTINCT company_id, user_fingerprint FROM visitor_days WHERE multi = 1;
INSERT INTO multi_visitor_days
SELECT v.company_id, v.day, m.visitor_id, v.seen | (v.assisted << 1) | (v.converted << 2)
FROM visitor_days v JOIN multi_visitors m ON m.company_id = v.company_id AND m.fingerprint = v.user_fingerprint;
INSERT INTO visitor_counts
SELECT company_id, day, seen, assisted, converted, count(*) FROM visitor_days WHERE multi = 0 GROUP BY 1, 2, 3, 4, 5;
DELETE FROM multi_visitor_packs;
INSERT INTO multi_visitor_packs
SELECT company_id, day, group_concat(printf('%08X%02X', visitor_id, flags), '')
FROM (SELECT company_id, day, visitor_id, flags FROM multi_visitor_days ORDER BY company_id, day, visitor_id)
GROUP BY company_id, day;
