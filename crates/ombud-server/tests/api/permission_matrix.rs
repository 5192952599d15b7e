//! A permission matrix generated from `ombud_graphql::catalog()`: every table
//! against every role, over two tenants, proving that no role reads or writes
//! the other tenant's rows.
//!
//! Tenant A has an owner, a viewer and a developer; tenant B has an owner. Each
//! tenant has one data subject, one processing purpose, one consent value and
//! one rights request. As role `user`, A's three members must not see or change
//! B's rows through list, by-id, aggregate and relationship fields, nor through
//! update, delete and insert. As role `me` they see and change only their own
//! account and PATs. The admin role reads the rows of both tenants.
//!
//! `table_fixture()` returns how to find one owner's rows of each table and
//! how to aim a write at B. A table added to the catalog without an entry
//! there fails every test here with the table's name.

use std::collections::{BTreeMap, BTreeSet};

use ombud_graphql::Role;
use ombud_graphql::metadata::{RelationshipKind, Table};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{GraphqlResponse, Tenant, TestApp, parse_uuid, spawn_app};

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
    /// `_set` of the update attempts, in columns the roles with update permission may set.
    set: Option<Value>,
    /// An insert object aimed at tenant B, given B's rows and the acting user.
    insert: Option<fn(&Seeded, Uuid) -> Value>,
}

