-- Demo no-transaction migration: CREATE INDEX CONCURRENTLY cannot run in a
-- transaction. If a build fails it leaves an INVALID index; golive drops it
-- before the retry, so IF NOT EXISTS never keeps a broken index.

-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY IF NOT EXISTS appointments_status_starts_at ON appointments (status, starts_at);

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS appointments_status_starts_at;
