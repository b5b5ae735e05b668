-- A stored answer no longer carries its HTTP status: ids are scoped to their
-- endpoint, and an endpoint answers one status, so the server knows it.
ALTER TABLE idempotency_keys DROP COLUMN status;
