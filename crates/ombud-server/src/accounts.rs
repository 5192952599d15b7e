//! Staff accounts, controllers and credentials: the database side of the auth
//! endpoints and of `ombud bootstrap`.

use chrono::{Duration, Utc};
use ombud_auth::{TokenKind, hash_token, issue_token};
use ombud_store::{Row, SqlValue, Store, format_timestamp};
use serde::Serialize;
use uuid::Uuid;

use crate::error::ServerError;

/// Roles every staff token carries; `user` is the default.
pub const STAFF_ROLES: [&str; 2] = ["user", "me"];

#[derive(Debug, Clone)]
pub struct StaffUser {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub default_role: String,
    pub disabled: bool,
    pub created_at: String,
    pub password_hash: Option<String>,
}

impl StaffUser {
    const COLUMNS: &'static str =
        "id, email, display_name, default_role, disabled, created_at, password_hash";

    fn from_row(row: &Row) -> Result<StaffUser, ServerError> {
        let id = row.required_text(0)?;
        Ok(StaffUser {
            id: Uuid::parse_str(id)
                .map_err(|error| ServerError::Internal(format!("stored user id {id}: {error}")))?,
            email: row.required_text(1)?.to_owned(),
            display_name: row.required_text(2)?.to_owned(),
            default_role: row.required_text(3)?.to_owned(),
            disabled: row.bool(4)?,
            created_at: row.required_text(5)?.to_owned(),
            password_hash: row.text(6)?.map(str::to_owned),
        })
    }

    /// Roles this user's tokens allow.
    pub fn allowed_roles(&self) -> Vec<String> {
        let mut roles: Vec<String> = STAFF_ROLES.iter().map(|role| (*role).to_owned()).collect();
        if !roles.contains(&self.default_role) {
            roles.push(self.default_role.clone());
        }
        roles
    }
}

/// The `user` object of a session, in hasura-auth's shape.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionUser {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub default_role: String,
    pub roles: Vec<String>,
    pub created_at: String,
    pub avatar_url: String,
    pub locale: String,
    pub email_verified: bool,
    pub phone_number: Option<String>,
    pub phone_number_verified: bool,
    pub is_anonymous: bool,
    pub metadata: serde_json::Value,
}

impl From<&StaffUser> for SessionUser {
    fn from(user: &StaffUser) -> Self {
        SessionUser {
            id: user.id,
            email: user.email.clone(),
            display_name: user.display_name.clone(),
            default_role: user.default_role.clone(),
            roles: user.allowed_roles(),
            created_at: user.created_at.clone(),
            avatar_url: String::new(),
            locale: "en".to_owned(),
            email_verified: false,
            phone_number: None,
            phone_number_verified: false,
            is_anonymous: false,
            metadata: serde_json::json!({}),
        }
    }
}

/// Lowercases and checks an email address enough to reject obvious mistakes.
pub fn normalize_email(email: &str) -> Result<String, ServerError> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !email.chars().any(char::is_whitespace);
    if !valid {
        return Err(ServerError::InvalidRequest(format!(
            "{email:?} is not a valid email address; use the form name@example.com"
        )));
    }
    Ok(email)
}

pub async fn user_by_id(store: &Store, id: Uuid) -> Result<Option<StaffUser>, ServerError> {
    let sql = format!("SELECT {} FROM users WHERE id = $1", StaffUser::COLUMNS);
    let row = store.fetch_optional(&sql, &[id.into()]).await?;
    row.as_ref().map(StaffUser::from_row).transpose()
}

pub async fn user_by_email(store: &Store, email: &str) -> Result<Option<StaffUser>, ServerError> {
    let sql = format!("SELECT {} FROM users WHERE email = $1", StaffUser::COLUMNS);
    let row = store.fetch_optional(&sql, &[email.into()]).await?;
    row.as_ref().map(StaffUser::from_row).transpose()
}

