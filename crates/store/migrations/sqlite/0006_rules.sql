-- weir metadata store, version 6 (SQLite): nothing to do. Version 6 makes PostgreSQL
-- enforce weir's rules on every login role (../postgres/0006_rules.sql); the embedded
-- store has one user, whoever can write its file, so it has no login roles to govern.
-- The version exists on both backends so that one number means one schema.
SELECT 1;