/// Returns the fixture of the catalog table with SQL name `table`.
fn table_fixture(table: &str) -> Option<TableFixture> {
    Some(match table {
        "users" => TableFixture {
            owner: Owner::User,
            owned_rows: "query ($owner: uuid!) { rows: users(where: {id: {_eq: $owner}}) { id } }",
            set: Some(json!({ "displayName": "Taken over" })),
            insert: None,
        },
        "personal_access_tokens" => TableFixture {
            owner: Owner::User,
            owned_rows: "query ($owner: uuid!) { rows: personalAccessTokens(where: {userId: {_eq: $owner}}) { id } }",
            set: Some(json!({ "name": "Taken over" })),
            insert: None,
        },
        "data_controllers" => TableFixture {
            owner: Owner::Controller,
            owned_rows: "query ($owner: uuid!) { rows: dataControllers(where: {id: {_eq: $owner}}) { id } }",
            set: Some(json!({ "title": "Taken over" })),
            insert: None,
        },
        "data_controller_users" => TableFixture {
            owner: Owner::Controller,
            owned_rows: "query ($owner: uuid!) { rows: dataControllerUsers(where: {dataControllerId: {_eq: $owner}}) { id } }",
            set: Some(json!({ "role": "owner" })),
            insert: Some(
                |b, actor| json!({ "dataControllerId": b.tenant.controller_id, "userId": actor, "role": "owner" }),
            ),
        },
        "data_subjects" => TableFixture {
            owner: Owner::Controller,
            owned_rows: "query ($owner: uuid!) { rows: dataSubjects(where: {dataControllerId: {_eq: $owner}}) { id } }",
            set: Some(json!({ "doNotTrack": true })),
            insert: Some(|b, _| json!({ "dataControllerId": b.tenant.controller_id })),
        },
        "data_controller_processing_purposes" => TableFixture {
            owner: Owner::Controller,
            owned_rows: "query ($owner: uuid!) { rows: dataControllerProcessingPurposes(where: {dataControllerId: {_eq: $owner}}) { id } }",
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
        },
        "data_subject_consent_form_values" => TableFixture {
            owner: Owner::Controller,
            owned_rows: "query ($owner: uuid!) { rows: dataSubjectConsentFormValues(where: {dataSubject: {dataControllerId: {_eq: $owner}}}) { id } }",
            set: Some(json!({ "value": "false" })),
            insert: Some(|b, _| {
                json!({
                    "dataSubjectId": b.subject,
                    "dataControllerProcessingPurposeId": b.purpose,
                    "value": "false",
                })
            }),
        },
        "data_subject_rights_requests" => TableFixture {
            owner: Owner::Controller,
            owned_rows: "query ($owner: uuid!) { rows: dataSubjectRightsRequests(where: {dataControllerId: {_eq: $owner}}) { id } }",
            set: Some(json!({ "verified": true })),
            insert: Some(|b, _| json!({ "dataSubjectId": b.subject, "requestType": "erasure" })),
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

/// One tenant with one row in every controller-owned table.
struct Seeded {
    tenant: Tenant,
    subject: Uuid,
    purpose: Uuid,
}

async fn seed(app: &TestApp, email: &str, title: &str) -> Seeded {
    let tenant = app.tenant(email, title).await;
    let subject = app
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

/// Both tenants, A's three members, and every table's rows by owner.
struct World {
    b: Seeded,
    actors: Vec<Actor>,
    fixtures: BTreeMap<&'static str, TableFixture>,
    /// Ids of every row of each table, read as admin.
    all: BTreeMap<&'static str, BTreeSet<Uuid>>,
    /// Ids of the rows of each table that belong to tenant A or to B: their
    /// controller's rows, or their owner's rows for user-owned tables.
    tenant_a: BTreeMap<&'static str, BTreeSet<Uuid>>,
    tenant_b: BTreeMap<&'static str, BTreeSet<Uuid>>,
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
        for table in &ombud_graphql::catalog().tables {
            let fixture = &fixtures[table.sql];
            let (a_owner, b_owner) = match fixture.owner {
                Owner::Controller => (a.tenant.controller_id, b.tenant.controller_id),
                Owner::User => (a.tenant.user_id, b.tenant.user_id),
            };
            let a_rows = owned_rows(app, fixture, a_owner).await;
            let b_rows = owned_rows(app, fixture, b_owner).await;
            assert!(
                !a_rows.is_empty() && !b_rows.is_empty(),
                "the fixture has no rows of {} for one tenant, so the matrix would prove nothing: \
                 A {a_rows:?}, B {b_rows:?}",
                table.sql
            );
            all.insert(table.sql, all_rows(app, table).await);
            tenant_a.insert(table.sql, a_rows);
            tenant_b.insert(table.sql, b_rows);
        }

        World {
            b,
            actors: vec![owner, viewer, developer],
            fixtures,
            all,
            tenant_a,
            tenant_b,
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
        owned_rows(app, fixture, actor.user_id).await
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

async fn owned_rows(app: &TestApp, fixture: &TableFixture, owner: Uuid) -> BTreeSet<Uuid> {
    let response = app
        .graphql_admin(fixture.owned_rows, json!({ "owner": owner }))
        .await;
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

/// Who sends a request: a member of A under role `user` or `me`, or the admin secret.
#[derive(Clone, Copy)]
enum Caller<'w> {
    Member(&'w Actor, Role),
    Admin,
}

impl Caller<'_> {
    fn describe(&self) -> String {
        match self {
            Caller::Member(actor, role) => format!("{}/{}", role.as_str(), actor.name),
            Caller::Admin => "admin".to_owned(),
        }
    }

    async fn graphql(&self, app: &TestApp, query: &str, variables: Value) -> GraphqlResponse {
        match self {
            Caller::Member(actor, role) => {
                app.graphql_as(&actor.access_token, role.as_str(), query, variables)
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

#[tokio::test]
async fn matrix_reads_stay_in_tenant() {
    let app = spawn_app().await;
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
                Role::Admin => check_admin_reads(&app, &mut checks, &world, table).await,
                // TODO: the matrix does not cover these two roles yet; roles.rs
                // tests them by hand.
                Role::DataSubject | Role::Anonymous => {}
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

/// Attempts the insert of `fixture` aimed at tenant B, one row and a list of
/// one, and checks both fail with `permission-error` and change nothing.
async fn check_foreign_inserts(
    app: &TestApp,
    checks: &mut Checks,
    world: &World,
    actor: &Actor,
    table: &Table,
    fixture: &TableFixture,
) {
    let context = format!("user/{} {} insert", actor.name, table.sql);
    let template = fixture.insert.unwrap_or_else(|| {
        panic!(
            "role user may insert into {} but its fixture has no insert object",
            table.sql
        )
    });
    let object = template(&world.b, actor.user_id);
    let before = snapshot(app).await;

    for (document, variables) in [
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
    ] {
        let response = app
            .graphql_user(&actor.access_token, &document, variables)
            .await;
        checks.check(
            response.error_code() == Some("permission-error"),
            &context,
            || {
                format!(
                    "expected permission-error for {object}, got {}",
                    response.body
                )
            },
        );
    }

    let after = snapshot(app).await;
    checks.check(before == after, &context, || {
        format!(
            "the database changed: {}",
            snapshot_difference(&before, &after)
        )
    });
}

#[tokio::test]
async fn matrix_writes_stay_in_tenant() {
    let app = spawn_app().await;
    let world = World::build(&app).await;
    let mut checks = Checks::default();
    let catalog = ombud_graphql::catalog();

    for table in &catalog.tables {
        let fixture = &world.fixtures[table.sql];
        for role in [Role::User, Role::Me] {
            let Some(permissions) = table.permissions(role) else {
                continue;
            };
            // The schema offers writes only on tables the role may also read.
            if permissions.select.is_none() {
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
                if role == Role::User && permissions.insert.is_some() {
                    check_foreign_inserts(&app, &mut checks, &world, actor, table, fixture).await;
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

/// Lists the nine root fields the catalog can give a table, whether `role` has
/// each, and a document that uses it.
fn root_fields(table: &Table, role: Role) -> [(String, bool, String); 9] {
    let permissions = table.permissions(role);
    let select = permissions.is_some_and(|p| p.select.is_some());
    let insert = select && permissions.is_some_and(|p| p.insert.is_some());
    let update = select && permissions.is_some_and(|p| p.update.is_some());
    let delete = select && permissions.is_some_and(|p| p.delete.is_some());
    let nil = "00000000-0000-0000-0000-000000000000";
    [
        (
            table.plural.to_owned(),
            select,
            format!("{{ {} {{ id }} }}", table.plural),
        ),
        (
            table.singular.to_owned(),
            select,
            format!("{{ {}(id: \"{nil}\") {{ id }} }}", table.singular),
        ),
        (
            table.aggregate_field(),
            select,
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

fn field_names(data: &Value, root: &str) -> BTreeSet<String> {
    data[root]["fields"]
        .as_array()
        .unwrap_or_else(|| panic!("no fields of {root} in {data}"))
        .iter()
        .map(|field| field["name"].as_str().expect("a field name").to_owned())
        .collect()
}

#[tokio::test]
async fn matrix_hides_unpermitted_operations() {
    let app = spawn_app().await;
    let world = World::build(&app).await;
    let mut checks = Checks::default();
    let catalog = ombud_graphql::catalog();
    let introspection = "{ query: __type(name: \"query_root\") { fields { name } } \
                           mutation: __type(name: \"mutation_root\") { fields { name } } }";
    let owner = &world.actors[0];

    for role in Role::ALL {
        let caller = match role {
            Role::Admin => Caller::Admin,
            _ => Caller::Member(owner, role),
        };
        let response = caller.graphql(&app, introspection, json!({})).await;
        let Some(data) = checks.data(&format!("{} introspection", role.as_str()), &response) else {
            continue;
        };
        let queries = field_names(&data, "query");
        let mutations = field_names(&data, "mutation");

        let mut table_queries = BTreeSet::new();
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
    }

    checks.finish("permission matrix schema");
}
