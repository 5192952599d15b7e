//! A permission matrix generated from `ombud_graphql::catalog()`: every table
//! against every role, over two tenants, proving that no role reads or writes
//! the other tenant's rows.
//!
//! Tenant A has an owner, a viewer and a developer; tenant B has an owner. Each
//! tenant has two data subjects with a consent value, a rights request, a
//! processing activity and an identifier each, one processing purpose, one
//! data processor, and a published and a draft privacy notice. Every write
//! through GraphQL adds audit log rows. As role `user`, A's three members must
//! not see or change B's rows through list, by-id, aggregate and relationship
//! fields, nor through update, delete and insert. As role `me` they see and
//! change only their own account and PATs. As role `dataSubject`, A's first
//! subject reads only its own rows and its controller's public rows, and
//! changes only its own rows. Anonymous callers fetch any controller by id but
//! reach only its public rows below it. The admin role reads the rows of both
//! tenants.
//!
//! `table_fixture()` returns how to find one owner's rows of each table and
//! how to aim a write at B. A table added to the catalog without an entry
//! there fails every test here with the table's name.

use std::collections::{BTreeMap, BTreeSet};

use ombud_auth::JwtCodec;
use ombud_graphql::Role;
use ombud_graphql::metadata::{
    ANONYMOUS_ENTRY_TABLES, DATA_SUBJECT_ID, InsertPermission, Preset, RelationshipKind, Table,
};
use ombud_server::Secret;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{GraphqlResponse, Tenant, TestApp, parse_uuid, spawn_app_with};

/// The signing secret of the matrix server, so that the tests can mint
/// `dataSubject` tokens as a magic-link sign-in would.
const JWT_SECRET: &str = "permission-matrix-secret-of-at-least-32-bytes";

/// Mutation root fields that come from actions rather than from a catalog
/// table, with the roles that get them.
const ACTIONS: &[(&str, &[Role])] = &[("upsertDataSubjectConsents", &[Role::User, Role::Admin])];

/// Whose rows a table holds, which decides the owner id of `TableFixture::owned_rows`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    /// Rows belong to a data controller.
    Controller,
    /// Rows belong to a staff user.
    User,
}

/// How the matrix finds and writes the rows of one table.
struct TableFixture {
    owner: Owner,
    /// An admin query with the variable `$owner: uuid!` whose `rows` field
    /// lists the rows of that controller or user.
    owned_rows: &'static str,
    /// An admin query with the variable `$subject: uuid!` whose `rows` field
    /// lists the rows that data subject may read: its own rows, or the public
    /// rows of its controller. `None` for tables no data subject may read.
    subject_rows: Option<&'static str>,
    /// An admin query with the variable `$controller: uuid!` whose `rows`
    /// field lists the rows anyone may read below that controller. `None`
    /// for tables that are not public.
    public_rows: Option<&'static str>,
    /// `_set` of the update attempts, in columns the roles with update permission may set.
    set: Option<Value>,
    /// An insert object aimed at tenant B, given B's rows and the caller's
    /// user id (or subject id for role `dataSubject`).
    insert: Option<fn(&Seeded, Uuid) -> Value>,
    /// An insert object in the columns role `dataSubject` may insert that
    /// names B's rows. `None` where those columns cannot name another row,
    /// so that the session presets alone decide whose row is inserted.
    subject_insert: Option<fn(&Seeded) -> Value>,
}

/// Returns a 64-digit hex string, the form of the HMAC-SHA256 in `valueHash`.
fn value_hash() -> String {
    format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple())
}

/// Returns the fixture of the catalog table with SQL name `table`.
fn table_fixture(table: &str) -> Option<TableFixture> {
    Some(match table {
        "users" => TableFixture {
            owner: Owner::User,
            owned_rows: "query ($owner: uuid!) { rows: users(where: {id: {_eq: $owner}}) { id } }",
            subject_rows: None,
            public_rows: None,
            set: Some(json!({ "displayName": "Taken over" })),
            insert: None,
            subject_insert: None,
        },
        "personal_access_tokens" => TableFixture {
            owner: Owner::User,
            owned_rows: "query ($owner: uuid!) { rows: personalAccessTokens(where: {userId: {_eq: $owner}}) { id } }",
            subject_rows: None,
            public_rows: None,
            set: Some(json!({ "name": "Taken over" })),
            insert: None,
            subject_insert: None,
        },
        "data_controllers" => TableFixture {
            owner: Owner::Controller,
            owned_rows: "query ($owner: uuid!) { rows: dataControllers(where: {id: {_eq: $owner}}) { id } }",
            subject_rows: Some(
                "query ($subject: uuid!) { rows: dataControllers(where: {dataSubjects: {id: {_eq: $subject}}}) { id } }",
            ),
            public_rows: Some(
                "query ($controller: uuid!) { rows: dataControllers(where: {id: {_eq: $controller}}) { id } }",
            ),
            set: Some(json!({ "title": "Taken over" })),
            insert: None,
            subject_insert: None,
        },
        "data_controller_users" => TableFixture {
            owner: Owner::Controller,
            owned_rows: "query ($owner: uuid!) { rows: dataControllerUsers(where: {dataControllerId: {_eq: $owner}}) { id } }",
            subject_rows: None,
            public_rows: None,
            set: Some(json!({ "role": "owner" })),
            insert: Some(
                |b, actor| json!({ "dataControllerId": b.tenant.controller_id, "userId": actor, "role": "owner" }),
            ),
            subject_insert: None,
        },
        "data_subjects" => TableFixture {
            owner: Owner::Controller,
            owned_rows: "query ($owner: uuid!) { rows: dataSubjects(where: {dataControllerId: {_eq: $owner}}) { id } }",
            subject_rows: Some(
                "query ($subject: uuid!) { rows: dataSubjects(where: {id: {_eq: $subject}}) { id } }",
            ),
            public_rows: None,
            set: Some(json!({ "doNotTrack": true })),
            insert: Some(|b, _| json!({ "dataControllerId": b.tenant.controller_id })),
            subject_insert: None,
        },
        "data_controller_processing_purposes" => TableFixture {
            owner: Owner::Controller,
            owned_rows: "query ($owner: uuid!) { rows: dataControllerProcessingPurposes(where: {dataControllerId: {_eq: $owner}}) { id } }",
            subject_rows: Some(
                "query ($subject: uuid!) { rows: dataControllerProcessingPurposes(where: {dataController: {dataSubjects: {id: {_eq: $subject}}}}) { id } }",
            ),
            public_rows: Some(
                "query ($controller: uuid!) { rows: dataControllerProcessingPurposes(where: {dataControllerId: {_eq: $controller}}) { id } }",
            ),
            set: Some(json!({ "title": "Taken over" })),
            insert: Some(|b, _| {
                json!({
                    "dataControllerId": b.tenant.controller_id,
                    "title": "Sneaky",
                    "category": "analytics",
                    "legalBasis": "consent",
                    "consentMode": "opt_in",
                })
            }),
            subject_insert: None,
        },
        "data_subject_consent_form_values" => TableFixture {
            owner: Owner::Controller,
            owned_rows: "query ($owner: uuid!) { rows: dataSubjectConsentFormValues(where: {dataSubject: {dataControllerId: {_eq: $owner}}}) { id } }",
            subject_rows: Some(
                "query ($subject: uuid!) { rows: dataSubjectConsentFormValues(where: {dataSubjectId: {_eq: $subject}}) { id } }",
            ),
            public_rows: None,
            set: Some(json!({ "value": "false" })),
            insert: Some(|b, _| {
                json!({
                    "dataSubjectId": b.subject,
                    "dataControllerProcessingPurposeId": b.purpose,
                    "value": "false",
                })
            }),
            // The subject's own consent, but for a purpose of B.
            subject_insert: Some(
                |b| json!({ "dataControllerProcessingPurposeId": b.purpose, "value": "false" }),
            ),
        },
        "data_subject_rights_requests" => TableFixture {
            owner: Owner::Controller,
            owned_rows: "query ($owner: uuid!) { rows: dataSubjectRightsRequests(where: {dataControllerId: {_eq: $owner}}) { id } }",
            subject_rows: Some(
                "query ($subject: uuid!) { rows: dataSubjectRightsRequests(where: {dataSubjectId: {_eq: $subject}}) { id } }",
            ),
            public_rows: None,
            set: Some(json!({ "verified": true })),
            insert: Some(|b, _| json!({ "dataSubjectId": b.subject, "requestType": "erasure" })),
            subject_insert: None,
        },
        "data_processors" => TableFixture {
            owner: Owner::Controller,
            owned_rows: "query ($owner: uuid!) { rows: dataProcessors(where: {dataControllerId: {_eq: $owner}}) { id } }",
            subject_rows: Some(
                "query ($subject: uuid!) { rows: dataProcessors(where: {dataController: {dataSubjects: {id: {_eq: $subject}}}}) { id } }",
            ),
            public_rows: Some(
                "query ($controller: uuid!) { rows: dataProcessors(where: {dataControllerId: {_eq: $controller}}) { id } }",
            ),
            set: Some(json!({ "name": "Taken over" })),
            insert: Some(
                |b, _| json!({ "dataControllerId": b.tenant.controller_id, "name": "Sneaky hosting" }),
            ),
            subject_insert: None,
        },
        "privacy_notices" => TableFixture {
            owner: Owner::Controller,
            owned_rows: "query ($owner: uuid!) { rows: privacyNotices(where: {dataControllerId: {_eq: $owner}}) { id } }",
            subject_rows: Some(
                "query ($subject: uuid!) { rows: privacyNotices(where: {dataController: {dataSubjects: {id: {_eq: $subject}}}, publishedAt: {_is_null: false}}) { id } }",
            ),
            public_rows: Some(
                "query ($controller: uuid!) { rows: privacyNotices(where: {dataControllerId: {_eq: $controller}, publishedAt: {_is_null: false}}) { id } }",
            ),
            set: Some(json!({ "title": "Taken over" })),
            insert: Some(|b, _| {
                json!({
                    "dataControllerId": b.tenant.controller_id,
                    "kind": "privacy_policy",
                    "language": "en",
                    "version": "99",
                    "body": "Sneaky",
                })
            }),
            subject_insert: None,
        },
        "processing_activities" => TableFixture {
            owner: Owner::Controller,
            owned_rows: "query ($owner: uuid!) { rows: processingActivities(where: {dataControllerId: {_eq: $owner}}) { id } }",
            subject_rows: Some(
                "query ($subject: uuid!) { rows: processingActivities(where: {dataSubjectId: {_eq: $subject}}) { id } }",
            ),
            public_rows: None,
            // Only the admin may update activities, and the matrix tests no admin writes.
            set: Some(json!({ "activity": "Taken over" })),
            insert: Some(|b, _| {
                json!({
                    "dataControllerId": b.tenant.controller_id,
                    "dataSubjectId": b.subject,
                    "activity": "Sneaky",
                    "source": "matrix",
                })
            }),
            subject_insert: None,
        },
        "data_subject_identifiers" => TableFixture {
            owner: Owner::Controller,
            owned_rows: "query ($owner: uuid!) { rows: dataSubjectIdentifiers(where: {dataSubject: {dataControllerId: {_eq: $owner}}}) { id } }",
            subject_rows: Some(
                "query ($subject: uuid!) { rows: dataSubjectIdentifiers(where: {dataSubjectId: {_eq: $subject}}) { id } }",
            ),
            public_rows: None,
            // Only the admin may update identifiers, and the matrix tests no admin writes.
            set: Some(json!({ "source": "Taken over" })),
            insert: Some(|b, _| {
                json!({
                    "dataSubjectId": b.subject,
                    "kind": "email",
                    "valueHash": value_hash(),
                    "source": "matrix",
                })
            }),
            subject_insert: None,
        },
        // No role writes the audit log through GraphQL. Writes to other tables append to it.
        "audit_log" => TableFixture {
            owner: Owner::Controller,
            owned_rows: "query ($owner: uuid!) { rows: auditLogs(where: {dataControllerId: {_eq: $owner}}) { id } }",
            subject_rows: None,
            public_rows: None,
            set: None,
            insert: None,
            subject_insert: None,
        },
        "consent_events" => TableFixture {
            owner: Owner::Controller,
            owned_rows: "query ($owner: uuid!) { rows: consentEvents(where: {dataControllerId: {_eq: $owner}}) { id } }",
            subject_rows: Some(
                "query ($subject: uuid!) { rows: consentEvents(where: {dataSubjectId: {_eq: $subject}}) { id } }",
            ),
            public_rows: None,
            set: None,
            insert: None,
            subject_insert: None,
        },
        _ => return None,
    })
}

