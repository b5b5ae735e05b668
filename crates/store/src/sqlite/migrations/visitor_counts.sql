-- Derives `multi` and `visitor_counts` from `visitor_days` (migration 2,
-- after its backfills; and bench generators that write rows directly).
UPDATE visitor_days SET multi = 1
WHERE (company_id, user_fingerprint) IN
      (SELECT company_id, user_fingerprint FROM visitor_days GROUP BY 1, 2 HAVING count(*) > 1);
DELETE FROM visitor_counts;
INSERT INTO visitor_counts
SELECT company_id, day, seen, assisted, converted, count(*) FROM visitor_days WHERE multi = 0 GROUP BY 1, 2, 3, 4, 5;
