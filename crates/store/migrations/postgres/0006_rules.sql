-- weir metadata store, version 6 (PostgreSQL only; ../sqlite/0006_rules.sql is empty):
-- the database itself enforces weir's rules, so that a login role can do through plain
-- SQL nothing that weir would refuse (issue 15, item 1).
--
-- Long because it is one rule set: every governed table gets one BEFORE INSERT, UPDATE or
-- DELETE row trigger that checks, for any role that cannot act as the tables' owner, the
-- rule the Rust code checks for that change (crates/store/src/…; the README's tables).
-- The Rust statements are unchanged: a trigger sees each row a statement writes and
-- refuses what no weir path writes. Identity is `session_user`, as in the Rust code
-- (`SET ROLE` does not change it). Refusals raise SQLSTATE WR001 with a sentence and a
-- hint; `StoreError` turns them into `NotAllowed`.
--
-- Every function here runs with `search_path` pinned to the store's schema and then
-- pg_temp (set at the end), so a login cannot shadow a table with a temporary one.
-- Helpers are SECURITY DEFINER (owned by the migrating owner): they read as the owner,
-- whatever the caller's own grants.

-- Who is acting -------------------------------------------------------------------------

CREATE FUNCTION weir_me() RETURNS TEXT LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT CAST(session_user AS TEXT)
$$;

-- The tables' owner, a superuser, or a role that may become the owner: not governed
-- (such a role could drop the triggers anyway).
CREATE FUNCTION weir_exempt(tab OID) RETURNS BOOLEAN LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT pg_has_role(session_user, c.relowner, 'MEMBER') FROM pg_class c WHERE c.oid = tab
$$;

CREATE FUNCTION weir_has(role_name TEXT) RETURNS BOOLEAN LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT EXISTS (SELECT 1 FROM user_roles WHERE login = weir_me() AND role = role_name)
$$;

CREATE FUNCTION weir_registered() RETURNS BOOLEAN LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT EXISTS (SELECT 1 FROM users WHERE login = weir_me())
$$;

-- The actor's role in project `pid` (NULL: not a member).
CREATE FUNCTION weir_project_role(pid BIGINT) RETURNS TEXT LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT role FROM project_members WHERE project_id = pid AND login = weir_me()
$$;

-- Project admin or developer of project `pid` (the Rust code's DEVS).
CREATE FUNCTION weir_dev(pid BIGINT) RETURNS BOOLEAN LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT COALESCE(weir_project_role(pid) IN ('project_admin', 'developer'), FALSE)
$$;

CREATE FUNCTION weir_active(pid BIGINT) RETURNS BOOLEAN LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT EXISTS (SELECT 1 FROM projects WHERE id = pid AND NOT archived)
$$;

CREATE FUNCTION weir_job_project(jid BIGINT) RETURNS BIGINT LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT project_id FROM jobs WHERE id = jid
$$;

CREATE FUNCTION weir_project_name(pid BIGINT) RETURNS TEXT LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT COALESCE((SELECT name FROM projects WHERE id = pid), '#' || pid)
$$;

-- Whether worker `wid` is registered by the actor (only that login acts for it).
CREATE FUNCTION weir_owns_worker(wid TEXT) RETURNS BOOLEAN LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT EXISTS (SELECT 1 FROM workers WHERE id = wid AND login = weir_me())
$$;

CREATE FUNCTION weir_has_worker() RETURNS BOOLEAN LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT EXISTS (SELECT 1 FROM workers WHERE login = weir_me())
$$;

-- Whether a row version was written by the current transaction (its xmin).
CREATE FUNCTION weir_this_tx(x XID) RETURNS BOOLEAN LANGUAGE sql VOLATILE SECURITY DEFINER AS $$
    SELECT x = CAST(pg_current_xact_id() AS XID)
$$;

-- The actor and their roles in words, for refusals: "bob (developer of p, ops)".
CREATE FUNCTION weir_describe_me() RETURNS TEXT LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT weir_me() || CASE
        WHEN NOT weir_registered() THEN ', not a registered weir user'
        ELSE COALESCE(' (' || NULLIF(concat_ws(', ',
            (SELECT string_agg(replace(role, '_', ' '), ', ' ORDER BY role)
               FROM user_roles WHERE login = weir_me()),
            (SELECT string_agg(replace(m.role, '_', ' ') || ' of ' || p.name, ', ' ORDER BY p.name)
               FROM project_members m JOIN projects p ON p.id = m.project_id
              WHERE m.login = weir_me())), '') || ')', ' (no role)')
    END
$$;

-- Refuses the write: `what` says what was refused and why, `fix` what to do instead.
CREATE FUNCTION weir_refuse(what TEXT, fix TEXT) RETURNS VOID LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'WR001', MESSAGE = 'weir refused: ' || what, HINT = fix;
END
$$;

-- Refuses unless `ok`, naming the role needed and the actor's roles.
CREATE FUNCTION weir_require(ok BOOLEAN, needed TEXT, action TEXT) RETURNS VOID LANGUAGE plpgsql AS $$
BEGIN
    IF NOT COALESCE(ok, FALSE) THEN
        PERFORM weir_refuse(format('only %s can %s; you are %s', needed, action, weir_describe_me()),
            'use weir with the right role, or ask someone who has it');
    END IF;
END
$$;

-- Refuses writes touching an archived project.
CREATE FUNCTION weir_require_active(pid BIGINT) RETURNS VOID LANGUAGE plpgsql AS $$
BEGIN
    IF pid IS NOT NULL AND NOT weir_active(pid) THEN
        PERFORM weir_refuse(format('project %s is archived', weir_project_name(pid)),
            'a system admin can restore it');
    END IF;
END
$$;

-- Refuses a statement that no weir path runs on `tab`.
CREATE FUNCTION weir_never(tab TEXT, op TEXT, fix TEXT) RETURNS VOID LANGUAGE plpgsql AS $$
BEGIN
    PERFORM weir_refuse(format('weir never runs %s on %s', op, tab), fix);
END
$$;

-- The store's own tables -----------------------------------------------------------------

CREATE FUNCTION weir_rule_bootstrap() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    IF weir_exempt(TG_RELID) THEN RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END; END IF;
    IF TG_OP = 'INSERT' AND NEW.login = weir_me() THEN RETURN NEW; END IF;
    PERFORM weir_refuse('the first system admin of a store is recorded once, by that user''s first session',
        'ask a system admin for roles');
    RETURN NULL;
END
$$;

-- The actor became the store's first user in this very transaction.
CREATE FUNCTION weir_bootstrapping() RETURNS BOOLEAN LANGUAGE sql VOLATILE SECURITY DEFINER AS $$
    SELECT EXISTS (SELECT 1 FROM bootstrap b WHERE b.login = weir_me() AND weir_this_tx(b.xmin))
$$;

CREATE FUNCTION weir_rule_users() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE me TEXT := weir_me();
BEGIN
    IF weir_exempt(TG_RELID) THEN RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END; END IF;
    IF TG_OP = 'UPDATE' AND NEW IS NOT DISTINCT FROM OLD THEN RETURN NEW; END IF;
    IF TG_OP <> 'INSERT' THEN
        PERFORM weir_never('users', TG_OP,
            'a registered user stays; a system admin changes roles with `weir user roles`');
    END IF;
    IF weir_bootstrapping() AND NEW.login = me AND NEW.created_by = me THEN RETURN NEW; END IF;
    PERFORM weir_require(weir_has('system_admin'), 'a system admin', 'add users');
    IF NEW.created_by <> me THEN
        PERFORM weir_refuse(format('user %s would be recorded as added by %s, not by you (%s)',
            NEW.login, NEW.created_by, me), 'add users with `weir user add`');
    END IF;
    RETURN NEW;
END
$$;

CREATE FUNCTION weir_rule_user_roles() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE me TEXT := weir_me();
BEGIN
    IF weir_exempt(TG_RELID) THEN RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END; END IF;
    IF TG_OP = 'UPDATE' AND NEW IS NOT DISTINCT FROM OLD THEN RETURN NEW; END IF;
    IF TG_OP = 'UPDATE' THEN
        PERFORM weir_never('user_roles', 'UPDATE', 'change roles with `weir user roles`');
    END IF;
    IF TG_OP = 'INSERT' AND weir_bootstrapping() AND NEW.login = me
        AND NEW.role = 'system_admin' THEN
        RETURN NEW;
    END IF;
    PERFORM weir_require(weir_has('system_admin'), 'a system admin', 'change roles');
    IF TG_OP = 'DELETE' THEN
        -- weir replaces a user's roles by deleting and inserting them again, and refuses
        -- to let a system admin drop their own system admin role: that row stays (the
        -- re-insert then does nothing), so the store always keeps a system admin.
        IF OLD.login = me AND OLD.role = 'system_admin' THEN
            RAISE NOTICE 'weir kept your own system admin role: ask another system admin to remove it';
            RETURN NULL;
        END IF;
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$;

CREATE FUNCTION weir_rule_projects() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE me TEXT := weir_me();
BEGIN
    IF weir_exempt(TG_RELID) THEN RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END; END IF;
    IF TG_OP = 'UPDATE' AND NEW IS NOT DISTINCT FROM OLD THEN RETURN NEW; END IF;
    IF TG_OP = 'DELETE' THEN
        PERFORM weir_never('projects', 'DELETE', 'archive the project instead');
    END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM weir_require(weir_has('system_admin'), 'a system admin', 'create a project');
        IF NEW.created_by <> me OR NEW.archived OR NEW.archived_by IS NOT NULL
            OR NEW.archived_at IS NOT NULL THEN
            PERFORM weir_refuse('a new project is active and recorded as created by you',
                'create projects with `weir project create`');
        END IF;
        RETURN NEW;
    END IF;
    IF (NEW.id, NEW.name, NEW.description, NEW.created_by, NEW.created_at)
        IS DISTINCT FROM (OLD.id, OLD.name, OLD.description, OLD.created_by, OLD.created_at) THEN
        PERFORM weir_never('projects', 'UPDATE of the name, description or creation',
            'create a new project');
    END IF;
    IF NOT OLD.archived AND NEW.archived THEN
        PERFORM weir_require(weir_has('system_admin') OR weir_project_role(OLD.id) = 'project_admin',
            format('a project admin of project %s or a system admin', OLD.name), 'archive a project');
        IF NEW.archived_by IS DISTINCT FROM me THEN
            PERFORM weir_refuse('an archive is recorded as done by you', 'use `weir project archive`');
        END IF;
    ELSIF OLD.archived AND NOT NEW.archived THEN
        PERFORM weir_require(weir_has('system_admin'), 'a system admin', 'restore a project');
        IF NEW.archived_by IS NOT NULL OR NEW.archived_at IS NOT NULL THEN
            PERFORM weir_refuse('a restored project has no archive record', 'use `weir project restore`');
        END IF;
    ELSE
        PERFORM weir_never('projects', 'UPDATE of the archive record alone',
            'archive or restore the project');
    END IF;
    RETURN NEW;
END
$$;

CREATE FUNCTION weir_rule_project_members() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    me TEXT := weir_me();
    pid BIGINT := CASE TG_OP WHEN 'INSERT' THEN NEW.project_id ELSE OLD.project_id END;
BEGIN
    IF weir_exempt(TG_RELID) THEN RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END; END IF;
    IF TG_OP = 'UPDATE' AND NEW IS NOT DISTINCT FROM OLD THEN RETURN NEW; END IF;
    PERFORM weir_require_active(pid);
    PERFORM weir_require(weir_has('system_admin') OR weir_project_role(pid) = 'project_admin',
        format('a project admin of project %s or a system admin', weir_project_name(pid)),
        'change project members');
    IF TG_OP = 'INSERT' AND NEW.added_by <> me THEN
        PERFORM weir_refuse('a new member is recorded as added by you', 'use `weir member add`');
    END IF;
    IF TG_OP = 'UPDATE' AND (NEW.project_id, NEW.login, NEW.added_by, NEW.added_at)
        IS DISTINCT FROM (OLD.project_id, OLD.login, OLD.added_by, OLD.added_at) THEN
        PERFORM weir_never('project_members', 'UPDATE of anything but the role',
            'remove the member and add them again');
    END IF;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END
$$;

CREATE FUNCTION weir_rule_data_sources() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE me TEXT := weir_me();
BEGIN
    IF weir_exempt(TG_RELID) THEN RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END; END IF;
    IF TG_OP = 'UPDATE' AND NEW IS NOT DISTINCT FROM OLD THEN RETURN NEW; END IF;
    PERFORM weir_require(weir_has('data_admin') OR weir_has('system_admin'),
        'a data admin or a system admin', 'change data sources');
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    IF TG_OP = 'INSERT' AND NEW.created_by <> me THEN
        PERFORM weir_refuse('a new data source is recorded as created by you',
            'use `weir datasource add`');
    END IF;
    IF TG_OP = 'UPDATE' AND (NEW.id, NEW.created_by, NEW.created_at)
        IS DISTINCT FROM (OLD.id, OLD.created_by, OLD.created_at) THEN
        PERFORM weir_never('data_sources', 'UPDATE of the id or the creation record',
            'use `weir datasource update`');
    END IF;
    IF NEW.owner_project_id IS NOT NULL THEN
        PERFORM weir_require_active(NEW.owner_project_id);
    END IF;
    RETURN NEW;
END
$$;

-- Topics and requests --------------------------------------------------------------------

-- The newest publication request of topic `tid` (the one its state refers to).
CREATE FUNCTION weir_topic_publication(tid BIGINT, OUT env TEXT, OUT datasource_id BIGINT,
    OUT state TEXT, OUT requester TEXT, OUT decided_by TEXT, OUT opinion TEXT)
    LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT tp.env, tp.datasource_id, r.state, r.requester, r.decided_by, r.opinion
      FROM topic_publications tp JOIN requests r ON r.id = tp.request_id
     WHERE tp.topic_id = tid ORDER BY tp.request_id DESC LIMIT 1
$$;

CREATE FUNCTION weir_rule_topics() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    me TEXT := weir_me();
    pub RECORD;
    ok BOOLEAN;
BEGIN
    IF weir_exempt(TG_RELID) THEN RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END; END IF;
    IF TG_OP = 'UPDATE' AND NEW IS NOT DISTINCT FROM OLD THEN RETURN NEW; END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM weir_require_active(NEW.project_id);
        PERFORM weir_require(weir_dev(NEW.project_id),
            format('a project admin or developer of project %s', weir_project_name(NEW.project_id)),
            'create topics');
        IF NEW.state <> 'design' OR NEW.created_by <> me OR NEW.test_datasource_id IS NOT NULL
            OR NEW.prod_datasource_id IS NOT NULL OR NEW.last_opinion IS NOT NULL THEN
            PERFORM weir_refuse('a new topic starts in design, unpublished, created by you',
                'create topics with `weir topic create`, then publish them');
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        PERFORM weir_require_active(OLD.project_id);
        PERFORM weir_require(weir_dev(OLD.project_id),
            format('a project admin or developer of project %s', weir_project_name(OLD.project_id)),
            'delete topics');
        IF OLD.state <> 'design' THEN
            PERFORM weir_refuse(format('topic %s is %s; only a topic in design can be deleted',
                OLD.name, OLD.state), 'keep it');
        END IF;
        RETURN OLD;
    END IF;
    IF (NEW.id, NEW.project_id, NEW.created_by, NEW.created_at)
        IS DISTINCT FROM (OLD.id, OLD.project_id, OLD.created_by, OLD.created_at) THEN
        PERFORM weir_never('topics', 'UPDATE of the id, project or creation record',
            'create a new topic');
    END IF;
    SELECT * INTO pub FROM weir_topic_publication(OLD.id);
    IF NEW.state IS DISTINCT FROM OLD.state THEN
        -- A state change: it follows the topic's newest publication request, which the
        -- same transaction has just created, decided or withdrawn.
        IF (NEW.test_datasource_id, NEW.prod_datasource_id)
            IS DISTINCT FROM (OLD.test_datasource_id, OLD.prod_datasource_id)
            OR (NEW.name, NEW.display_name, NEW.format, NEW.partitions, NEW.lifecycle_days,
                NEW.description, NEW.fields)
            IS DISTINCT FROM (OLD.name, OLD.display_name, OLD.format, OLD.partitions,
                OLD.lifecycle_days, OLD.description, OLD.fields) THEN
            PERFORM weir_never('topics', 'UPDATE of the state together with the design',
                'publish, decide or withdraw with weir');
        END IF;
        ok := CASE
            WHEN (OLD.state, NEW.state) IN (('design', 'pending_test'), ('test', 'pending_prod')) THEN
                pub.env = CASE NEW.state WHEN 'pending_test' THEN 'test' ELSE 'prod' END
                AND pub.state = 'pending' AND pub.requester = me AND weir_dev(OLD.project_id)
            WHEN (OLD.state, NEW.state) IN (('pending_test', 'test'), ('pending_prod', 'prod')) THEN
                pub.state = 'approved' AND pub.decided_by = me
            WHEN (OLD.state, NEW.state) IN (('pending_test', 'design'), ('pending_prod', 'test')) THEN
                pub.state IN ('rejected', 'withdrawn') AND pub.decided_by = me
            ELSE FALSE
        END;
        IF NOT COALESCE(ok, FALSE) THEN
            PERFORM weir_refuse(format('topic %s cannot go from %s to %s here: only publishing, '
                'or deciding or withdrawing its publication request, moves a topic', OLD.name,
                OLD.state, NEW.state), 'use `weir topic publish`, `weir approve`, `weir reject` or `weir withdraw`');
        END IF;
        IF NEW.last_opinion IS DISTINCT FROM OLD.last_opinion
            AND NOT (pub.state = 'rejected' AND NEW.last_opinion IS NOT DISTINCT FROM pub.opinion) THEN
            PERFORM weir_refuse('a topic''s last opinion is the rejection''s opinion',
                'reject the publication request with your opinion');
        END IF;
        PERFORM weir_require_active(OLD.project_id);
        RETURN NEW;
    END IF;
    IF (NEW.test_datasource_id, NEW.prod_datasource_id)
        IS DISTINCT FROM (OLD.test_datasource_id, OLD.prod_datasource_id) THEN
        -- An approval records the data source the topic was published on.
        ok := (NEW.test_datasource_id IS NOT DISTINCT FROM OLD.test_datasource_id
                OR (NEW.state = 'test' AND pub.env = 'test' AND NEW.test_datasource_id = pub.datasource_id))
            AND (NEW.prod_datasource_id IS NOT DISTINCT FROM OLD.prod_datasource_id
                OR (NEW.state = 'prod' AND pub.env = 'prod' AND NEW.prod_datasource_id = pub.datasource_id))
            AND pub.state = 'approved' AND pub.decided_by = me
            AND (NEW.name, NEW.display_name, NEW.format, NEW.partitions, NEW.lifecycle_days,
                NEW.description, NEW.fields, NEW.last_opinion)
            IS NOT DISTINCT FROM (OLD.name, OLD.display_name, OLD.format, OLD.partitions,
                OLD.lifecycle_days, OLD.description, OLD.fields, OLD.last_opinion);
        IF NOT COALESCE(ok, FALSE) THEN
            PERFORM weir_refuse(format('topic %s''s data source is set only by the approval of '
                'its publication, to the data source it was published on', OLD.name),
                'approve the publication request with `weir approve`');
        END IF;
        RETURN NEW;
    END IF;
    -- A design edit.
    PERFORM weir_require_active(OLD.project_id);
    PERFORM weir_require(weir_dev(OLD.project_id),
        format('a project admin or developer of project %s', weir_project_name(OLD.project_id)),
        'edit topics');
    IF OLD.state <> 'design' OR NEW.last_opinion IS DISTINCT FROM OLD.last_opinion THEN
        PERFORM weir_refuse(format('topic %s is %s; only a topic in design can be edited',
            OLD.name, OLD.state), 'create a new topic');
    END IF;
    RETURN NEW;
END
$$;

-- The role that decides requests of `kind`.
CREATE FUNCTION weir_approver(kind TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE kind WHEN 'release' THEN 'system_admin' ELSE 'data_admin' END
$$;

CREATE FUNCTION weir_rule_requests() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    me TEXT := weir_me();
    pid BIGINT := CASE TG_OP WHEN 'INSERT' THEN NEW.project_id ELSE OLD.project_id END;
BEGIN
    IF weir_exempt(TG_RELID) THEN RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END; END IF;
    IF TG_OP = 'UPDATE' AND NEW IS NOT DISTINCT FROM OLD THEN RETURN NEW; END IF;
    IF TG_OP = 'DELETE' THEN
        PERFORM weir_never('requests', 'DELETE', 'withdraw your own pending request instead');
    END IF;
    PERFORM weir_require_active(pid);
    IF TG_OP = 'INSERT' THEN
        IF NEW.state <> 'pending' OR NEW.requester <> me OR NEW.opinion IS NOT NULL
            OR NEW.decided_by IS NOT NULL OR NEW.decided_at IS NOT NULL THEN
            PERFORM weir_refuse('a new request is pending, undecided, and made by you',
                'make requests with weir');
        END IF;
        IF NEW.kind = 'permission' THEN
            PERFORM weir_require(weir_registered(), 'a registered user', 'request permissions');
            IF weir_has('data_admin') THEN
                PERFORM weir_refuse('data admins may not request permissions',
                    'grant them directly with a whitelist entry');
            END IF;
            IF pid IS NOT NULL THEN
                PERFORM weir_require(weir_project_role(pid) IS NOT NULL,
                    format('a member of project %s', weir_project_name(pid)),
                    'request permissions for it');
            END IF;
        ELSE
            PERFORM weir_require(pid IS NOT NULL AND weir_dev(pid),
                format('a project admin or developer of project %s', weir_project_name(pid)),
                CASE NEW.kind WHEN 'release' THEN 'request releases' ELSE 'publish topics' END);
        END IF;
        RETURN NEW;
    END IF;
    IF (NEW.id, NEW.kind, NEW.requester, NEW.project_id, NEW.created_at)
        IS DISTINCT FROM (OLD.id, OLD.kind, OLD.requester, OLD.project_id, OLD.created_at) THEN
        PERFORM weir_refuse(format('request #%s: its kind, requester, project and creation '
            'never change', OLD.id), 'make a new request');
    END IF;
    IF OLD.state <> 'pending' THEN
        PERFORM weir_refuse(format('request #%s was already %s by %s at %s', OLD.id, OLD.state,
            COALESCE(OLD.decided_by, 'someone'), COALESCE(OLD.decided_at, 'an unknown time')),
            'a decision is final; make a new request');
    END IF;
    IF NEW.decided_by IS DISTINCT FROM me OR NEW.decided_at IS NULL THEN
        PERFORM weir_refuse(format('request #%s: a decision is recorded as made by you, now', OLD.id),
            'use `weir approve`, `weir reject` or `weir withdraw`');
    END IF;
    IF NEW.state IN ('approved', 'rejected') THEN
        PERFORM weir_require(weir_has(weir_approver(OLD.kind)),
            CASE weir_approver(OLD.kind) WHEN 'system_admin' THEN 'a system admin' ELSE 'a data admin' END,
            CASE NEW.state WHEN 'approved' THEN 'approve' ELSE 'reject' END || ' '
                || replace(OLD.kind, 'topic_publish', 'topic publication') || ' requests');
        IF OLD.requester = me THEN
            PERFORM weir_refuse(format('request #%s is your own; nobody approves or rejects '
                'their own request', OLD.id), 'ask another approver');
        END IF;
        IF NEW.state = 'rejected' AND COALESCE(btrim(NEW.opinion), '') = '' THEN
            PERFORM weir_refuse('a rejection needs a reason', 'say what the requester should change');
        END IF;
    ELSIF NEW.state = 'withdrawn' THEN
        IF OLD.requester <> me THEN
            PERFORM weir_refuse(format('request #%s belongs to %s; only the requester can '
                'withdraw it', OLD.id, OLD.requester), 'ask them to withdraw it');
        END IF;
        IF NEW.opinion IS DISTINCT FROM OLD.opinion THEN
            PERFORM weir_refuse('a withdrawal carries no opinion', 'use `weir withdraw`');
        END IF;
    ELSE
        PERFORM weir_refuse(format('request #%s cannot go from pending to %s', OLD.id, NEW.state),
            'approve, reject or withdraw it');
    END IF;
    RETURN NEW;
END
$$;

-- A request the actor made in this transaction, still pending, of `kind`.
CREATE FUNCTION weir_my_new_request(rid BIGINT, k TEXT) RETURNS BOOLEAN LANGUAGE sql VOLATILE SECURITY DEFINER AS $$
    SELECT EXISTS (SELECT 1 FROM requests r WHERE r.id = rid AND r.kind = k
        AND r.state = 'pending' AND r.requester = weir_me() AND weir_this_tx(r.xmin))
$$;

CREATE FUNCTION weir_rule_topic_publications() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE ok BOOLEAN;
BEGIN
    IF weir_exempt(TG_RELID) THEN RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END; END IF;
    IF TG_OP = 'UPDATE' AND NEW IS NOT DISTINCT FROM OLD THEN RETURN NEW; END IF;
    IF TG_OP <> 'INSERT' THEN
        PERFORM weir_never('topic_publications', TG_OP, 'a publication request is kept as made');
    END IF;
    ok := weir_my_new_request(NEW.request_id, 'topic_publish')
        AND EXISTS (SELECT 1 FROM topics t JOIN requests r ON r.id = NEW.request_id
            WHERE t.id = NEW.topic_id AND t.project_id = r.project_id
              AND t.state = CASE NEW.env WHEN 'test' THEN 'design' ELSE 'test' END)
        AND EXISTS (SELECT 1 FROM data_sources d WHERE d.id = NEW.datasource_id AND d.kind = 'kafka'
              AND d.env IN (NEW.env, 'both'));
    IF NOT COALESCE(ok, FALSE) THEN
        PERFORM weir_refuse('a topic publication belongs to your new publication request for a '
            'topic of its project, in design (to test) or test (to prod), on a kafka data source '
            'serving that environment', 'publish with `weir topic publish`');
    END IF;
    RETURN NEW;
END
$$;

CREATE FUNCTION weir_rule_permission_requests() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    ok BOOLEAN;
    kafka BOOLEAN;
    rpid BIGINT;
BEGIN
    IF weir_exempt(TG_RELID) THEN RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END; END IF;
    IF TG_OP = 'UPDATE' AND NEW IS NOT DISTINCT FROM OLD THEN RETURN NEW; END IF;
    IF TG_OP <> 'INSERT' THEN
        PERFORM weir_never('permission_requests', TG_OP, 'a permission request is kept as made');
    END IF;
    SELECT project_id INTO rpid FROM requests WHERE id = NEW.request_id;
    SELECT d.kind = 'kafka' INTO kafka FROM data_sources d WHERE d.id = NEW.datasource_id;
    ok := weir_my_new_request(NEW.request_id, 'permission')
        AND CASE NEW.grantee_kind
            WHEN 'project' THEN NEW.project_id IS NOT NULL AND NEW.project_id = rpid
                AND NEW.login IS NULL AND NEW.columns = '[]'
            WHEN 'user' THEN NEW.login = weir_me() AND NEW.project_id IS NULL AND rpid IS NULL
            ELSE FALSE END
        AND NEW.perms <> ''
        AND string_to_array(NEW.perms, ',') <@ CASE WHEN kafka THEN ARRAY['select', 'insert']
            ELSE ARRAY['select', 'insert', 'update', 'delete'] END
        AND (NOT kafka OR NEW.columns = '[]')
        AND btrim(NEW.reason) <> '' AND btrim(NEW.table_name) <> '';
    IF NOT COALESCE(ok, FALSE) THEN
        PERFORM weir_refuse('a permission request belongs to your new request: for its project '
            '(a member''s, whole tables) or for yourself, with select/insert/update/delete '
            '(kafka: select and insert, no columns) and a reason',
            'request with `weir perm request`');
    END IF;
    RETURN NEW;
END
$$;

CREATE FUNCTION weir_rule_grants() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE ok BOOLEAN;
BEGIN
    IF weir_exempt(TG_RELID) THEN RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END; END IF;
    IF TG_OP = 'UPDATE' AND NEW IS NOT DISTINCT FROM OLD THEN RETURN NEW; END IF;
    IF TG_OP = 'UPDATE' THEN
        PERFORM weir_never('grants', 'UPDATE', 'revoke the grant and set a new one');
    END IF;
    PERFORM weir_require(weir_has('data_admin') OR weir_has('system_admin'),
        'a data admin or a system admin', 'set or revoke grants');
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    IF NEW.granted_by <> weir_me() THEN
        PERFORM weir_refuse('a grant is recorded as set by you', 'use `weir perm grant`');
    END IF;
    PERFORM weir_require_active(NEW.project_id);
    IF NEW.request_id IS NOT NULL THEN
        -- The whitelist row of a permission request the actor approved just now, exactly
        -- as requested.
        ok := NEW.list = 'whitelist' AND EXISTS (
            SELECT 1 FROM requests r JOIN permission_requests p ON p.request_id = r.id
             WHERE r.id = NEW.request_id AND r.kind = 'permission' AND r.state = 'approved'
               AND r.decided_by = weir_me() AND weir_this_tx(r.xmin)
               AND (p.datasource_id, p.table_name, p.grantee_kind, p.perms, p.columns)
                   = (NEW.datasource_id, NEW.table_name, NEW.grantee_kind, NEW.perms, NEW.columns)
               AND p.project_id IS NOT DISTINCT FROM NEW.project_id
               AND p.login IS NOT DISTINCT FROM NEW.login);
        IF NOT COALESCE(ok, FALSE) THEN
            PERFORM weir_refuse(format('a grant of request #%s is the whitelist entry that '
                'request asked for, added when you approve it', NEW.request_id),
                'approve the request with `weir approve`, or set a grant without a request');
        END IF;
    END IF;
    RETURN NEW;
END
$$;

-- The audit log: appended by the actor, at the server's time (the append-only triggers
-- of migration 1 refuse UPDATE, DELETE and TRUNCATE for everyone).
CREATE FUNCTION weir_rule_audit() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    NEW.at := to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
    IF weir_exempt(TG_RELID) THEN RETURN NEW; END IF;
    IF NEW.actor <> weir_me() THEN
        PERFORM weir_refuse(format('an audit row names who wrote it: you are %s, not %s',
            weir_me(), NEW.actor), 'audit rows are written by weir with each change');
    END IF;
    RETURN NEW;
END
$$;

CREATE FUNCTION weir_rule_weir_schema() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    IF weir_exempt(TG_RELID) THEN RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END; END IF;
    PERFORM weir_refuse('only the store''s owner migrates it',
        'run `weir store init` connected as the owner');
    RETURN NULL;
END
$$;

-- Jobs, versions, locks, releases ----------------------------------------------------------

CREATE FUNCTION weir_rule_jobs() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE pid BIGINT := CASE TG_OP WHEN 'INSERT' THEN NEW.project_id ELSE OLD.project_id END;
BEGIN
    IF weir_exempt(TG_RELID) THEN RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END; END IF;
    IF TG_OP = 'UPDATE' AND NEW IS NOT DISTINCT FROM OLD THEN RETURN NEW; END IF;
    IF TG_OP = 'DELETE' THEN
        PERFORM weir_never('jobs', 'DELETE', 'a job stays with its versions');
    END IF;
    PERFORM weir_require_active(pid);
    IF TG_OP = 'INSERT' THEN
        PERFORM weir_require(weir_dev(pid),
            format('a project admin or developer of project %s', weir_project_name(pid)),
            'create jobs');
        IF NEW.created_by <> weir_me() THEN
            PERFORM weir_refuse('a new job is recorded as created by you', 'lock or submit it with weir');
        END IF;
        RETURN NEW;
    END IF;
    -- weir only touches `updated_at` (the row lock that serialises writes about a job).
    IF (NEW.id, NEW.project_id, NEW.path, NEW.created_by, NEW.created_at)
        IS DISTINCT FROM (OLD.id, OLD.project_id, OLD.path, OLD.created_by, OLD.created_at) THEN
        PERFORM weir_never('jobs', 'UPDATE of anything but updated_at', 'a job keeps its place');
    END IF;
    PERFORM weir_require(weir_dev(pid) OR weir_has('system_admin'),
        format('a project admin or developer of project %s or a system admin', weir_project_name(pid)),
        'change jobs');
    RETURN NEW;
END
$$;

CREATE FUNCTION weir_rule_job_locks() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE pid BIGINT;
BEGIN
    IF weir_exempt(TG_RELID) THEN RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END; END IF;
    IF TG_OP = 'UPDATE' AND NEW IS NOT DISTINCT FROM OLD THEN RETURN NEW; END IF;
    IF TG_OP = 'DELETE' THEN
        PERFORM weir_never('job_locks', 'DELETE',
            'an edit lock stays with its holder until someone takes it over (`weir job unlock`)');
    END IF;
    pid := weir_job_project(NEW.job_id);
    PERFORM weir_require_active(pid);
    PERFORM weir_require(weir_dev(pid),
        format('a project admin or developer of project %s', weir_project_name(pid)), 'lock jobs');
    IF NEW.holder <> weir_me() OR (TG_OP = 'UPDATE' AND NEW.job_id <> OLD.job_id) THEN
        PERFORM weir_refuse('an edit lock is taken by its holder, for themselves',
            'use `weir job lock` or `weir job unlock`');
    END IF;
    RETURN NEW;
END
$$;

CREATE FUNCTION weir_rule_job_versions() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE pid BIGINT;
BEGIN
    IF weir_exempt(TG_RELID) OR TG_OP <> 'INSERT' THEN
        -- UPDATE and DELETE are refused for everyone by migration 3's triggers.
        RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    pid := weir_job_project(NEW.job_id);
    PERFORM weir_require_active(pid);
    PERFORM weir_require(weir_dev(pid),
        format('a project admin or developer of project %s', weir_project_name(pid)), 'submit jobs');
    IF NOT EXISTS (SELECT 1 FROM job_locks WHERE job_id = NEW.job_id AND holder = weir_me()) THEN
        PERFORM weir_refuse('submitting a version needs the job''s edit lock',
            'take it with `weir job lock` (or `weir job unlock` to take it over)');
    END IF;
    IF NEW.author <> weir_me() OR NOT NEW.validation_passed OR NEW.hash !~ '^[0-9a-f]{64}$'
        OR btrim(NEW.message) = ''
        OR NEW.number <> (SELECT COALESCE(MAX(number), 0) + 1 FROM job_versions WHERE job_id = NEW.job_id) THEN
        PERFORM weir_refuse('a new version is the next number, by you, validated, with a sha256 '
            'hash and a message', 'submit with `weir job submit`');
    END IF;
    RETURN NEW;
END
$$;

CREATE FUNCTION weir_rule_releases() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    me TEXT := weir_me();
    pid BIGINT;
    req RECORD;
    ok BOOLEAN;
BEGIN
    IF weir_exempt(TG_RELID) THEN RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END; END IF;
    IF TG_OP = 'UPDATE' AND NEW IS NOT DISTINCT FROM OLD THEN RETURN NEW; END IF;
    IF TG_OP = 'DELETE' THEN
        PERFORM weir_never('releases', 'DELETE', 'withdraw the request or take the release offline');
    END IF;
    pid := weir_job_project(NEW.job_id);
    IF TG_OP = 'INSERT' THEN
        ok := weir_my_new_request(NEW.request_id, 'release')
            AND (SELECT project_id FROM requests WHERE id = NEW.request_id) = pid
            AND EXISTS (SELECT 1 FROM job_versions v WHERE v.id = NEW.version_id
                AND v.job_id = NEW.job_id AND v.hash = NEW.hash)
            AND NEW.state = 'pending' AND NEW.approved_hash IS NULL AND NEW.live_by IS NULL
            AND NEW.live_at IS NULL AND NEW.ended_by IS NULL AND NEW.ended_at IS NULL;
        IF NOT COALESCE(ok, FALSE) THEN
            PERFORM weir_refuse('a release belongs to your new release request, pending, bound '
                'to a version of the job and that version''s hash', 'use `weir release request`');
        END IF;
        IF EXISTS (SELECT 1 FROM releases WHERE version_id = NEW.version_id
            AND state IN ('pending', 'approved', 'live')) THEN
            PERFORM weir_refuse('a version has one open release at a time',
                'withdraw or finish the open release first');
        END IF;
        RETURN NEW;
    END IF;
    IF (NEW.request_id, NEW.job_id, NEW.version_id, NEW.hash, NEW.note)
        IS DISTINCT FROM (OLD.request_id, OLD.job_id, OLD.version_id, OLD.hash, OLD.note) THEN
        PERFORM weir_refuse(format('release #%s stays bound to its job, version, hash and note',
            OLD.request_id), 'request a new release');
    END IF;
    SELECT state, decided_by INTO req FROM requests WHERE id = OLD.request_id;
    ok := CASE
        WHEN OLD.state = 'pending' AND NEW.state IN ('approved', 'rejected', 'withdrawn') THEN
            req.state = NEW.state AND req.decided_by = me
            AND NEW.approved_hash IS NOT DISTINCT FROM
                CASE NEW.state WHEN 'approved' THEN OLD.hash END
            AND (NEW.live_by, NEW.live_at, NEW.ended_by, NEW.ended_at)
                IS NOT DISTINCT FROM (OLD.live_by, OLD.live_at, OLD.ended_by, OLD.ended_at)
        WHEN (OLD.state, NEW.state) = ('approved', 'live') THEN
            NEW.live_by = me AND NEW.live_at IS NOT NULL
            AND (NEW.approved_hash, NEW.ended_by, NEW.ended_at)
                IS NOT DISTINCT FROM (OLD.approved_hash, OLD.ended_by, OLD.ended_at)
        WHEN OLD.state = 'live' AND NEW.state IN ('offline', 'replaced') THEN
            NEW.ended_by = me AND NEW.ended_at IS NOT NULL
            AND (NEW.approved_hash, NEW.live_by, NEW.live_at)
                IS NOT DISTINCT FROM (OLD.approved_hash, OLD.live_by, OLD.live_at)
        ELSE FALSE
    END;
    IF NOT COALESCE(ok, FALSE) THEN
        PERFORM weir_refuse(format('release #%s cannot go from %s to %s this way: a request''s '
            'decision moves a pending release, and go-live or offline (recorded as done by you) '
            'an approved or live one', OLD.request_id, OLD.state, NEW.state),
            'use `weir approve`, `weir reject`, `weir withdraw`, `weir release live` or `weir release offline`');
    END IF;
    IF OLD.state IN ('approved', 'live') THEN
        PERFORM weir_require_active(pid);
        PERFORM weir_require(weir_dev(pid) OR weir_has('system_admin'),
            format('a project admin or developer of project %s or a system admin', weir_project_name(pid)),
            'take releases live or offline');
    END IF;
    RETURN NEW;
END
$$;

-- Instances and workers ------------------------------------------------------------------

-- Whether the actor may start (`stop` false) or stop an instance of project `pid` in
-- `env` (the Rust code's `require_right`).
CREATE FUNCTION weir_instance_right(pid BIGINT, env TEXT, stop BOOLEAN) RETURNS BOOLEAN
    LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT CASE
        WHEN env = 'prod' THEN weir_has('system_admin') OR weir_project_role(pid) = 'project_admin'
        WHEN stop THEN weir_dev(pid) OR weir_has('system_admin')
        ELSE weir_dev(pid)
    END
$$;

CREATE FUNCTION weir_rule_instances() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    me TEXT := weir_me();
    pid BIGINT;
    rel RECORD;
    held BOOLEAN;
    ok BOOLEAN := FALSE;
BEGIN
    IF weir_exempt(TG_RELID) THEN RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END; END IF;
    IF TG_OP = 'UPDATE' AND NEW IS NOT DISTINCT FROM OLD THEN RETURN NEW; END IF;
    IF TG_OP = 'DELETE' THEN
        PERFORM weir_never('instances', 'DELETE', 'stop the instance; its record stays');
    END IF;
    pid := weir_job_project(NEW.job_id);
    IF TG_OP = 'INSERT' THEN
        PERFORM weir_require_active(pid);
        IF NEW.state <> 'created' OR NEW.desired <> 'running' OR NEW.worker IS NOT NULL
            OR NEW.heartbeat_at IS NOT NULL OR NEW.started_at IS NOT NULL
            OR NEW.stopped_at IS NOT NULL OR NEW.error IS NOT NULL OR NEW.created_by <> me THEN
            PERFORM weir_refuse('a new instance is created by you, waiting for a worker',
                'start instances with weir');
        END IF;
        IF NEW.env = 'prod' THEN
            -- Only go-live creates a production instance: of the release it has just
            -- taken live, one per go-live.
            SELECT r.job_id, r.version_id, r.state, r.live_by, weir_this_tx(r.xmin) AS now_live
              INTO rel FROM releases r WHERE r.request_id = NEW.release_id;
            ok := NEW.release_id IS NOT NULL AND rel.state = 'live' AND rel.live_by = me
                AND rel.now_live AND rel.job_id = NEW.job_id AND rel.version_id = NEW.version_id
                AND NOT EXISTS (SELECT 1 FROM instances WHERE release_id = NEW.release_id);
            IF NOT COALESCE(ok, FALSE) THEN
                PERFORM weir_refuse('a production instance is created only by taking an approved '
                    'release live, one per go-live', 'use `weir release live`');
            END IF;
            PERFORM weir_require(weir_dev(pid) OR weir_has('system_admin'),
                format('a project admin or developer of project %s or a system admin', weir_project_name(pid)),
                'take releases live');
        ELSE
            PERFORM weir_require(weir_dev(pid),
                format('a project admin or developer of project %s', weir_project_name(pid)),
                'start test instances');
            IF NEW.release_id IS NOT NULL OR (NEW.version_id IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM job_versions v WHERE v.id = NEW.version_id AND v.job_id = NEW.job_id)) THEN
                PERFORM weir_refuse('a test instance runs a version of its own job, or a working file',
                    'use `weir instance start`');
            END IF;
        END IF;
        RETURN NEW;
    END IF;
    IF (NEW.id, NEW.job_id, NEW.version_id, NEW.release_id, NEW.env, NEW.parallelism,
        NEW.memory_mib, NEW.start_position, NEW.start_timestamp_ms, NEW.params, NEW.created_by,
        NEW.created_at, NEW.source_path, NEW.text, NEW.text_hash)
        IS DISTINCT FROM (OLD.id, OLD.job_id, OLD.version_id, OLD.release_id, OLD.env,
        OLD.parallelism, OLD.memory_mib, OLD.start_position, OLD.start_timestamp_ms, OLD.params,
        OLD.created_by, OLD.created_at, OLD.source_path, OLD.text, OLD.text_hash) THEN
        PERFORM weir_refuse(format('instance #%s keeps what it runs and how; only its run state '
            'changes', OLD.id), 'start a new instance');
    END IF;
    held := OLD.state IN ('starting', 'running', 'stopping');
    -- A person stops it: desired `stopped`; one nobody runs yet is stopped at once.
    IF NEW.desired = 'stopped' AND OLD.state IN ('created', 'starting', 'running', 'stopping')
        AND ((OLD.desired = 'running' AND NEW.state = OLD.state
              AND NEW.stopped_at IS NOT DISTINCT FROM OLD.stopped_at)
            OR (OLD.state = 'created' AND NEW.state = 'stopped'))
        AND (NEW.worker, NEW.heartbeat_at, NEW.started_at, NEW.error)
            IS NOT DISTINCT FROM (OLD.worker, OLD.heartbeat_at, OLD.started_at, OLD.error) THEN
        PERFORM weir_require(weir_instance_right(pid, OLD.env, TRUE),
            CASE OLD.env WHEN 'prod' THEN format('a project admin of project %s or a system admin', weir_project_name(pid))
                ELSE format('a project admin or developer of project %s or a system admin', weir_project_name(pid)) END,
            format('stop %s instances', OLD.env));
        RETURN NEW;
    END IF;
    -- A person starts a stopped or failed one again.
    IF OLD.state IN ('stopped', 'failed') AND NEW.state = 'created' AND NEW.desired = 'running'
        AND NEW.worker IS NULL AND NEW.heartbeat_at IS NULL AND NEW.started_at IS NULL
        AND NEW.stopped_at IS NULL AND NEW.error IS NULL THEN
        PERFORM weir_require_active(pid);
        PERFORM weir_require(weir_instance_right(pid, OLD.env, FALSE),
            CASE OLD.env WHEN 'prod' THEN format('a project admin of project %s or a system admin', weir_project_name(pid))
                ELSE format('a project admin or developer of project %s', weir_project_name(pid)) END,
            format('start %s instances', OLD.env));
        IF OLD.env = 'prod' AND NOT EXISTS (SELECT 1 FROM releases
            WHERE request_id = OLD.release_id AND state = 'live') THEN
            PERFORM weir_refuse(format('production instance #%s starts only while its release is live',
                OLD.id), 'take a release live instead');
        END IF;
        RETURN NEW;
    END IF;
    -- A worker's own writes: only through the login that registered it.
    IF NEW.desired = OLD.desired THEN
        ok := CASE
            -- heartbeat
            WHEN (NEW.state, NEW.worker, NEW.started_at, NEW.stopped_at, NEW.error)
                IS NOT DISTINCT FROM (OLD.state, OLD.worker, OLD.started_at, OLD.stopped_at, OLD.error) THEN
                held AND weir_owns_worker(OLD.worker)
            -- claim (or take over one whose worker went silent)
            WHEN NEW.state = 'starting' AND NEW.worker IS DISTINCT FROM OLD.worker THEN
                NEW.desired = 'running' AND (OLD.state = 'created' OR held)
                AND weir_owns_worker(NEW.worker)
                AND NOT (SELECT stopping FROM workers WHERE id = NEW.worker)
                AND NEW.started_at IS NULL AND NEW.stopped_at IS NULL AND NEW.error IS NULL
            -- stopped because it was asked to and its worker went silent
            WHEN NEW.worker IS NOT DISTINCT FROM OLD.worker AND held AND NEW.state = 'stopped'
                AND NEW.desired = 'stopped' AND NOT weir_owns_worker(OLD.worker)
                AND NEW.error IS NOT DISTINCT FROM OLD.error THEN
                weir_has_worker() OR weir_has('system_admin')
            -- the holding worker reports a new state
            WHEN NEW.worker IS NOT DISTINCT FROM OLD.worker THEN
                held AND weir_owns_worker(OLD.worker) AND CASE
                    WHEN (OLD.state, NEW.state) = ('starting', 'running') THEN NEW.error IS NULL
                    WHEN NEW.state IN ('stopping', 'stopped') THEN NEW.desired = 'stopped'
                        AND (NEW.state = 'stopped' OR OLD.state IN ('starting', 'running'))
                        AND NEW.error IS NOT DISTINCT FROM OLD.error
                    WHEN NEW.state = 'failed' THEN NEW.error IS NOT NULL
                    ELSE FALSE END
            -- its worker unregisters and hands it back
            WHEN NEW.worker IS NULL THEN
                held AND NEW.state = 'created' AND NEW.desired = 'running'
                AND NEW.heartbeat_at IS NULL
                AND (weir_owns_worker(OLD.worker) OR weir_has('system_admin'))
            ELSE FALSE
        END;
    END IF;
    IF NOT COALESCE(ok, FALSE) THEN
        PERFORM weir_refuse(format('instance #%s cannot go from %s (desired %s, worker %s) to %s '
            '(desired %s, worker %s): a person starts or stops it, and only the login of the worker '
            'holding it reports its run', OLD.id, OLD.state, OLD.desired, COALESCE(OLD.worker, 'none'),
            NEW.state, NEW.desired, COALESCE(NEW.worker, 'none')),
            'use `weir instance start` or `weir instance stop`');
    END IF;
    RETURN NEW;
END
$$;

CREATE FUNCTION weir_rule_workers() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE me TEXT := weir_me();
BEGIN
    IF weir_exempt(TG_RELID) THEN RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END; END IF;
    IF TG_OP = 'UPDATE' AND NEW IS NOT DISTINCT FROM OLD THEN RETURN NEW; END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM weir_require(weir_has('system_admin') OR weir_has('ops'),
            'a system admin or ops', 'run a worker');
        IF NEW.login <> me OR NEW.stopping THEN
            PERFORM weir_refuse('a worker runs as the login that registers it',
                'register workers with `weir worker`');
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        IF OLD.login <> me THEN
            PERFORM weir_require(weir_has('system_admin'), 'a system admin',
                'remove another login''s worker');
        END IF;
        IF EXISTS (SELECT 1 FROM instances WHERE worker = OLD.id
            AND state IN ('starting', 'running', 'stopping')) THEN
            PERFORM weir_refuse(format('worker %s still holds instances', OLD.id),
                'unregister it with weir, which hands them back first');
        END IF;
        RETURN OLD;
    END IF;
    IF (NEW.id, NEW.login) IS DISTINCT FROM (OLD.id, OLD.login) THEN
        PERFORM weir_refuse(format('worker %s keeps its id and login', OLD.id),
            'register a new worker');
    END IF;
    IF OLD.login = me THEN
        IF OLD.stopping AND NOT NEW.stopping THEN
            -- registering again
            PERFORM weir_require(weir_has('system_admin') OR weir_has('ops'),
                'a system admin or ops', 'run a worker');
        END IF;
        RETURN NEW;
    END IF;
    PERFORM weir_require(weir_has('system_admin') OR weir_has('ops'), 'a system admin or ops',
        'stop workers');
    IF NOT (NEW.stopping AND NOT OLD.stopping AND (NEW.host, NEW.pid, NEW.slots, NEW.started_at,
        NEW.heartbeat_at) IS NOT DISTINCT FROM (OLD.host, OLD.pid, OLD.slots, OLD.started_at,
        OLD.heartbeat_at)) THEN
        PERFORM weir_refuse(format('worker %s runs as %s; others only ask it to stop', OLD.id,
            OLD.login), 'use `weir worker stop`');
    END IF;
    RETURN NEW;
END
$$;

-- Monitoring -----------------------------------------------------------------------------

CREATE FUNCTION weir_rule_worker_rows() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    iid BIGINT := CASE TG_OP WHEN 'DELETE' THEN OLD.instance_id ELSE NEW.instance_id END;
    w TEXT;
    st TEXT;
BEGIN
    IF weir_exempt(TG_RELID) THEN RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END; END IF;
    IF TG_OP = 'UPDATE' AND NEW IS NOT DISTINCT FROM OLD THEN RETURN NEW; END IF;
    IF TG_OP = 'DELETE' THEN
        -- A worker prunes old snapshots and log lines (of every instance).
        IF NOT weir_has_worker() THEN
            PERFORM weir_refuse(format('only a worker''s login prunes %s', TG_TABLE_NAME),
                'workers prune them on their own');
        END IF;
        RETURN OLD;
    END IF;
    IF TG_TABLE_NAME = 'instance_logs' AND TG_OP = 'UPDATE' THEN
        PERFORM weir_never('instance_logs', 'UPDATE', 'a log line stays as written');
    END IF;
    IF TG_OP = 'UPDATE' THEN
        -- Only instance_metrics gets here (its key is instance and time): one nested IF,
        -- because PL/pgSQL plans a whole condition at once, and instance_logs has no at_ms.
        IF (NEW.instance_id, NEW.at_ms) IS DISTINCT FROM (OLD.instance_id, OLD.at_ms) THEN
            PERFORM weir_never('instance_metrics', 'UPDATE of anything but the snapshot',
                'a worker records snapshots');
        END IF;
    END IF;
    SELECT worker, state INTO w, st FROM instances WHERE id = iid;
    -- Snapshots of instances the worker holds; log lines of those it holds or last held.
    IF NOT weir_owns_worker(w) OR (TG_TABLE_NAME = 'instance_metrics'
        AND st NOT IN ('starting', 'running', 'stopping')) THEN
        PERFORM weir_refuse(format('only the login of the worker running instance #%s writes its %s',
            iid, replace(TG_TABLE_NAME, 'instance_', '')), 'workers write them on their own');
    END IF;
    RETURN NEW;
END
$$;

CREATE FUNCTION weir_rule_alert_rules() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    r alert_rules;
    pid BIGINT;
BEGIN
    IF weir_exempt(TG_RELID) THEN RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END; END IF;
    IF TG_OP = 'UPDATE' AND NEW IS NOT DISTINCT FROM OLD THEN RETURN NEW; END IF;
    IF TG_OP = 'UPDATE' THEN
        PERFORM weir_never('alert_rules', 'UPDATE', 'remove the rule and add a new one');
    END IF;
    IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
    pid := COALESCE(weir_job_project(r.job_id),
        weir_job_project((SELECT job_id FROM instances WHERE id = r.instance_id)));
    PERFORM weir_require(weir_dev(pid) OR weir_has('system_admin') OR weir_has('ops'),
        format('a project admin or developer of project %s, a system admin or ops', weir_project_name(pid)),
        'change alert rules of its jobs');
    IF TG_OP = 'INSERT' AND NEW.created_by <> weir_me() THEN
        PERFORM weir_refuse('a new alert rule is recorded as added by you', 'use `weir alert add`');
    END IF;
    RETURN r;
END
$$;

CREATE FUNCTION weir_rule_alerts() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE ok BOOLEAN;
BEGIN
    IF weir_exempt(TG_RELID) THEN RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END; END IF;
    IF TG_OP = 'UPDATE' AND NEW IS NOT DISTINCT FROM OLD THEN RETURN NEW; END IF;
    IF TG_OP = 'DELETE' THEN
        PERFORM weir_never('alerts', 'DELETE', 'clear the alert; it stays on record');
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.rule_id IS NULL AND OLD.rule_id IS NOT NULL
        AND (NEW.id, NEW.instance_id, NEW.rule, NEW.kind, NEW.state, NEW.value, NEW.message,
             NEW.fired_at, NEW.cleared_at)
        IS NOT DISTINCT FROM (OLD.id, OLD.instance_id, OLD.rule, OLD.kind, OLD.state, OLD.value,
             OLD.message, OLD.fired_at, OLD.cleared_at)
        AND NOT EXISTS (SELECT 1 FROM alert_rules WHERE id = OLD.rule_id) THEN
        RETURN NEW; -- its rule was removed (ON DELETE SET NULL)
    END IF;
    IF NOT weir_owns_worker((SELECT worker FROM instances
        WHERE id = CASE TG_OP WHEN 'INSERT' THEN NEW.instance_id ELSE OLD.instance_id END)) THEN
        PERFORM weir_refuse('only the login of the worker running an instance fires and clears '
            'its alerts', 'workers report alerts on their own');
    END IF;
    IF TG_OP = 'INSERT' THEN
        ok := NEW.state = 'firing' AND NEW.cleared_at IS NULL AND (NEW.rule_id IS NULL OR EXISTS (
            SELECT 1 FROM alert_rules a WHERE a.id = NEW.rule_id AND (a.instance_id = NEW.instance_id
                OR a.job_id = (SELECT job_id FROM instances WHERE id = NEW.instance_id))));
    ELSE
        ok := OLD.state = 'firing' AND NEW.state = 'cleared' AND NEW.cleared_at IS NOT NULL
            AND (NEW.id, NEW.instance_id, NEW.rule_id, NEW.rule, NEW.kind, NEW.message, NEW.fired_at)
            IS NOT DISTINCT FROM (OLD.id, OLD.instance_id, OLD.rule_id, OLD.rule, OLD.kind,
                OLD.message, OLD.fired_at);
    END IF;
    IF NOT COALESCE(ok, FALSE) THEN
        PERFORM weir_refuse('an alert fires (about a rule of its instance or job) and is then '
            'cleared, once', 'workers report alerts on their own');
    END IF;
    RETURN NEW;
END
$$;

-- A request and its effect are one change: checked at commit (a deferred constraint
-- trigger), when the transaction that made or decided a request has written the rest.
-- A new request has its detail (and a publication has moved its topic); a decision has
-- moved its release or topic, or added the grant it approved.
CREATE FUNCTION weir_rule_request_effects() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    pub RECORD;
    ok BOOLEAN;
BEGIN
    IF weir_exempt(TG_RELID) OR (TG_OP = 'UPDATE' AND NEW.state = OLD.state) THEN
        RETURN NULL;
    END IF;
    SELECT tp.env, t.state AS topic_state INTO pub FROM topic_publications tp
        JOIN topics t ON t.id = tp.topic_id WHERE tp.request_id = NEW.id;
    ok := CASE NEW.kind
        WHEN 'topic_publish' THEN pub.topic_state = CASE
            WHEN NEW.state = 'pending' THEN 'pending_' || pub.env
            WHEN NEW.state = 'approved' THEN pub.env
            WHEN pub.env = 'test' THEN 'design'
            ELSE 'test' END
        WHEN 'release' THEN EXISTS (SELECT 1 FROM releases r WHERE r.request_id = NEW.id
            AND (r.state = NEW.state OR (NEW.state = 'approved' AND r.state IN ('live', 'offline', 'replaced'))))
        ELSE EXISTS (SELECT 1 FROM permission_requests WHERE request_id = NEW.id)
            AND (NEW.state <> 'approved' OR EXISTS (SELECT 1 FROM grants WHERE request_id = NEW.id))
    END;
    IF NOT COALESCE(ok, FALSE) THEN
        PERFORM weir_refuse(format('request #%s is %s, but what goes with it is missing: a new '
            'request has its detail, a publication moves its topic, a decision moves the release '
            'or topic or adds the grant, in the same transaction', NEW.id, NEW.state),
            'make and decide requests with weir');
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER weir_request_effects AFTER INSERT OR UPDATE ON requests
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION weir_rule_request_effects();

-- One trigger per governed table ------------------------------------------------------------

CREATE TRIGGER weir_rules BEFORE INSERT OR UPDATE OR DELETE ON bootstrap
    FOR EACH ROW EXECUTE FUNCTION weir_rule_bootstrap();
CREATE TRIGGER weir_rules BEFORE INSERT OR UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION weir_rule_users();
CREATE TRIGGER weir_rules BEFORE INSERT OR UPDATE OR DELETE ON user_roles
    FOR EACH ROW EXECUTE FUNCTION weir_rule_user_roles();
CREATE TRIGGER weir_rules BEFORE INSERT OR UPDATE OR DELETE ON projects
    FOR EACH ROW EXECUTE FUNCTION weir_rule_projects();
CREATE TRIGGER weir_rules BEFORE INSERT OR UPDATE OR DELETE ON project_members
    FOR EACH ROW EXECUTE FUNCTION weir_rule_project_members();
CREATE TRIGGER weir_rules BEFORE INSERT OR UPDATE OR DELETE ON data_sources
    FOR EACH ROW EXECUTE FUNCTION weir_rule_data_sources();
CREATE TRIGGER weir_rules BEFORE INSERT OR UPDATE OR DELETE ON topics
    FOR EACH ROW EXECUTE FUNCTION weir_rule_topics();
CREATE TRIGGER weir_rules BEFORE INSERT OR UPDATE OR DELETE ON requests
    FOR EACH ROW EXECUTE FUNCTION weir_rule_requests();
CREATE TRIGGER weir_rules BEFORE INSERT OR UPDATE OR DELETE ON topic_publications
    FOR EACH ROW EXECUTE FUNCTION weir_rule_topic_publications();
CREATE TRIGGER weir_rules BEFORE INSERT OR UPDATE OR DELETE ON permission_requests
    FOR EACH ROW EXECUTE FUNCTION weir_rule_permission_requests();
CREATE TRIGGER weir_rules BEFORE INSERT OR UPDATE OR DELETE ON grants
    FOR EACH ROW EXECUTE FUNCTION weir_rule_grants();
CREATE TRIGGER weir_rules BEFORE INSERT ON audit
    FOR EACH ROW EXECUTE FUNCTION weir_rule_audit();
CREATE TRIGGER weir_rules BEFORE INSERT OR UPDATE OR DELETE ON weir_schema
    FOR EACH ROW EXECUTE FUNCTION weir_rule_weir_schema();
CREATE TRIGGER weir_rules BEFORE INSERT OR UPDATE OR DELETE ON jobs
    FOR EACH ROW EXECUTE FUNCTION weir_rule_jobs();
CREATE TRIGGER weir_rules BEFORE INSERT OR UPDATE OR DELETE ON job_locks
    FOR EACH ROW EXECUTE FUNCTION weir_rule_job_locks();
CREATE TRIGGER weir_rules BEFORE INSERT ON job_versions
    FOR EACH ROW EXECUTE FUNCTION weir_rule_job_versions();
CREATE TRIGGER weir_rules BEFORE INSERT OR UPDATE OR DELETE ON releases
    FOR EACH ROW EXECUTE FUNCTION weir_rule_releases();
CREATE TRIGGER weir_rules BEFORE INSERT OR UPDATE OR DELETE ON instances
    FOR EACH ROW EXECUTE FUNCTION weir_rule_instances();
CREATE TRIGGER weir_rules BEFORE INSERT OR UPDATE OR DELETE ON workers
    FOR EACH ROW EXECUTE FUNCTION weir_rule_workers();
CREATE TRIGGER weir_rules BEFORE INSERT OR UPDATE OR DELETE ON instance_metrics
    FOR EACH ROW EXECUTE FUNCTION weir_rule_worker_rows();
CREATE TRIGGER weir_rules BEFORE INSERT OR UPDATE OR DELETE ON instance_logs
    FOR EACH ROW EXECUTE FUNCTION weir_rule_worker_rows();
CREATE TRIGGER weir_rules BEFORE INSERT OR UPDATE OR DELETE ON alert_rules
    FOR EACH ROW EXECUTE FUNCTION weir_rule_alert_rules();
CREATE TRIGGER weir_rules BEFORE INSERT OR UPDATE OR DELETE ON alerts
    FOR EACH ROW EXECUTE FUNCTION weir_rule_alerts();

-- Pin every weir function's search_path to the store's schema, then pg_temp, so that no
-- caller's search_path or temporary table changes what the rules read.
DO $$
DECLARE f REGPROCEDURE;
BEGIN
    FOR f IN SELECT p.oid FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = current_schema() AND p.proname LIKE 'weir\_%' LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = %I, pg_temp', f, current_schema());
    END LOOP;
END
$$;
