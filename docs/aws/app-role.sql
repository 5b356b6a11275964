-- bird.ai's own database role (docs/deploy-aws.md, section 9).
--
-- The RDS master user owns the database and the tables: it runs this file once and
-- every `migrate`. The app connects as birdai_app, which may read and write rows and
-- nothing else: no creating, altering or dropping tables, no other database, no roles.
-- A bug or an injected query in the app can then not drop a table or read another
-- database. tests/stack/test_deploy_docs.py runs this file against a real PostgreSQL.
--
-- Replace APP-PASSWORD before running it (the guide does, with sed).

CREATE ROLE birdai_app LOGIN PASSWORD 'APP-PASSWORD';

-- This database only (whatever its name): nobody else may connect by default.
DO $$
BEGIN
    EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO birdai_app', current_database());
END
$$;

-- Objects in the public schema may be used, but not created (PostgreSQL 15 and later
-- already deny CREATE to everyone else; older ones did not).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO birdai_app;

-- The rows of the tables that exist now ...
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO birdai_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO birdai_app;

-- ... and of those that later migrations create (they run as this master user).
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO birdai_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO birdai_app;