/// Looks up every catalog table's fixture, failing on the first table without one.
fn fixtures() -> BTreeMap<&'static str, TableFixture> {
    ombud_graphql::catalog()
        .tables
        .iter()
        .map(|table| {
            let fixture = table_fixture(table.sql).unwrap_or_else(|| {
                panic!(
                    "catalog table {} has no entry in table_fixture() of permission_matrix.rs. \
                     Add how to find one owner's rows, the _set of updates and an insert \
                     object aimed at tenant B",
                    table.sql
                )
            });
            (table.sql, fixture)
        })
        .collect()
}

/// Starts a server with the matrix's JWT secret, so that the tests can mint data subject tokens.
async fn spawn_matrix_app() -> TestApp {
    spawn_app_with(|settings| {
        settings.auth.jwt_secret = Some(Secret::new(JWT_SECRET.to_owned()));
    })
    .await
}

/// Issues a session token of role `dataSubject` for `subject`, as a magic-link sign-in would.
fn subject_token(subject: Uuid) -> String {
    let codec = JwtCodec::new(JWT_SECRET.as_bytes(), "ombud".to_owned(), 30).expect("a codec");
    let extra = BTreeMap::from([(DATA_SUBJECT_ID.to_owned(), subject.to_string())]);
    codec
        .issue(
            subject,
            vec!["dataSubject".to_owned()],
            "dataSubject".to_owned(),
            extra,
            3600,
            chrono::Utc::now().timestamp(),
        )
        .expect("a token")
}

/// One tenant with rows in every controller-owned table.
struct Seeded {
    tenant: Tenant,
    /// The first of the tenant's two data subjects. The second one's rows
    /// are foreign to the first, like B's.
    subject: Uuid,
    purpose: Uuid,
}

/// Runs one insert mutation as the tenant's owner and returns the id of the new row.
async fn insert_as_owner(app: &TestApp, tenant: &Tenant, root_field: &str, object: Value) -> Uuid {
    let table = ombud_graphql::catalog()
        .tables
        .iter()
        .find(|table| table.insert_one_field() == root_field)
        .unwrap_or_else(|| panic!("no catalog table has the root field {root_field}"));
    let response = app
        .graphql_user(
            &tenant.access_token,
            &format!(
                "mutation ($object: {}_insert_input!) {{ row: {root_field}(object: $object) {{ id }} }}",
                table.sql
            ),
            json!({ "object": object }),
        )
        .await;
    parse_uuid(&response.data()["row"]["id"])
}

/// Gives `subject` a consent value, a rights request, a processing activity
/// and an identifier.
async fn seed_subject_rows(app: &TestApp, tenant: &Tenant, subject: Uuid, purpose: Uuid) {
    let consent = app
        .upsert_consents(
            &tenant.access_token,
            tenant.controller_id,
            Some(subject),
            json!({ purpose.to_string(): true }),
        )
        .await;
    assert_eq!(consent["upsertedCount"], json!(1), "{consent}");

    app.insert_rights_request(&tenant.access_token, subject, "access")
        .await;

    insert_as_owner(
        app,
        tenant,
        "insertProcessingActivity",
        json!({
            "dataControllerId": tenant.controller_id,
            "dataSubjectId": subject,
            "dataControllerProcessingPurposeId": purpose,
            "activity": "newsletter sent",
            "source": "matrix",
        }),
    )
    .await;

    insert_as_owner(
        app,
        tenant,
        "insertDataSubjectIdentifier",
        json!({ "dataSubjectId": subject, "kind": "email", "valueHash": value_hash(), "source": "matrix" }),
    )
    .await;
}

