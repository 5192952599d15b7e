use std::collections::BTreeMap;

use uuid::Uuid;

/// A Hasura role: which schema a request is executed against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// A staff member acting inside the data controllers they belong to.
    User,
    /// A staff member managing their own account and tokens.
    Me,
    /// The installation operator: every row of every table.
    Admin,
    /// A person acting on their own data subject record, identified by the
    /// `x-hasura-data-subject-id` session variable.
    DataSubject,
    /// A request without credentials, such as a widget on a company's site:
    /// a controller's published information, fetched by the controller's id.
    Anonymous,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::User,
        Role::Me,
        Role::Admin,
        Role::DataSubject,
        Role::Anonymous,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Me => "me",
            Role::Admin => "admin",
            Role::DataSubject => "dataSubject",
            Role::Anonymous => "anonymous",
        }
    }

    /// Returns whether the role gets list and aggregate root fields. Anonymous callers
    /// read rows only below a controller fetched by id, so that the tenants of
    /// an installation cannot be enumerated.
    pub fn lists_rows(self) -> bool {
        self != Role::Anonymous
    }

    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == name)
    }
}

/// Caller of a request: the role in force and the `x-hasura-*` session variables.
#[derive(Debug, Clone)]
pub struct Session {
    pub role: Role,
    pub user_id: Option<Uuid>,
    /// Session variables by lowercase name, e.g. `x-hasura-user-id`.
    pub variables: BTreeMap<String, String>,
}

impl Session {
    pub fn new(role: Role, user_id: Option<Uuid>) -> Session {
        let mut variables = BTreeMap::new();
        variables.insert("x-hasura-role".to_owned(), role.as_str().to_owned());
        if let Some(user_id) = user_id {
            variables.insert("x-hasura-user-id".to_owned(), user_id.to_string());
        }
        Session {
            role,
            user_id,
            variables,
        }
    }

    pub fn variable(&self, name: &str) -> Option<&str> {
        self.variables
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}
