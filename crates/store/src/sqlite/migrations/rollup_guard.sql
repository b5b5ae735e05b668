-- A rollup sum that would leave i64 becomes a float in SQLite: refuse the
-- write instead (the call is rejected and stores nothing).
CREATE TRIGGER rollups_exact_insert BEFORE INSERT ON rollups
WHEN typeof(NEW.events) <> 'integer' OR typeof(NEW.unconverted) <> 'integer' OR typeof(NEW.usd_cents) <> 'integer'
  OR typeof(NEW.quantity) <> 'integer' OR typeof(NEW.refunded_cents) <> 'integer'
BEGIN SELECT RAISE(ABORT, 'revtrace: total out of range'); END;
CREATE TRIGGER rollups_exact_update BEFORE UPDATE ON rollups
WHEN typeof(NEW.events) <> 'integer' OR typeof(NEW.unconverted) <> 'integer' OR typeof(NEW.usd_cents) <> 'integer'
  OR typeof(NEW.quantity) <> 'integer' OR typeof(NEW.refunded_cents) <> 'integer'
BEGIN SELECT RAISE(ABORT, 'revtrace: total out of range'); END;