async fn seed(app: &TestApp, email: &str, title: &str) -> Seeded {
    let tenant = app.tenant(email, title).await;
    let subject = app
        .insert_subject(&tenant.access_token, tenant.controller_id)
        .await;
    let other_subject = app
        .insert_subject(&tenant.access_token, tenant.controller_id)
        .await;
    let purpose = app
        .insert_purpose(
            &tenant.access_token,
            tenant.controller_id,
            &format!("{title} analytics"),
            None,
        )
        .await;
    seed_subject_rows(app, &tenant, subject, purpose).await;
    seed_subject_rows(app, &tenant, other_subject, purpose).await;

    insert_as_owner(
        app,
        &tenant,
        "insertDataProcessor",
        json!({ "dataControllerId": tenant.controller_id, "name": format!("{title} hosting") }),
    )
    .await;

    // Anonymous callers and data subjects must see the published notice and never the draft.
    for (version, published_at) in [("1", json!("2026-01-01T00:00:00Z")), ("2", Value::Null)] {
        insert_as_owner(
            app,
            &tenant,
            "insertPrivacyNotice",
            json!({
                "dataControllerId": tenant.controller_id,
                "kind": "privacy_policy",
                "language": "en",
                "version": version,
                "body": format!("# {title} privacy policy, version {version}"),
                "publishedAt": published_at,
            }),
        )
        .await;
    }

    Seeded {
        tenant,
        subject,
        purpose,
    }
}

/// A signed-in staff user of tenant A.
struct Actor {
    /// The membership role, for messages.
    name: &'static str,
    user_id: Uuid,
    access_token: String,
}

/// Both tenants, A's three members, A's first data subject, and every table's rows by owner.
struct World {
    a: Seeded,
    b: Seeded,
    actors: Vec<Actor>,
    /// A `dataSubject` session token for A's first subject.
    subject_token: String,
    fixtures: BTreeMap<&'static str, TableFixture>,
    /// Ids of every row of each table, read as admin.
    all: BTreeMap<&'static str, BTreeSet<Uuid>>,
    /// Ids of the rows of each table that belong to tenant A or to B: their
    /// controller's rows, or their owner's rows for user-owned tables.
    tenant_a: BTreeMap<&'static str, BTreeSet<Uuid>>,
    tenant_b: BTreeMap<&'static str, BTreeSet<Uuid>>,
    /// Ids of the rows A's first subject may read, for tables with `subject_rows`.
    subject_rows: BTreeMap<&'static str, BTreeSet<Uuid>>,
    /// Ids of the rows anyone may read below each tenant's controller, by
    /// controller id, for tables with `public_rows`.
    public_rows: BTreeMap<Uuid, BTreeMap<&'static str, BTreeSet<Uuid>>>,
}

impl World {
    async fn build(app: &TestApp) -> World {
        let fixtures = fixtures();
        let a = seed(app, "alice@example.com", "A").await;
        let b = seed(app, "bob@example.com", "B").await;
        let owner = Actor {
            name: "owner",
            user_id: a.tenant.user_id,
            access_token: a.tenant.access_token.clone(),
        };
        let viewer = member(app, "viewer@example.com", a.tenant.controller_id, "viewer").await;
        let developer = member(
            app,
            "developer@example.com",
            a.tenant.controller_id,
            "developer",
        )
        .await;

        let mut all = BTreeMap::new();
        let mut tenant_a = BTreeMap::new();
        let mut tenant_b = BTreeMap::new();
        let mut subject_rows = BTreeMap::new();
        let mut public_rows: BTreeMap<Uuid, BTreeMap<&'static str, BTreeSet<Uuid>>> =
            BTreeMap::new();
        for table in &ombud_graphql::catalog().tables {
            let fixture = &fixtures[table.sql];
            let (a_owner, b_owner) = match fixture.owner {
                Owner::Controller => (a.tenant.controller_id, b.tenant.controller_id),
                Owner::User => (a.tenant.user_id, b.tenant.user_id),
            };
            let a_rows = owned_rows(app, fixture.owned_rows, "owner", a_owner).await;
            let b_rows = owned_rows(app, fixture.owned_rows, "owner", b_owner).await;
            assert!(
                !a_rows.is_empty() && !b_rows.is_empty(),
                "the fixture has no rows of {} for one tenant, so the matrix would prove nothing: \
                 A {a_rows:?}, B {b_rows:?}",
                table.sql
            );
            all.insert(table.sql, all_rows(app, table).await);
            tenant_a.insert(table.sql, a_rows);
            tenant_b.insert(table.sql, b_rows);

            if let Some(query) = fixture.subject_rows {
                let rows = owned_rows(app, query, "subject", a.subject).await;
                assert!(
                    !rows.is_empty(),
                    "A's first subject has no rows of {}, so the matrix would prove nothing",
                    table.sql
                );
                subject_rows.insert(table.sql, rows);
            }
            if let Some(query) = fixture.public_rows {
                for controller in [a.tenant.controller_id, b.tenant.controller_id] {
                    let rows = owned_rows(app, query, "controller", controller).await;
                    assert!(
                        !rows.is_empty(),
                        "controller {controller} has no public rows of {}, so the matrix \
                         would prove nothing",
                        table.sql
                    );
                    public_rows
                        .entry(controller)
                        .or_default()
                        .insert(table.sql, rows);
                }
            }
        }

        World {
            subject_token: subject_token(a.subject),
            a,
            b,
            actors: vec![owner, viewer, developer],
            fixtures,
            all,
            tenant_a,
            tenant_b,
            subject_rows,
            public_rows,
        }
    }

    /// Rows of `table` that `actor` owns through their user id.
    async fn own_rows(&self, app: &TestApp, table: &Table, actor: &Actor) -> BTreeSet<Uuid> {
        let fixture = &self.fixtures[table.sql];
        assert_eq!(
            fixture.owner,
            Owner::User,
            "role me reads {}, whose rows belong to controllers; give it a user-owned fixture",
            table.sql
        );
        owned_rows(app, fixture.owned_rows, "owner", actor.user_id).await
    }

    /// Rows of `table` that A's first data subject may read.
    fn subject_rows(&self, table: &Table) -> &BTreeSet<Uuid> {
        self.subject_rows.get(table.sql).unwrap_or_else(|| {
            panic!(
                "role dataSubject reads {}, but its fixture has no subject_rows query",
                table.sql
            )
        })
    }

    /// Rows of every table role `dataSubject` reads that A's first subject must not see.
    fn subject_foreign(&self) -> BTreeMap<&'static str, BTreeSet<Uuid>> {
        ombud_graphql::catalog()
            .tables
            .iter()
            .filter(|table| table.select_permission(Role::DataSubject).is_some())
            .map(|table| {
                let own = self.subject_rows(table);
                (
                    table.sql,
                    self.all[table.sql].difference(own).copied().collect(),
                )
            })
            .collect()
    }
}

/// Signs in a new user who has `role` in `controller_id` and no other membership.
async fn member(app: &TestApp, email: &str, controller_id: Uuid, role: &'static str) -> Actor {
    let (user_id, personal_access_token) = app.create_user(email).await;
    let response = app
        .graphql_admin(
            "mutation ($object: data_controller_users_insert_input!) { insertDataControllerUser(object: $object) { role } }",
            json!({ "object": { "dataControllerId": controller_id, "userId": user_id, "role": role } }),
        )
        .await;
    assert_eq!(
        response.data()["insertDataControllerUser"]["role"],
        json!(role)
    );
    let (access_token, _) = app.sign_in_pat(&personal_access_token).await;
    Actor {
        name: role,
        user_id,
        access_token,
    }
}

fn id_set(rows: &Value) -> BTreeSet<Uuid> {
    rows.as_array()
        .unwrap_or_else(|| panic!("expected a list of rows, got {rows}"))
        .iter()
        .map(|row| parse_uuid(&row["id"]))
        .collect()
}

/// Runs a fixture's admin query with `id` as the variable `variable` and returns the ids in `rows`.
async fn owned_rows(app: &TestApp, query: &str, variable: &str, id: Uuid) -> BTreeSet<Uuid> {
    let response = app.graphql_admin(query, json!({ variable: id })).await;
    id_set(&response.data()["rows"])
}
async fn all_rows(app: &TestApp, table: &Table) -> BTreeSet<Uuid> {
    let response = app
        .graphql_admin(&format!("{{ rows: {} {{ id }} }}", table.plural), json!({}))
        .await;
    id_set(&response.data()["rows"])
}

