-- Initial schema, PostgreSQL dialect. The same tables, columns, nullability and
-- constraints as migrations/sqlite/0001_initial.sql, with native uuid, timestamptz,
-- boolean and jsonb types; a test compares the two.

CREATE TABLE users (
    id UUID PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL DEFAULT '',
    password_hash TEXT,
    default_role TEXT NOT NULL DEFAULT 'user',
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE personal_access_tokens (
    id UUID PRIMARY KEY NOT NULL,
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX personal_access_tokens_user_id ON personal_access_tokens (user_id);

CREATE TABLE refresh_tokens (
    id UUID PRIMARY KEY NOT NULL,
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX refresh_tokens_user_id ON refresh_tokens (user_id);

CREATE TABLE data_controllers (
    id UUID PRIMARY KEY NOT NULL,
    title TEXT NOT NULL,
    did TEXT NOT NULL UNIQUE,
    description TEXT,
    industry TEXT,
    website TEXT,
    dpo_email TEXT,
    branding JSONB,
    dx_key_hash TEXT UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE data_controller_users (
    id UUID PRIMARY KEY NOT NULL,
    data_controller_id UUID NOT NULL REFERENCES data_controllers (id) ON DELETE CASCADE,
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'privacy_officer', 'developer', 'viewer')),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (data_controller_id, user_id)
);
CREATE INDEX data_controller_users_user_id ON data_controller_users (user_id, data_controller_id);

CREATE TABLE data_subjects (
    id UUID PRIMARY KEY NOT NULL,
    data_controller_id UUID NOT NULL REFERENCES data_controllers (id) ON DELETE CASCADE,
    did TEXT NOT NULL UNIQUE,
    do_not_track BOOLEAN NOT NULL DEFAULT FALSE,
    global_privacy_control BOOLEAN NOT NULL DEFAULT FALSE,
    erased_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX data_subjects_controller_created ON data_subjects (data_controller_id, created_at);

CREATE TABLE data_controller_processing_purposes (
    id UUID PRIMARY KEY NOT NULL,
    data_controller_id UUID NOT NULL REFERENCES data_controllers (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    description TEXT,
    category TEXT NOT NULL DEFAULT 'custom' CHECK (category IN
        ('essential', 'functional', 'analytics', 'marketing', 'advertising', 'personalization', 'custom')),
    legal_basis TEXT NOT NULL DEFAULT 'consent' CHECK (legal_basis IN
        ('consent', 'contract', 'legal_obligation', 'vital_interests', 'public_task', 'legitimate_interests')),
    consent_mode TEXT NOT NULL DEFAULT 'opt_in' CHECK (consent_mode IN ('opt_in', 'opt_out', 'notice_only')),
    essential BOOLEAN NOT NULL DEFAULT FALSE,
    gpc_applies BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX data_controller_processing_purposes_controller
    ON data_controller_processing_purposes (data_controller_id);

CREATE TABLE data_subject_consent_form_values (
    id UUID PRIMARY KEY NOT NULL,
    data_subject_id UUID NOT NULL REFERENCES data_subjects (id) ON DELETE CASCADE,
    data_controller_processing_purpose_id UUID NOT NULL
        REFERENCES data_controller_processing_purposes (id) ON DELETE CASCADE,
    value TEXT NOT NULL CHECK (value IN ('true', 'false')),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (data_subject_id, data_controller_processing_purpose_id)
);
CREATE INDEX data_subject_consent_form_values_purpose
    ON data_subject_consent_form_values (data_controller_processing_purpose_id);

-- Append-only history of every consent change; rows are never updated.
CREATE TABLE consent_events (
    id UUID PRIMARY KEY NOT NULL,
    data_controller_id UUID NOT NULL REFERENCES data_controllers (id) ON DELETE CASCADE,
    data_subject_id UUID NOT NULL REFERENCES data_subjects (id) ON DELETE CASCADE,
    data_controller_processing_purpose_id UUID NOT NULL
        REFERENCES data_controller_processing_purposes (id) ON DELETE CASCADE,
    value TEXT NOT NULL CHECK (value IN ('true', 'false')),
    previous_value TEXT CHECK (previous_value IN ('true', 'false')),
    method TEXT NOT NULL,
    source TEXT NOT NULL,
    global_privacy_control BOOLEAN NOT NULL DEFAULT FALSE,
    do_not_track BOOLEAN NOT NULL DEFAULT FALSE,
    actor_user_id UUID,
    actor_role TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX consent_events_subject ON consent_events (data_subject_id, created_at);

CREATE TABLE data_subject_rights_requests (
    id UUID PRIMARY KEY NOT NULL,
    data_controller_id UUID NOT NULL REFERENCES data_controllers (id) ON DELETE CASCADE,
    data_subject_id UUID NOT NULL REFERENCES data_subjects (id) ON DELETE CASCADE,
    request_type TEXT NOT NULL CHECK (request_type IN
        ('access', 'rectification', 'erasure', 'portability', 'restriction', 'objection',
         'opt_out_of_sale', 'limit_sensitive', 'automated_decision', 'withdraw_consent', 'general')),
    status TEXT NOT NULL DEFAULT 'submitted' CHECK (status IN
        ('submitted', 'in_progress', 'awaiting_information', 'extended', 'completed', 'rejected', 'cancelled')),
    verified BOOLEAN NOT NULL DEFAULT FALSE,
    jurisdiction TEXT NOT NULL DEFAULT 'gdpr' CHECK (jurisdiction IN ('gdpr', 'ccpa')),
    received_at TIMESTAMPTZ NOT NULL,
    due_at TIMESTAMPTZ NOT NULL,
    completed_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX data_subject_rights_requests_subject
    ON data_subject_rights_requests (data_subject_id, created_at);
CREATE INDEX data_subject_rights_requests_controller
    ON data_subject_rights_requests (data_controller_id, created_at);
