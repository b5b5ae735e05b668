-- A ticket's first credited non-test cart add and checkout, from its events:
-- the SET list of the replay's per-ticket UPDATE (sql/writes.rs) and of the
-- one-time backfills of SQLite migration 9 and PostgreSQL migration 5.
first_cart_ms = (SELECT min(e.occurred_at_ms) FROM events e
                 WHERE e.company_id = tickets.company_id AND e.ticket_id = tickets.ticket_id
                   AND e.cart_type = 'CART_EVENT' AND e.event_type IN ('ITEM_ADDED', 'QUANTITY_INCREASED')
                   AND NOT e.is_test),
first_checkout_ms = (SELECT min(e.occurred_at_ms) FROM events e
                     WHERE e.company_id = tickets.company_id AND e.ticket_id = tickets.ticket_id
                       AND e.cart_type = 'CHECKOUT' AND NOT e.is_test)