/// Reads every admin-readable column of every catalog table and counts the
/// consent history that consent updates append to, to show a write changed nothing.
async fn snapshot(app: &TestApp) -> Value {
    let mut fields = String::new();
    for table in &ombud_graphql::catalog().tables {
        let Some(permission) = table.select_permission(Role::Admin) else {
            continue;
        };
        fields.push_str(&format!(
            "{}: {}(orderBy: {{id: asc}}) {{ {} }} ",
            table.sql,
            table.plural,
            permission.columns.join(" ")
        ));
    }
    let response = app
        .graphql_admin(&format!("{{ {fields} }}"), json!({}))
        .await;
    let consent_events = app.count("SELECT count(*) FROM consent_events", &[]).await;
    json!({ "tables": response.data(), "consentEvents": consent_events })
}

/// Names the parts of two snapshots that differ.
fn snapshot_difference(before: &Value, after: &Value) -> String {
    let mut changed = Vec::new();
    for table in &ombud_graphql::catalog().tables {
        let (old, new) = (&before["tables"][table.sql], &after["tables"][table.sql]);
        if old != new {
            changed.push(format!("{}: {old} -> {new}", table.sql));
        }
    }
    if before["consentEvents"] != after["consentEvents"] {
        changed.push(format!(
            "consent_events count: {} -> {}",
            before["consentEvents"], after["consentEvents"]
        ));
    }
    changed.join("; ")
}

/// Counts checks and collects failures, so one run reports every broken cell.
#[derive(Default)]
struct Checks {
    count: usize,
    failures: Vec<String>,
}

impl Checks {
    fn check(&mut self, passed: bool, context: &str, message: impl FnOnce() -> String) {
        self.count += 1;
        if !passed {
            self.failures.push(format!("{context}: {}", message()));
        }
    }

    /// Returns `data` of a response, or records a failure when it has errors.
    fn data(&mut self, context: &str, response: &GraphqlResponse) -> Option<Value> {
        let ok =
            response.status == reqwest::StatusCode::OK && response.body.get("errors").is_none();
        self.check(ok, context, || {
            format!("unexpected errors: {}", response.body)
        });
        ok.then(|| response.body["data"].clone())
    }

    fn finish(self, name: &str) {
        eprintln!("{name}: {} generated checks", self.count);
        assert!(
            self.failures.is_empty(),
            "{} of {} checks failed:\n{}",
            self.failures.len(),
            self.count,
            self.failures.join("\n")
        );
    }
}

/// Who sends a request: a member of A under role `user` or `me`, A's first
/// data subject, a caller without credentials, or the admin secret.
#[derive(Clone, Copy)]
enum Caller<'w> {
    Member(&'w Actor, Role),
    /// Role `dataSubject` with the session token of A's first subject.
    Subject(&'w str),
    /// No `Authorization` header, which selects role `anonymous`.
    Anonymous,
    Admin,
}

impl Caller<'_> {
    /// Returns the role the caller's requests run as.
    fn role(&self) -> Role {
        match self {
            Caller::Member(_, role) => *role,
            Caller::Subject(_) => Role::DataSubject,
            Caller::Anonymous => Role::Anonymous,
            Caller::Admin => Role::Admin,
        }
    }

    fn describe(&self) -> String {
        match self {
            Caller::Member(actor, role) => format!("{}/{}", role.as_str(), actor.name),
            Caller::Subject(_) => "dataSubject/A's first subject".to_owned(),
            Caller::Anonymous => "anonymous".to_owned(),
            Caller::Admin => "admin".to_owned(),
        }
    }

    async fn graphql(&self, app: &TestApp, query: &str, variables: Value) -> GraphqlResponse {
        match self {
            Caller::Member(actor, role) => {
                app.graphql_as(&actor.access_token, role.as_str(), query, variables)
                    .await
            }
            Caller::Subject(token) => {
                app.graphql_as(token, Role::DataSubject.as_str(), query, variables)
                    .await
            }
            Caller::Anonymous => {
                app.graphql_raw(
                    &[],
                    json!({ "query": query, "variables": variables }).to_string(),
                )
                .await
            }
            Caller::Admin => app.graphql_admin(query, variables).await,
        }
    }
}

/// What one caller may see of one table.
struct Expectation {
    /// The rows the list must return exactly, when known.
    exactly: Option<BTreeSet<Uuid>>,
    /// Rows the list may return.
    allowed: BTreeSet<Uuid>,
    /// Rows of the other tenant or user, which no field may return.
    foreign: BTreeSet<Uuid>,
}

fn sorted(ids: &BTreeSet<Uuid>) -> Vec<String> {
    ids.iter().map(Uuid::to_string).collect()
}

/// Checks the list, by-id and aggregate roots of `table` for `caller`.
async fn check_roots(
    app: &TestApp,
    checks: &mut Checks,
    caller: Caller<'_>,
    table: &Table,
    expectation: &Expectation,
) {
    let context = format!("{} {}", caller.describe(), table.sql);

    // (a) The list returns allowed rows only, and no foreign row.
    let response = caller
        .graphql(
            app,
            &format!("{{ rows: {} {{ id }} }}", table.plural),
            json!({}),
        )
        .await;
    if let Some(data) = checks.data(&format!("{context} list"), &response) {
        let listed = id_set(&data["rows"]);
        checks.check(
            listed.is_disjoint(&expectation.foreign),
            &format!("{context} list"),
            || {
                format!(
                    "returned foreign rows {:?}",
                    listed
                        .intersection(&expectation.foreign)
                        .collect::<Vec<_>>()
                )
            },
        );
        checks.check(
            listed.is_subset(&expectation.allowed),
            &format!("{context} list"),
            || {
                format!(
                    "returned rows outside {:?}: {listed:?}",
                    expectation.allowed
                )
            },
        );
        if let Some(exactly) = &expectation.exactly {
            checks.check(&listed == exactly, &format!("{context} list"), || {
                format!("expected exactly {exactly:?}, got {listed:?}")
            });
        }
    }

    // (b) The by-id root returns null for every foreign row.
    for id in &expectation.foreign {
        let response = caller
            .graphql(
                app,
                &format!(
                    "query ($id: uuid!) {{ row: {}(id: $id) {{ id }} }}",
                    table.singular
                ),
                json!({ "id": id }),
            )
            .await;
        let by_id = format!("{context} by id {id}");
        if let Some(data) = checks.data(&by_id, &response) {
            checks.check(data["row"].is_null(), &by_id, || {
                format!("returned a foreign row: {}", data["row"])
            });
        }
    }

    // The by-id root returns the rows the caller must see, so the nulls
    // above are not a root that returns nothing at all.
    for id in expectation.exactly.iter().flatten() {
        let response = caller
            .graphql(
                app,
                &format!(
                    "query ($id: uuid!) {{ row: {}(id: $id) {{ id }} }}",
                    table.singular
                ),
                json!({ "id": id }),
            )
            .await;
        let by_id = format!("{context} by id {id}");
        if let Some(data) = checks.data(&by_id, &response) {
            checks.check(data["row"]["id"] == json!(id.to_string()), &by_id, || {
                format!("did not return the caller's own row: {}", data["row"])
            });
        }
    }

    // (c) The aggregate root counts no foreign row.
    let response = caller
        .graphql(
            app,
            &format!(
                "query ($ids: [uuid!]!) {{ rows: {}(where: {{id: {{_in: $ids}}}}) {{ aggregate {{ count }} nodes {{ id }} }} }}",
                table.aggregate_field()
            ),
            json!({ "ids": sorted(&expectation.foreign) }),
        )
        .await;
    let aggregate = format!("{context} aggregate");
    if let Some(data) = checks.data(&aggregate, &response) {
        checks.check(
            data["rows"]["aggregate"]["count"] == json!(0),
            &aggregate,
            || format!("counted foreign rows: {}", data["rows"]),
        );
        checks.check(data["rows"]["nodes"] == json!([]), &aggregate, || {
            format!("returned foreign nodes: {}", data["rows"])
        });
    }

    // The aggregate of the rows the caller must see counts them, so the
    // zero above is not an aggregate that counts nothing at all.
    if let Some(exactly) = &expectation.exactly {
        let response = caller
            .graphql(
                app,
                &format!(
                    "query ($ids: [uuid!]!) {{ rows: {}(where: {{id: {{_in: $ids}}}}) {{ aggregate {{ count }} }} }}",
                    table.aggregate_field()
                ),
                json!({ "ids": sorted(exactly) }),
            )
            .await;
        if let Some(data) = checks.data(&aggregate, &response) {
            checks.check(
                data["rows"]["aggregate"]["count"] == json!(exactly.len()),
                &aggregate,
                || {
                    format!(
                        "expected a count of {}, got {}",
                        exactly.len(),
                        data["rows"]
                    )
                },
            );
        }
    }
}

