-- A data controller's registers (processors, privacy notices, processing
-- activities), the hashed identifiers that link a data subject to other
-- systems, and the audit log. Types follow 0001: ids, times and JSON are text,
-- booleans are 0/1 integers.

CREATE TABLE data_processors (
    id TEXT PRIMARY KEY NOT NULL,
    data_controller_id TEXT NOT NULL REFERENCES data_controllers (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT,
    -- JSON arrays of strings; locations holds ISO 3166-1 alpha-2 country codes.
    purposes TEXT NOT NULL DEFAULT '[]',
    data_categories TEXT NOT NULL DEFAULT '[]',
    locations TEXT NOT NULL DEFAULT '[]',
    transfer_safeguard TEXT CHECK (transfer_safeguard IN
        ('adequacy_decision', 'standard_contractual_clauses', 'binding_corporate_rules', 'derogation', 'none')),
    dpa_url TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX data_processors_controller ON data_processors (data_controller_id);

CREATE TABLE privacy_notices (
    id TEXT PRIMARY KEY NOT NULL,
    data_controller_id TEXT NOT NULL REFERENCES data_controllers (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN
        ('privacy_policy', 'cookie_policy', 'terms', 'notice_at_collection', 'other')),
    -- A BCP 47 language tag such as 'en' or 'de-CH'.
    language TEXT NOT NULL,
    version TEXT NOT NULL,
    title TEXT,
    -- Markdown.
    body TEXT NOT NULL,
    published_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (data_controller_id, kind, language, version)
);

CREATE TABLE processing_activities (
    id TEXT PRIMARY KEY NOT NULL,
    data_controller_id TEXT NOT NULL REFERENCES data_controllers (id) ON DELETE CASCADE,
    data_subject_id TEXT REFERENCES data_subjects (id) ON DELETE CASCADE,
    data_controller_processing_purpose_id TEXT
        REFERENCES data_controller_processing_purposes (id) ON DELETE SET NULL,
    activity TEXT NOT NULL,
    source TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX processing_activities_controller
    ON processing_activities (data_controller_id, occurred_at);
CREATE INDEX processing_activities_subject
    ON processing_activities (data_subject_id, occurred_at);
CREATE INDEX processing_activities_purpose
    ON processing_activities (data_controller_processing_purpose_id);

-- An identifier is kept only as a keyed HMAC (lowercase hex), so that records
-- from other systems can be linked to a subject without storing the value.
CREATE TABLE data_subject_identifiers (
    id TEXT PRIMARY KEY NOT NULL,
    data_subject_id TEXT NOT NULL REFERENCES data_subjects (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN
        ('email', 'phone', 'shopify_customer', 'stripe_customer', 'mailchimp_member',
         'woocommerce_customer', 'external')),
    value_hash TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (data_subject_id, kind, value_hash)
);
CREATE INDEX data_subject_identifiers_kind_value
    ON data_subject_identifiers (kind, value_hash);

-- Append-only record of every row written through the API. The controller
-- and actor ids are not foreign keys, so the history outlives a deleted
-- controller or user. `changes` holds the new values of changed columns that
-- are not personal data; `changed_columns` names all changed columns.
CREATE TABLE audit_log (
    id TEXT PRIMARY KEY NOT NULL,
    data_controller_id TEXT,
    actor_user_id TEXT,
    actor_role TEXT NOT NULL,
    operation TEXT NOT NULL CHECK (operation IN ('insert', 'update', 'delete')),
    table_name TEXT NOT NULL,
    row_id TEXT NOT NULL,
    changed_columns TEXT NOT NULL,
    changes TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX audit_log_controller_created ON audit_log (data_controller_id, created_at);
CREATE INDEX audit_log_row ON audit_log (row_id, created_at);
