//! End-to-end tests of the HTTP API: each test starts a real server on a free
//! port of 127.0.0.1 with its own database (SQLite, or PostgreSQL with
//! OMBUD_TEST_BACKEND=postgres) and talks to it over HTTP.
//! They live in one binary so the crate is linked once.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod auth;
mod consent;
mod database;
mod filters;
mod graphql_errors;
mod guide_operations;
mod helpers;
mod hostile;
mod me_role;
mod operations;
mod permission_matrix;
mod permissions;
mod queries;
mod registers;
mod roles;
mod scale_out;
mod upserts;
mod where_property;