/// (d) Checks every relationship of `table` that `role` may follow: nested
/// rows, nested aggregates and relationship filters reach no foreign row.
async fn check_relationships(
    app: &TestApp,
    checks: &mut Checks,
    caller: Caller<'_>,
    role: Role,
    table: &Table,
    foreign: &BTreeMap<&'static str, BTreeSet<Uuid>>,
) {
    let catalog = ombud_graphql::catalog();
    for relationship in &table.relationships {
        let Some(target) = catalog.table(relationship.target) else {
            continue;
        };
        if target.select_permission(role).is_none() {
            continue;
        }
        let context = format!("{} {}.{}", caller.describe(), table.sql, relationship.field);
        let foreign_targets = foreign.get(target.sql).cloned().unwrap_or_default();
        let ids = json!(sorted(&foreign_targets));
        let field = relationship.field;
        let plural = table.plural;

        let query = match relationship.kind {
            RelationshipKind::Array => format!(
                "query ($ids: [uuid!]!) {{
                   rows: {plural} {{
                     id
                     nested: {field} {{ id }}
                     filtered: {field}(where: {{id: {{_in: $ids}}}}) {{ id }}
                     counted: {field}Aggregate(where: {{id: {{_in: $ids}}}}) {{ aggregate {{ count }} }}
                   }}
                   through: {plural}(where: {{{field}: {{id: {{_in: $ids}}}}}}) {{ id }}
                 }}"
            ),
            RelationshipKind::Object => format!(
                "query ($ids: [uuid!]!) {{
                   rows: {plural} {{ id nested: {field} {{ id }} }}
                   through: {plural}(where: {{{field}: {{id: {{_in: $ids}}}}}}) {{ id }}
                 }}"
            ),
        };
        let response = caller.graphql(app, &query, json!({ "ids": ids })).await;
        let Some(data) = checks.data(&context, &response) else {
            continue;
        };

        let rows = data["rows"].as_array().cloned().unwrap_or_default();
        for row in &rows {
            let nested: BTreeSet<Uuid> = match relationship.kind {
                RelationshipKind::Array => id_set(&row["nested"]),
                RelationshipKind::Object if row["nested"].is_null() => BTreeSet::new(),
                RelationshipKind::Object => BTreeSet::from([parse_uuid(&row["nested"]["id"])]),
            };
            checks.check(nested.is_disjoint(&foreign_targets), &context, || {
                format!("row {} reaches foreign rows {nested:?}", row["id"])
            });
            if relationship.kind == RelationshipKind::Array {
                checks.check(row["filtered"] == json!([]), &context, || {
                    format!("row {} lists foreign rows {}", row["id"], row["filtered"])
                });
                checks.check(
                    row["counted"]["aggregate"]["count"] == json!(0),
                    &context,
                    || format!("row {} counts foreign rows {}", row["id"], row["counted"]),
                );
            }
        }
        checks.check(data["through"] == json!([]), &context, || {
            format!(
                "filtering through the relationship reached {}",
                data["through"]
            )
        });
    }
}

/// Builds what role `user` may see of `table` as one of A's members.
fn user_expectation(world: &World, table: &Table, actor: &Actor) -> Expectation {
    let own = world.tenant_a[table.sql].clone();
    Expectation {
        // Owners belong to every reader set of the catalog.
        exactly: (actor.name == "owner").then(|| own.clone()),
        allowed: own,
        foreign: world.tenant_b[table.sql].clone(),
    }
}

/// Selects the id and, for each relationship of `table` that `role` may
/// follow, the ids it reaches, `depth` levels deep. Array relationships also
/// get their aggregate count and a list filtered to `$hidden`.
fn nested_selection(table: &Table, role: Role, depth: usize) -> String {
    let catalog = ombud_graphql::catalog();
    let mut selection = String::from("id");
    if depth == 0 {
        return selection;
    }
    for relationship in &table.relationships {
        let Some(target) = catalog.table(relationship.target) else {
            continue;
        };
        if target.select_permission(role).is_none() {
            continue;
        }
        let field = relationship.field;
        let inner = nested_selection(target, role, depth - 1);
        selection.push_str(&format!(" {field} {{ {inner} }}"));
        if relationship.kind == RelationshipKind::Array {
            selection.push_str(&format!(
                " {field}Count: {field}Aggregate {{ aggregate {{ count }} }}
                  {field}Hidden: {field}(where: {{id: {{_in: $hidden}}}}) {{ id }}
                  {field}HiddenCount: {field}Aggregate(where: {{id: {{_in: $hidden}}}}) {{ aggregate {{ count }} }}"
            ));
        }
    }
    selection
}

/// Compares what an anonymous caller reached from one `row` of `table` with
/// the public rows of one controller, down `depth` levels of the
/// relationships that `nested_selection` selected.
fn check_public_row(
    checks: &mut Checks,
    context: &str,
    table: &Table,
    row: &Value,
    public: &BTreeMap<&'static str, BTreeSet<Uuid>>,
    depth: usize,
) {
    if depth == 0 {
        return;
    }
    let catalog = ombud_graphql::catalog();
    for relationship in &table.relationships {
        let Some(target) = catalog.table(relationship.target) else {
            continue;
        };
        if target.select_permission(Role::Anonymous).is_none() {
            continue;
        }
        let field = relationship.field;
        let context = format!("{context}.{field}");
        let Some(expected) = public.get(target.sql) else {
            checks.check(false, &context, || {
                format!(
                    "anonymous callers read {}, but its fixture has no public_rows query",
                    target.sql
                )
            });
            continue;
        };
        let nested = &row[field];
        let reached: Vec<&Value> = match relationship.kind {
            RelationshipKind::Array => nested.as_array().map(|rows| rows.iter().collect()),
            RelationshipKind::Object if nested.is_null() => Some(Vec::new()),
            RelationshipKind::Object => Some(vec![nested]),
        }
        .unwrap_or_default();
        let reached_ids: BTreeSet<Uuid> =
            reached.iter().map(|row| parse_uuid(&row["id"])).collect();
        checks.check(reached_ids.is_subset(expected), &context, || {
            format!(
                "row {} reaches rows that are not public: {:?}",
                row["id"],
                reached_ids.difference(expected).collect::<Vec<_>>()
            )
        });

        if relationship.kind == RelationshipKind::Array {
            // The public rows are reachable, so the absence of the others is not an empty list.
            checks.check(&reached_ids == expected, &context, || {
                format!(
                    "row {} reaches {reached_ids:?}, expected the public rows {expected:?}",
                    row["id"]
                )
            });
            checks.check(
                row[format!("{field}Count")]["aggregate"]["count"] == json!(expected.len()),
                &context,
                || {
                    format!(
                        "row {} counts {}, expected {}",
                        row["id"],
                        row[format!("{field}Count")],
                        expected.len()
                    )
                },
            );
            checks.check(row[format!("{field}Hidden")] == json!([]), &context, || {
                format!(
                    "row {} lists hidden rows {}",
                    row["id"],
                    row[format!("{field}Hidden")]
                )
            });
            checks.check(
                row[format!("{field}HiddenCount")]["aggregate"]["count"] == json!(0),
                &context,
                || {
                    format!(
                        "row {} counts hidden rows {}",
                        row["id"],
                        row[format!("{field}HiddenCount")]
                    )
                },
            );
        }

        for nested_row in reached {
            check_public_row(checks, &context, target, nested_row, public, depth - 1);
        }
    }
}

/// How many relationship levels below an entry row the anonymous checks follow.
const ANONYMOUS_DEPTH: usize = 2;

