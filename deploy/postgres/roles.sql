-- Nurture's PostgreSQL roles and what each may do. Run by a superuser with psql, before the
-- migrations (to create the roles and the database) and again after them (to grant on the tables
-- they created); every statement is idempotent, so it also runs on every deploy:
--
--   psql -v ON_ERROR_STOP=1 -d postgres -f deploy/postgres/roles.sql
--
-- Names and passwords come from the environment [default]:
--   NURTURE_DB [nurture]                  the application's database
--   NURTURE_DB_OWNER [nurture_owner]      owns the database and every table; runs the migrations
--   NURTURE_DB_OWNER_PASSWORD []          (empty: no password, for trust or peer authentication)
--   NURTURE_DB_APP [nurture_app]          the API and the workers: reads and writes rows only
--   NURTURE_DB_APP_PASSWORD []
--
-- The runtime role is neither the owner nor a superuser, so the processes facing the network can
-- change no schema, drop nothing and bypass no trigger (the audit trail's append-only triggers
-- included); to the audit trail and the consent history it may only add (the last section).

\getenv db NURTURE_DB
\if :{?db}
\else
  \set db nurture
\endif
\getenv owner NURTURE_DB_OWNER
\if :{?owner}
\else
  \set owner nurture_owner
\endif
\getenv owner_password NURTURE_DB_OWNER_PASSWORD
\if :{?owner_password}
\else
  \set owner_password ''
\endif
\getenv app NURTURE_DB_APP
\if :{?app}
\else
  \set app nurture_app
\endif
\getenv app_password NURTURE_DB_APP_PASSWORD
\if :{?app_password}
\else
  \set app_password ''
\endif

-- Roles: log in, nothing more (no superuser, no CREATEDB, no CREATEROLE, no BYPASSRLS).
SELECT format('CREATE ROLE %I', r) FROM unnest(ARRAY[:'owner', :'app']) AS r
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) \gexec
SELECT format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD %s', r,
              CASE WHEN p = '' THEN 'NULL' ELSE quote_literal(p) END)
  FROM (VALUES (:'owner', :'owner_password'), (:'app', :'app_password')) AS v(r, p) \gexec

-- The database, owned by the owner role (also when something else created it first).
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'owner')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
ALTER DATABASE :"db" OWNER TO :"owner";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO :"app";

\connect :"db"

-- Schemas: public for the tables, drizzle for the migrations' bookkeeping; both the owner's.
ALTER SCHEMA public OWNER TO :"owner";
REVOKE ALL ON SCHEMA public FROM PUBLIC;
CREATE SCHEMA IF NOT EXISTS drizzle AUTHORIZATION :"owner";
GRANT USAGE ON SCHEMA public, drizzle TO :"app";

-- Rows of every table, now and after later migrations (default privileges of the owner); the
-- migrations table read-only (a process checks it at start and applies nothing).
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"app";
GRANT SELECT ON ALL TABLES IN SCHEMA drizzle TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA drizzle GRANT SELECT ON TABLES TO :"app";

-- Append-only for the runtime role: the audit trail and the consent history. It may add rows and
-- read them (SELECT, INSERT; an INSERT ... ON CONFLICT DO NOTHING needs no more) and nothing else:
-- no UPDATE, DELETE, TRUNCATE, TRIGGER or REFERENCES, and as it owns neither the tables nor the
-- audit trail's trigger function it cannot ALTER, DROP or DISABLE TRIGGER either. Only the owner
-- (migrations) and superusers can change them; anchored checkpoints make what they do visible.
-- A later append-only table joins the list. Guarded by each table's existence (the first run
-- comes before the migrations); one transaction, so the runtime role never lacks SELECT or
-- INSERT in between.
BEGIN;
SELECT format('REVOKE ALL ON TABLE %I FROM PUBLIC, %I', t, :'app'),
       format('GRANT SELECT, INSERT ON TABLE %I TO %I', t, :'app')
  FROM unnest(ARRAY['audit_records', 'consent_history']) AS t
  WHERE to_regclass(format('public.%I', t)) IS NOT NULL \gexec
COMMIT;