/// Finds the user of a personal access token that exists, has not expired and is not revoked.
pub async fn user_by_pat(store: &Store, token: &str) -> Result<Option<StaffUser>, ServerError> {
    let sql = format!(
        "SELECT {} FROM users WHERE id = (SELECT user_id FROM personal_access_tokens \
         WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2)",
        StaffUser::COLUMNS
            .split(", ")
            .map(|column| format!("users.{column}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let row = store
        .fetch_optional(&sql, &[hash_token(token).into(), SqlValue::now()])
        .await?;
    let user = row.as_ref().map(StaffUser::from_row).transpose()?;
    if user.is_some() {
        store
            .execute(
                "UPDATE personal_access_tokens SET last_used_at = $1 WHERE token_hash = $2",
                &[SqlValue::now(), hash_token(token).into()],
            )
            .await?;
    }
    Ok(user)
}

/// Creates a staff user, or returns the existing one with that email.
pub async fn ensure_user(
    store: &Store,
    email: &str,
    password_hash: Option<String>,
) -> Result<StaffUser, ServerError> {
    let email = normalize_email(email)?;
    let now = SqlValue::now();
    let id = Uuid::new_v4();
    store
        .execute(
            "INSERT INTO users (id, email, display_name, password_hash, default_role, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'user', $5, $5) ON CONFLICT (email) DO NOTHING",
            &[id.into(), email.as_str().into(), email.as_str().into(), password_hash.clone().into(), now],
        )
        .await?;
    if let Some(hash) = password_hash {
        store
            .execute(
                "UPDATE users SET password_hash = $1 WHERE email = $2",
                &[hash.into(), email.as_str().into()],
            )
            .await?;
    }
    user_by_email(store, &email)
        .await?
        .ok_or_else(|| ServerError::Internal("the user vanished after insert".to_owned()))
}

/// A new personal access token; the plaintext exists only in this value.
pub struct NewPersonalAccessToken {
    pub id: Uuid,
    pub token: ombud_auth::SecretToken,
    pub expires_at: String,
}

pub async fn create_personal_access_token(
    store: &Store,
    user_id: Uuid,
    name: &str,
    expires_at: chrono::DateTime<Utc>,
) -> Result<NewPersonalAccessToken, ServerError> {
    if expires_at <= Utc::now() {
        return Err(ServerError::InvalidRequest(
            "expiresAt must be in the future".to_owned(),
        ));
    }
    let issued = issue_token(TokenKind::PersonalAccessToken);
    let id = Uuid::new_v4();
    let expires = expires_at;
    let expires_at = format_timestamp(expires_at);
    store
        .execute(
            "INSERT INTO personal_access_tokens (id, user_id, name, token_hash, expires_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
            &[
                id.into(),
                user_id.into(),
                name.into(),
                issued.hash.into(),
                expires.into(),
                SqlValue::now(),
            ],
        )
        .await?;
    Ok(NewPersonalAccessToken {
        id,
        token: issued.plaintext,
        expires_at,
    })
}

/// A new refresh token and its id.
pub struct NewRefreshToken {
    pub id: Uuid,
    pub token: ombud_auth::SecretToken,
}

pub async fn create_refresh_token(
    store: &Store,
    user_id: Uuid,
    ttl_seconds: u64,
) -> Result<NewRefreshToken, ServerError> {
    let issued = issue_token(TokenKind::RefreshToken);
    let id = Uuid::new_v4();
    let ttl = Duration::seconds(i64::try_from(ttl_seconds).unwrap_or(i64::MAX / 1000));
    let expires_at = Utc::now() + ttl;
    store
        .execute(
            "INSERT INTO refresh_tokens (id, user_id, token_hash, expires_at, created_at) VALUES ($1, $2, $3, $4, $5)",
            &[id.into(), user_id.into(), issued.hash.into(), expires_at.into(), SqlValue::now()],
        )
        .await?;
    Ok(NewRefreshToken {
        id,
        token: issued.plaintext,
    })
}

/// Revokes a valid refresh token and returns its user: a refresh token is used once.
pub async fn consume_refresh_token(
    store: &Store,
    token: &str,
) -> Result<Option<Uuid>, ServerError> {
    // One statement that revokes and returns: of concurrent uses of the same
    // token only one finds it unrevoked, on PostgreSQL as on SQLite.
    let mut tx = store.begin_write().await?;
    let row = tx
        .fetch_optional(
            "UPDATE refresh_tokens SET revoked_at = $1 \
             WHERE token_hash = $2 AND revoked_at IS NULL AND expires_at > $1 RETURNING user_id",
            &[SqlValue::now(), hash_token(token).into()],
        )
        .await?;
    tx.commit().await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let user = Uuid::parse_str(row.required_text(0)?)
        .map_err(|error| ServerError::Internal(error.to_string()))?;
    Ok(Some(user))
}

pub async fn revoke_refresh_token(store: &Store, token: &str) -> Result<(), ServerError> {
    store
        .execute(
            "UPDATE refresh_tokens SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL",
            &[SqlValue::now(), hash_token(token).into()],
        )
        .await?;
    Ok(())
}

pub async fn revoke_all_refresh_tokens(store: &Store, user_id: Uuid) -> Result<(), ServerError> {
    store
        .execute(
            "UPDATE refresh_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
            &[SqlValue::now(), user_id.into()],
        )
        .await?;
    Ok(())
}

/// Credentials and ids that `ombud bootstrap` creates and prints once.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Bootstrap {
    pub user_id: Uuid,
    pub data_controller_id: Uuid,
    pub data_controller_did: String,
    pub dx_key: String,
    pub personal_access_token: String,
}

/// Creates or reuses the staff user, creates a data controller with the user
/// as `owner`, and issues a personal access token and a dxKey.
pub async fn bootstrap(
    store: &Store,
    email: &str,
    controller_title: &str,
    password_hash: Option<String>,
    pat_ttl_days: u64,
) -> Result<Bootstrap, ServerError> {
    let title = controller_title.trim();
    if title.is_empty() || title.len() > 200 {
        return Err(ServerError::InvalidRequest(
            "the controller title must be 1 to 200 characters long".to_owned(),
        ));
    }
    let user = ensure_user(store, email, password_hash).await?;

    let controller_id = Uuid::new_v4();
    let did = ombud_privacy::did_for(&controller_id);
    let dx_key = issue_token(TokenKind::DxKey);
    let now = SqlValue::now();
    let mut tx = store.begin_write().await?;
    tx.execute(
        "INSERT INTO data_controllers (id, title, did, dx_key_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
        &[controller_id.into(), title.into(), did.as_str().into(), dx_key.hash.into(), now.clone()],
    )
    .await?;
    tx.execute(
        "INSERT INTO data_controller_users (id, data_controller_id, user_id, role, created_at, updated_at) \
         VALUES ($1, $2, $3, 'owner', $4, $4)",
        &[Uuid::new_v4().into(), controller_id.into(), user.id.into(), now],
    )
    .await?;
    tx.commit().await?;

    let ttl_days = i64::try_from(pat_ttl_days).unwrap_or(3650).clamp(1, 3650);
    let pat = create_personal_access_token(
        store,
        user.id,
        &format!("bootstrap: {title}"),
        Utc::now() + Duration::days(ttl_days),
    )
    .await?;
    Ok(Bootstrap {
        user_id: user.id,
        data_controller_id: controller_id,
        data_controller_did: did,
        dx_key: dx_key.plaintext.expose().to_owned(),
        personal_access_token: pat.token.expose().to_owned(),
    })
}