/// Fetches each tenant's controller by id without credentials, which is
/// allowed, and checks that the relationships below it reach exactly that
/// controller's public rows: never a draft notice nor the other tenant's rows.
async fn check_anonymous_reads(app: &TestApp, checks: &mut Checks, world: &World, table: &Table) {
    let caller = Caller::Anonymous;
    let Some(public_rows) = world.fixtures[table.sql].public_rows else {
        checks.check(false, &format!("anonymous {}", table.sql), || {
            "anonymous callers fetch this table by id, but its fixture has no public_rows query"
                .to_owned()
        });
        return;
    };

    for (name, seeded) in [("A", &world.a), ("B", &world.b)] {
        let controller = seeded.tenant.controller_id;
        let public = &world.public_rows[&controller];
        let context = format!("anonymous {} of {name}", table.sql);
        let hidden: BTreeSet<Uuid> = world
            .all
            .iter()
            .filter(|(table, _)| !ANONYMOUS_ENTRY_TABLES.contains(*table))
            .flat_map(|(table, rows)| {
                let visible = public.get(table).cloned().unwrap_or_default();
                rows.difference(&visible).copied().collect::<Vec<_>>()
            })
            .collect();
        let entry_rows = owned_rows(app, public_rows, "controller", controller).await;

        for id in &entry_rows {
            let query = format!(
                "query ($id: uuid!, $hidden: [uuid!]!) {{ row: {}(id: $id) {{ {} }} }}",
                table.singular,
                nested_selection(table, Role::Anonymous, ANONYMOUS_DEPTH)
            );
            let response = caller
                .graphql(app, &query, json!({ "id": id, "hidden": sorted(&hidden) }))
                .await;
            let Some(data) = checks.data(&context, &response) else {
                continue;
            };
            checks.check(data["row"]["id"] == json!(id.to_string()), &context, || {
                format!("the public row {id} by id returned {}", data["row"])
            });
            check_public_row(
                checks,
                &context,
                table,
                &data["row"],
                public,
                ANONYMOUS_DEPTH,
            );
        }
    }
}

#[tokio::test]
async fn matrix_reads_stay_in_tenant() {
    let app = spawn_matrix_app().await;
    let world = World::build(&app).await;
    let mut checks = Checks::default();
    let catalog = ombud_graphql::catalog();

    for role in Role::ALL {
        for table in &catalog.tables {
            if table.select_permission(role).is_none() {
                continue;
            }
            match role {
                Role::User => {
                    for actor in &world.actors {
                        let caller = Caller::Member(actor, role);
                        let expectation = user_expectation(&world, table, actor);
                        check_roots(&app, &mut checks, caller, table, &expectation).await;
                        check_relationships(
                            &app,
                            &mut checks,
                            caller,
                            role,
                            table,
                            &world.tenant_b,
                        )
                        .await;
                    }
                }
                Role::Me => {
                    for actor in &world.actors {
                        let caller = Caller::Member(actor, role);
                        let mut foreign: BTreeMap<&str, BTreeSet<Uuid>> = BTreeMap::new();
                        for other in &catalog.tables {
                            if other.select_permission(role).is_some() {
                                let own = world.own_rows(&app, other, actor).await;
                                foreign.insert(
                                    other.sql,
                                    world.all[other.sql].difference(&own).copied().collect(),
                                );
                            }
                        }
                        let own = world.own_rows(&app, table, actor).await;
                        let expectation = Expectation {
                            exactly: Some(own.clone()),
                            allowed: own,
                            foreign: foreign[table.sql].clone(),
                        };
                        check_roots(&app, &mut checks, caller, table, &expectation).await;
                        check_relationships(&app, &mut checks, caller, role, table, &foreign).await;
                    }
                }
                Role::DataSubject => {
                    let caller = Caller::Subject(&world.subject_token);
                    // Everything but the subject's own rows and its controller's
                    // public rows: B's rows, A's other subject and A's drafts.
                    let foreign = world.subject_foreign();
                    let own = world.subject_rows(table).clone();
                    let expectation = Expectation {
                        exactly: Some(own.clone()),
                        allowed: own,
                        foreign: foreign[table.sql].clone(),
                    };
                    check_roots(&app, &mut checks, caller, table, &expectation).await;
                    check_relationships(&app, &mut checks, caller, role, table, &foreign).await;
                }
                // Only the entry tables have a root field, and the other tables are read below them.
                Role::Anonymous if ANONYMOUS_ENTRY_TABLES.contains(&table.sql) => {
                    check_anonymous_reads(&app, &mut checks, &world, table).await;
                }
                Role::Anonymous => {}
                Role::Admin => check_admin_reads(&app, &mut checks, &world, table).await,
            }
        }
    }

    checks.finish("permission matrix reads");
}

/// Checks that the admin role lists, fetches and counts the rows of both tenants.
async fn check_admin_reads(app: &TestApp, checks: &mut Checks, world: &World, table: &Table) {
    let context = format!("admin {}", table.sql);
    let both: BTreeSet<Uuid> = world.tenant_a[table.sql]
        .union(&world.tenant_b[table.sql])
        .copied()
        .collect();

    let response = app
        .graphql_admin(&format!("{{ rows: {} {{ id }} }}", table.plural), json!({}))
        .await;
    if let Some(data) = checks.data(&context, &response) {
        let listed = id_set(&data["rows"]);
        checks.check(listed.is_superset(&both), &context, || {
            format!("expected both tenants' rows {both:?} in {listed:?}")
        });
    }

    for id in &both {
        let response = app
            .graphql_admin(
                &format!(
                    "query ($id: uuid!) {{ row: {}(id: $id) {{ id }} }}",
                    table.singular
                ),
                json!({ "id": id }),
            )
            .await;
        if let Some(data) = checks.data(&context, &response) {
            checks.check(data["row"]["id"] == json!(id.to_string()), &context, || {
                format!("by id {id} returned {}", data["row"])
            });
        }
    }

    let response = app
        .graphql_admin(
            &format!(
                "query ($ids: [uuid!]!) {{ rows: {}(where: {{id: {{_in: $ids}}}}) {{ aggregate {{ count }} }} }}",
                table.aggregate_field()
            ),
            json!({ "ids": sorted(&both) }),
        )
        .await;
    if let Some(data) = checks.data(&context, &response) {
        checks.check(
            data["rows"]["aggregate"]["count"] == json!(both.len()),
            &context,
            || format!("expected a count of {}, got {}", both.len(), data["rows"]),
        );
    }
}

/// Attempts every update and delete of `table` that `caller` has on each
/// foreign row, and checks that each reports nothing done and the database
/// is unchanged.
async fn check_foreign_writes(
    app: &TestApp,
    checks: &mut Checks,
    caller: Caller<'_>,
    table: &Table,
    role: Role,
    fixture: &TableFixture,
    foreign: &BTreeSet<Uuid>,
) {
    let Some(permissions) = table.permissions(role) else {
        return;
    };
    let context = format!("{} {}", caller.describe(), table.sql);
    let before = snapshot(app).await;

    if permissions.update.is_some() {
        let set = fixture.set.clone().unwrap_or_else(|| {
            panic!(
                "role {} may update {} but its fixture has no _set",
                role.as_str(),
                table.sql
            )
        });
        for id in foreign {
            let response = caller
                .graphql(
                    app,
                    &format!(
                        "mutation ($id: uuid!, $set: {name}_set_input!) {{
                           byId: {by_id}(pkColumns: {{id: $id}}, _set: $set) {{ id }}
                           bulk: {bulk}(where: {{id: {{_eq: $id}}}}, _set: $set) {{ affectedRows returning {{ id }} }}
                         }}",
                        name = table.sql,
                        by_id = table.update_one_field(),
                        bulk = table.update_many_field(),
                    ),
                    json!({ "id": id, "set": set }),
                )
                .await;
            let update = format!("{context} update {id}");
            if let Some(data) = checks.data(&update, &response) {
                expect_nothing_written(checks, &update, &data);
            }
        }
    }

    if permissions.delete.is_some() {
        for id in foreign {
            let response = caller
                .graphql(
                    app,
                    &format!(
                        "mutation ($id: uuid!) {{
                           byId: {by_id}(id: $id) {{ id }}
                           bulk: {bulk}(where: {{id: {{_eq: $id}}}}) {{ affectedRows returning {{ id }} }}
                         }}",
                        by_id = table.delete_one_field(),
                        bulk = table.delete_many_field(),
                    ),
                    json!({ "id": id }),
                )
                .await;
            let delete = format!("{context} delete {id}");
            if let Some(data) = checks.data(&delete, &response) {
                expect_nothing_written(checks, &delete, &data);
            }
        }
    }

    let after = snapshot(app).await;
    checks.check(before == after, &context, || {
        format!(
            "the database changed: {}",
            snapshot_difference(&before, &after)
        )
    });
}

