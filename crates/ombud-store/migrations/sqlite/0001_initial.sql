-- Initial schema. Timestamps are UTC text in one fixed-width format,
-- 'YYYY-MM-DDTHH:MM:SS.ffffff+00:00', so that text order is time order.
-- Booleans are 0/1 integers; JSON values are text.

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL DEFAULT '',
    password_hash TEXT,
    default_role TEXT NOT NULL DEFAULT 'user',
    disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE personal_access_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TEXT NOT NULL,
    revoked_at TEXT,
    last_used_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX personal_access_tokens_user_id ON personal_access_tokens (user_id);

CREATE TABLE refresh_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TEXT NOT NULL,
    revoked_at TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX refresh_tokens_user_id ON refresh_tokens (user_id);

CREATE TABLE data_controllers (
    id TEXT PRIMARY KEY NOT NULL,
    title TEXT NOT NULL,
    did TEXT NOT NULL UNIQUE,
    description TEXT,
    industry TEXT,
    website TEXT,
    dpo_email TEXT,
    branding TEXT,
    dx_key_hash TEXT UNIQUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE data_controller_users (
    id TEXT PRIMARY KEY NOT NULL,
    data_controller_id TEXT NOT NULL REFERENCES data_controllers (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'privacy_officer', 'developer', 'viewer')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (data_controller_id, user_id)
);
CREATE INDEX data_controller_users_user_id ON data_controller_users (user_id, data_controller_id);

CREATE TABLE data_subjects (
    id TEXT PRIMARY KEY NOT NULL,
    data_controller_id TEXT NOT NULL REFERENCES data_controllers (id) ON DELETE CASCADE,
    did TEXT NOT NULL UNIQUE,
    do_not_track INTEGER NOT NULL DEFAULT 0 CHECK (do_not_track IN (0, 1)),
    global_privacy_control INTEGER NOT NULL DEFAULT 0 CHECK (global_privacy_control IN (0, 1)),
    erased_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX data_subjects_controller_created ON data_subjects (data_controller_id, created_at);

CREATE TABLE data_controller_processing_purposes (
    id TEXT PRIMARY KEY NOT NULL,
    data_controller_id TEXT NOT NULL REFERENCES data_controllers (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    description TEXT,
    category TEXT NOT NULL DEFAULT 'custom' CHECK (category IN
        ('essential', 'functional', 'analytics', 'marketing', 'advertising', 'personalization', 'custom')),
    legal_basis TEXT NOT NULL DEFAULT 'consent' CHECK (legal_basis IN
        ('consent', 'contract', 'legal_obligation', 'vital_interests', 'public_task', 'legitimate_interests')),
    consent_mode TEXT NOT NULL DEFAULT 'opt_in' CHECK (consent_mode IN ('opt_in', 'opt_out', 'notice_only')),
    essential INTEGER NOT NULL DEFAULT 0 CHECK (essential IN (0, 1)),
    gpc_applies INTEGER NOT NULL DEFAULT 0 CHECK (gpc_applies IN (0, 1)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX data_controller_processing_purposes_controller
    ON data_controller_processing_purposes (data_controller_id);

CREATE TABLE data_subject_consent_form_values (
    id TEXT PRIMARY KEY NOT NULL,
    data_subject_id TEXT NOT NULL REFERENCES data_subjects (id) ON DELETE CASCADE,
    data_controller_processing_purpose_id TEXT NOT NULL
        REFERENCES data_controller_processing_purposes (id) ON DELETE CASCADE,
    value TEXT NOT NULL CHECK (value IN ('true', 'false')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (data_subject_id, data_controller_processing_purpose_id)
);
CREATE INDEX data_subject_consent_form_values_purpose
    ON data_subject_consent_form_values (data_controller_processing_purpose_id);

-- Append-only history of every consent change; rows are never updated.
CREATE TABLE consent_events (
    id TEXT PRIMARY KEY NOT NULL,
    data_controller_id TEXT NOT NULL REFERENCES data_controllers (id) ON DELETE CASCADE,
    data_subject_id TEXT NOT NULL REFERENCES data_subjects (id) ON DELETE CASCADE,
    data_controller_processing_purpose_id TEXT NOT NULL
        REFERENCES data_controller_processing_purposes (id) ON DELETE CASCADE,
    value TEXT NOT NULL CHECK (value IN ('true', 'false')),
    previous_value TEXT CHECK (previous_value IN ('true', 'false')),
    method TEXT NOT NULL,
    source TEXT NOT NULL,
    global_privacy_control INTEGER NOT NULL DEFAULT 0 CHECK (global_privacy_control IN (0, 1)),
    do_not_track INTEGER NOT NULL DEFAULT 0 CHECK (do_not_track IN (0, 1)),
    actor_user_id TEXT,
    actor_role TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX consent_events_subject ON consent_events (data_subject_id, created_at);

CREATE TABLE data_subject_rights_requests (
    id TEXT PRIMARY KEY NOT NULL,
    data_controller_id TEXT NOT NULL REFERENCES data_controllers (id) ON DELETE CASCADE,
    data_subject_id TEXT NOT NULL REFERENCES data_subjects (id) ON DELETE CASCADE,
    request_type TEXT NOT NULL CHECK (request_type IN
        ('access', 'rectification', 'erasure', 'portability', 'restriction', 'objection',
         'opt_out_of_sale', 'limit_sensitive', 'automated_decision', 'withdraw_consent', 'general')),
    status TEXT NOT NULL DEFAULT 'submitted' CHECK (status IN
        ('submitted', 'in_progress', 'awaiting_information', 'extended', 'completed', 'rejected', 'cancelled')),
    verified INTEGER NOT NULL DEFAULT 0 CHECK (verified IN (0, 1)),
    jurisdiction TEXT NOT NULL DEFAULT 'gdpr' CHECK (jurisdiction IN ('gdpr', 'ccpa')),
    received_at TEXT NOT NULL,
    due_at TEXT NOT NULL,
    completed_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX data_subject_rights_requests_subject
    ON data_subject_rights_requests (data_subject_id, created_at);
CREATE INDEX data_subject_rights_requests_controller
    ON data_subject_rights_requests (data_controller_id, created_at);