/// Updates one of the caller's own rows with the fixture's `_set`, which must
/// succeed, so the nulls of the foreign updates are not an update that never
/// works. It runs after the foreign writes and snapshots of the same caller.
async fn check_own_update(
    app: &TestApp,
    checks: &mut Checks,
    caller: Caller<'_>,
    table: &Table,
    fixture: &TableFixture,
    own: &BTreeSet<Uuid>,
) {
    let context = format!("{} {} own update", caller.describe(), table.sql);
    let Some(id) = own.first() else {
        checks.check(false, &context, || "the caller owns no row".to_owned());
        return;
    };
    let response = caller
        .graphql(
            app,
            &format!(
                "mutation ($id: uuid!, $set: {}_set_input!) {{ byId: {}(pkColumns: {{id: $id}}, _set: $set) {{ id }} }}",
                table.sql,
                table.update_one_field()
            ),
            json!({ "id": id, "set": fixture.set }),
        )
        .await;
    if let Some(data) = checks.data(&context, &response) {
        checks.check(
            data["byId"]["id"] == json!(id.to_string()),
            &context,
            || format!("the update of an own row returned {}", data["byId"]),
        );
    }
}

/// A by-id write returns null, and a bulk write affects and returns no row.
fn expect_nothing_written(checks: &mut Checks, context: &str, data: &Value) {
    checks.check(data["byId"].is_null(), context, || {
        format!("the by-id mutation returned {}", data["byId"])
    });
    checks.check(data["bulk"]["affectedRows"] == json!(0), context, || {
        format!("the bulk mutation affected rows: {}", data["bulk"])
    });
    checks.check(data["bulk"]["returning"] == json!([]), context, || {
        format!("the bulk mutation returned rows: {}", data["bulk"])
    });
}

/// Attempts an insert of `object` aimed at tenant B, one row and a list of
/// one, and checks that both fail and change nothing. A column outside the
/// role's insert columns fails validation; otherwise the insert check rejects
/// the row with `permission-error`.
async fn check_foreign_inserts(
    app: &TestApp,
    checks: &mut Checks,
    caller: Caller<'_>,
    table: &Table,
    permission: &InsertPermission,
    object: Value,
) {
    let context = format!("{} {} insert", caller.describe(), table.sql);
    let fields: Vec<&String> = object
        .as_object()
        .unwrap_or_else(|| panic!("the insert object of {} is not an object", table.sql))
        .keys()
        .collect();
    let expected = if fields
        .iter()
        .all(|field| permission.columns.contains(&field.as_str()))
    {
        "permission-error"
    } else {
        "validation-failed"
    };
    let before = snapshot(app).await;

    let mut attempts = vec![
        (
            format!(
                "mutation ($object: {}_insert_input!) {{ {}(object: $object) {{ id }} }}",
                table.sql,
                table.insert_one_field()
            ),
            json!({ "object": object }),
        ),
        (
            format!(
                "mutation ($objects: [{}_insert_input!]!) {{ {}(objects: $objects) {{ affectedRows }} }}",
                table.sql,
                table.insert_many_field()
            ),
            json!({ "objects": [object] }),
        ),
    ];
    // The same insert as an upsert on each unique key, once leaving the
    // existing row alone and once updating every column the role may update.
    let update_columns: Vec<&str> = table
        .permissions(caller.role())
        .and_then(|permissions| permissions.update.as_ref())
        .map(|update| update.columns.clone())
        .unwrap_or_default();
    for (constraint, _) in ombud_graphql::metadata::conflict_constraints(table) {
        for columns in [Vec::new(), update_columns.clone()] {
            attempts.push((
                format!(
                    "mutation ($objects: [{0}_insert_input!]!, $conflict: {0}_on_conflict) {{ \
                       {1}(objects: $objects, onConflict: $conflict) {{ affectedRows returning {{ id }} }} }}",
                    table.sql,
                    table.insert_many_field()
                ),
                json!({
                    "objects": [object],
                    "conflict": { "constraint": constraint, "update_columns": columns },
                }),
            ));
        }
    }

    for (document, variables) in attempts {
        let response = caller.graphql(app, &document, variables).await;
        checks.check(response.error_code() == Some(expected), &context, || {
            format!("expected {expected} for {object}, got {}", response.body)
        });
    }

    let after = snapshot(app).await;
    checks.check(before == after, &context, || {
        format!(
            "the database changed: {}",
            snapshot_difference(&before, &after)
        )
    });
}

/// Inserts `object`, whose columns name no other row, and checks that the
/// new row takes each preset column from the caller's session, so the caller
/// cannot insert rows for anyone else.
async fn check_preset_insert(
    app: &TestApp,
    checks: &mut Checks,
    caller: Caller<'_>,
    table: &Table,
    permission: &InsertPermission,
    object: Value,
    session: &BTreeMap<&str, String>,
) {
    let context = format!("{} {} insert with presets", caller.describe(), table.sql);
    let preset_fields: Vec<&str> = permission.presets.iter().map(|(field, _)| *field).collect();
    checks.check(!preset_fields.is_empty(), &context, || {
        "the role's columns name no other row, yet the insert has no preset".to_owned()
    });
    let response = caller
        .graphql(
            app,
            &format!(
                "mutation ($object: {}_insert_input!) {{ row: {}(object: $object) {{ id {} }} }}",
                table.sql,
                table.insert_one_field(),
                preset_fields.join(" ")
            ),
            json!({ "object": object }),
        )
        .await;
    let Some(data) = checks.data(&context, &response) else {
        return;
    };
    for (field, preset) in &permission.presets {
        let Preset::Session(variable) = preset;
        let expected = session.get(variable).unwrap_or_else(|| {
            panic!("the matrix session of {context} has no variable {variable}")
        });
        checks.check(data["row"][field] == json!(expected), &context, || {
            format!(
                "expected {field} {expected} from {variable}, got {}",
                data["row"]
            )
        });
    }
}

#[tokio::test]
async fn matrix_writes_stay_in_tenant() {
    let app = spawn_matrix_app().await;
    let world = World::build(&app).await;
    let mut checks = Checks::default();
    let catalog = ombud_graphql::catalog();
    let subject_session = BTreeMap::from([(DATA_SUBJECT_ID, world.a.subject.to_string())]);

    for table in &catalog.tables {
        let fixture = &world.fixtures[table.sql];
        // The data subject goes first, so that its foreign updates meet the
        // seeded values and not values the staff's own updates already set.
        for role in [Role::DataSubject, Role::User, Role::Me] {
            let Some(permissions) = table.permissions(role) else {
                continue;
            };
            // The schema offers writes only on tables the role may also read.
            if permissions.select.is_none() {
                continue;
            }
            if role == Role::DataSubject {
                let caller = Caller::Subject(&world.subject_token);
                let own = world.subject_rows(table);
                let foreign: BTreeSet<Uuid> =
                    world.all[table.sql].difference(own).copied().collect();
                check_foreign_writes(&app, &mut checks, caller, table, role, fixture, &foreign)
                    .await;
                if let Some(insert) = &permissions.insert {
                    check_subject_inserts(
                        &app,
                        &mut checks,
                        &world,
                        table,
                        insert,
                        &subject_session,
                    )
                    .await;
                }
                if permissions.update.is_some() {
                    check_own_update(&app, &mut checks, caller, table, fixture, own).await;
                }
                continue;
            }
            for actor in &world.actors {
                let own = match role {
                    Role::Me => world.own_rows(&app, table, actor).await,
                    _ => world.tenant_a[table.sql].clone(),
                };
                let foreign = match role {
                    Role::Me => world.all[table.sql].difference(&own).copied().collect(),
                    _ => world.tenant_b[table.sql].clone(),
                };
                let caller = Caller::Member(actor, role);
                check_foreign_writes(&app, &mut checks, caller, table, role, fixture, &foreign)
                    .await;
                if let (Role::User, Some(insert)) = (role, &permissions.insert) {
                    let template = fixture.insert.unwrap_or_else(|| {
                        panic!(
                            "role user may insert into {} but its fixture has no insert object",
                            table.sql
                        )
                    });
                    let object = template(&world.b, actor.user_id);
                    check_foreign_inserts(&app, &mut checks, caller, table, insert, object).await;
                }
                // A's owner may update A's rows in every table that role
                // `user` may update; under `me` every user updates their own.
                if permissions.update.is_some() && (role == Role::Me || actor.name == "owner") {
                    check_own_update(&app, &mut checks, caller, table, fixture, &own).await;
                }
            }
        }
    }

    checks.finish("permission matrix writes");
}

/// Attempts the inserts of role `dataSubject` into `table`: the fixture's
/// object aimed at B's subject, which names a column the role may not set,
/// and `subject_insert`, which names B's rows in the columns it may set. Where
/// those columns name no other row, inserts one row and checks its presets.
async fn check_subject_inserts(
    app: &TestApp,
    checks: &mut Checks,
    world: &World,
    table: &Table,
    permission: &InsertPermission,
    session: &BTreeMap<&str, String>,
) {
    let caller = Caller::Subject(&world.subject_token);
    let fixture = &world.fixtures[table.sql];
    let template = fixture.insert.unwrap_or_else(|| {
        panic!(
            "role dataSubject may insert into {} but its fixture has no insert object",
            table.sql
        )
    });
    let object = template(&world.b, world.a.subject);
    check_foreign_inserts(app, checks, caller, table, permission, object.clone()).await;

    match fixture.subject_insert {
        Some(subject_template) => {
            let object = subject_template(&world.b);
            check_foreign_inserts(app, checks, caller, table, permission, object).await;
        }
        None => {
            // The fixture's object without the columns the role may not set.
            let own: serde_json::Map<String, Value> = object
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(field, _)| permission.columns.contains(&field.as_str()))
                .map(|(field, value)| (field.clone(), value.clone()))
                .collect();
            check_preset_insert(
                app,
                checks,
                caller,
                table,
                permission,
                Value::Object(own),
                session,
            )
            .await;
        }
    }
}

/// Lists the nine root fields the catalog can give a table, whether `role` has
/// each, and a document that uses it. Roles that do not list rows get only the
/// by-id field, and only of `ANONYMOUS_ENTRY_TABLES`.
fn root_fields(table: &Table, role: Role) -> [(String, bool, String); 9] {
    let permissions = table.permissions(role);
    let select = permissions.is_some_and(|p| p.select.is_some());
    let list = select && role.lists_rows();
    let by_id = select && (role.lists_rows() || ANONYMOUS_ENTRY_TABLES.contains(&table.sql));
    let insert = select && permissions.is_some_and(|p| p.insert.is_some());
    let update = select && permissions.is_some_and(|p| p.update.is_some());
    let delete = select && permissions.is_some_and(|p| p.delete.is_some());
    let nil = "00000000-0000-0000-0000-000000000000";
    [
        (
            table.plural.to_owned(),
            list,
            format!("{{ {} {{ id }} }}", table.plural),
        ),
        (
            table.singular.to_owned(),
            by_id,
            format!("{{ {}(id: \"{nil}\") {{ id }} }}", table.singular),
        ),
        (
            table.aggregate_field(),
            list,
            format!(
                "{{ {} {{ aggregate {{ count }} }} }}",
                table.aggregate_field()
            ),
        ),
        (
            table.insert_one_field(),
            insert,
            format!(
                "mutation {{ {}(object: {{}}) {{ id }} }}",
                table.insert_one_field()
            ),
        ),
        (
            table.insert_many_field(),
            insert,
            format!(
                "mutation {{ {}(objects: []) {{ affectedRows }} }}",
                table.insert_many_field()
            ),
        ),
        (
            table.update_one_field(),
            update,
            format!(
                "mutation {{ {}(pkColumns: {{id: \"{nil}\"}}) {{ id }} }}",
                table.update_one_field()
            ),
        ),
        (
            table.update_many_field(),
            update,
            format!(
                "mutation {{ {}(where: {{}}) {{ affectedRows }} }}",
                table.update_many_field()
            ),
        ),
        (
            table.delete_one_field(),
            delete,
            format!(
                "mutation {{ {}(id: \"{nil}\") {{ id }} }}",
                table.delete_one_field()
            ),
        ),
        (
            table.delete_many_field(),
            delete,
            format!(
                "mutation {{ {}(where: {{}}) {{ affectedRows }} }}",
                table.delete_many_field()
            ),
        ),
    ]
}

/// Returns the field names of the root `root` in an introspection result, or
/// no names when the schema has no such root.
fn field_names(data: &Value, root: &str) -> BTreeSet<String> {
    if data[root].is_null() {
        return BTreeSet::new();
    }
    data[root]["fields"]
        .as_array()
        .unwrap_or_else(|| panic!("no fields of {root} in {data}"))
        .iter()
        .map(|field| field["name"].as_str().expect("a field name").to_owned())
        .collect()
}

#[tokio::test]
async fn matrix_hides_unpermitted_operations() {
    let app = spawn_matrix_app().await;
    let world = World::build(&app).await;
    let mut checks = Checks::default();
    let catalog = ombud_graphql::catalog();
    let introspection = "{ query: __type(name: \"query_root\") { fields { name } } \
                           mutation: __type(name: \"mutation_root\") { fields { name } } }";
    let owner = &world.actors[0];

    for role in Role::ALL {
        let caller = match role {
            Role::Admin => Caller::Admin,
            Role::DataSubject => Caller::Subject(&world.subject_token),
            Role::Anonymous => Caller::Anonymous,
            Role::User | Role::Me => Caller::Member(owner, role),
        };
        let response = caller.graphql(&app, introspection, json!({})).await;
        let Some(data) = checks.data(&format!("{} introspection", role.as_str()), &response) else {
            continue;
        };
        let queries = field_names(&data, "query");
        let mutations = field_names(&data, "mutation");

        let mut table_queries = BTreeSet::new();
        let mut permitted_mutations: BTreeSet<String> = ACTIONS
            .iter()
            .filter(|(_, roles)| roles.contains(&role))
            .map(|(field, _)| (*field).to_owned())
            .collect();
        for table in &catalog.tables {
            for (field, permitted, document) in root_fields(table, role) {
                let context = format!("{} {} {field}", role.as_str(), table.sql);
                let offered = queries.contains(&field) || mutations.contains(&field);
                checks.check(offered == permitted, &context, || {
                    format!("the schema offers the field: {offered}, the catalog permits it: {permitted}")
                });
                if queries.contains(&field) {
                    table_queries.insert(field.clone());
                }
                if permitted && document.starts_with("mutation") {
                    permitted_mutations.insert(field.clone());
                }
                // Sent only when not permitted, because a permitted bulk write would run.
                if !permitted {
                    let response = caller.graphql(&app, &document, json!({})).await;
                    checks.check(
                        response.error_code() == Some("validation-failed"),
                        &context,
                        || format!("expected validation-failed, got {}", response.body),
                    );
                }
            }
        }

        // Every query root field comes from a catalog table.
        let unexplained: Vec<&String> = queries
            .iter()
            .filter(|field| !field.starts_with("__") && !table_queries.contains(*field))
            .collect();
        checks.check(
            unexplained.is_empty(),
            &format!("{} query_root", role.as_str()),
            || format!("fields not derived from the catalog: {unexplained:?}"),
        );

        // Every mutation root field comes from a catalog table or an action,
        // and a role without any has no mutation root at all.
        let context = format!("{} mutation_root", role.as_str());
        checks.check(mutations == permitted_mutations, &context, || {
            format!("expected the fields {permitted_mutations:?}, the schema offers {mutations:?}")
        });
        checks.check(
            data["mutation"].is_null() == permitted_mutations.is_empty(),
            &context,
            || {
                format!(
                    "the mutation root is {}, the catalog permits {permitted_mutations:?}",
                    data["mutation"]
                )
            },
        );
    }

    checks.finish("permission matrix schema");
}
