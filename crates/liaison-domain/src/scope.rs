//! Scopes: one vocabulary across all faces. A token carries a set of them; every endpoint
//! names the one it needs.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Scope {
    #[serde(rename = "engagements:read")]
    EngagementsRead,
    #[serde(rename = "engagements:write")]
    EngagementsWrite,
    #[serde(rename = "engagements:private:read")]
    EngagementsPrivateRead,
    #[serde(rename = "engagements:private:write")]
    EngagementsPrivateWrite,
    #[serde(rename = "companies:read")]
    CompaniesRead,
    #[serde(rename = "companies:write")]
    CompaniesWrite,
    #[serde(rename = "contacts:read")]
    ContactsRead,
    #[serde(rename = "contacts:write")]
    ContactsWrite,
    #[serde(rename = "leads:read")]
    LeadsRead,
    #[serde(rename = "leads:write")]
    LeadsWrite,
    #[serde(rename = "opportunities:read")]
    OpportunitiesRead,
    #[serde(rename = "opportunities:write")]
    OpportunitiesWrite,
    #[serde(rename = "users:read")]
    UsersRead,
    #[serde(rename = "users:write")]
    UsersWrite,
}

const TABLE: &[(Scope, &str)] = &[
    (Scope::EngagementsRead, "engagements:read"),
    (Scope::EngagementsWrite, "engagements:write"),
    (Scope::EngagementsPrivateRead, "engagements:private:read"),
    (Scope::EngagementsPrivateWrite, "engagements:private:write"),
    (Scope::CompaniesRead, "companies:read"),
    (Scope::CompaniesWrite, "companies:write"),
    (Scope::ContactsRead, "contacts:read"),
    (Scope::ContactsWrite, "contacts:write"),
    (Scope::LeadsRead, "leads:read"),
    (Scope::LeadsWrite, "leads:write"),
    (Scope::OpportunitiesRead, "opportunities:read"),
    (Scope::OpportunitiesWrite, "opportunities:write"),
    (Scope::UsersRead, "users:read"),
    (Scope::UsersWrite, "users:write"),
];

impl Scope {
    pub fn as_str(self) -> &'static str {
        TABLE
            .iter()
            .find(|(s, _)| *s == self)
            .map(|(_, n)| *n)
            .unwrap_or("")
    }

    pub fn parse(s: &str) -> Option<Scope> {
        TABLE.iter().find(|(_, n)| *n == s).map(|(s, _)| *s)
    }

    pub fn is_read(self) -> bool {
        self.as_str().ends_with(":read")
    }

    pub fn all() -> ScopeSet {
        ScopeSet(TABLE.iter().map(|(s, _)| *s).collect())
    }

    pub fn all_read() -> ScopeSet {
        ScopeSet(
            TABLE
                .iter()
                .map(|(s, _)| *s)
                .filter(|s| s.is_read())
                .collect(),
        )
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The scopes of one token; in JSON, the comma list `parse` reads.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Default,
    serde_with::SerializeDisplay,
    serde_with::DeserializeFromStr,
)]
pub struct ScopeSet(BTreeSet<Scope>);

impl ScopeSet {
    /// Parses a comma list: scope names, `read` (every read scope) or `all`.
    pub fn parse(list: &str) -> Result<ScopeSet, String> {
        let mut set = BTreeSet::new();
        for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                "all" => set.extend(Scope::all().0),
                "read" => set.extend(Scope::all_read().0),
                name => {
                    set.insert(Scope::parse(name).ok_or_else(|| {
                        format!(
                            "unknown scope `{name}`; known: read, all, {}",
                            TABLE.iter().map(|(_, n)| *n).collect::<Vec<_>>().join(", ")
                        )
                    })?);
                }
            }
        }
        if set.is_empty() {
            return Err("no scopes given".into());
        }
        Ok(ScopeSet(set))
    }

    pub fn contains(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }

    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }
}

impl std::str::FromStr for ScopeSet {
    type Err = String;

    fn from_str(list: &str) -> Result<ScopeSet, String> {
        ScopeSet::parse(list)
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|s| s.as_str()).collect();
        f.write_str(&names.join(","))
    }
}

/// What a user access token may do: `read` allows reads only, `write` reads and writes. In
/// scopes, the engagements (and so recordings) a token's user may read or change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessScope {
    Read,
    Write,
}

impl AccessScope {
    /// Every name `parse` reads.
    pub const NAMES: [&'static str; 2] = ["read", "write"];

    pub fn as_str(self) -> &'static str {
        match self {
            AccessScope::Read => "read",
            AccessScope::Write => "write",
        }
    }

    pub fn parse(s: &str) -> Option<AccessScope> {
        match s {
            "read" => Some(AccessScope::Read),
            "write" => Some(AccessScope::Write),
            _ => None,
        }
    }

    /// The scopes a token of this kind carries.
    pub fn scopes(self) -> ScopeSet {
        let mut set = BTreeSet::from([Scope::EngagementsRead]);
        if self == AccessScope::Write {
            set.insert(Scope::EngagementsWrite);
        }
        ScopeSet(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_expands_to_every_read_scope_only() {
        let set = ScopeSet::parse("read").unwrap();
        assert!(set.contains(Scope::EngagementsRead) && set.contains(Scope::UsersRead));
        assert!(!set.iter().any(|s| !s.is_read()));
        assert_eq!(ScopeSet::parse(&set.to_string()).unwrap(), set);
    }

    #[test]
    fn a_read_access_token_cannot_write() {
        assert!(!AccessScope::Read.scopes().iter().any(|s| !s.is_read()));
        assert!(
            AccessScope::Write
                .scopes()
                .contains(Scope::EngagementsWrite)
        );
        assert_eq!(AccessScope::parse("write"), Some(AccessScope::Write));
        assert_eq!(AccessScope::parse("admin"), None);
    }

    #[test]
    fn unknown_and_empty_lists_are_refused() {
        assert!(ScopeSet::parse("engagements:delete").is_err());
        assert!(ScopeSet::parse(" , ").is_err());
        assert_eq!(ScopeSet::parse("all").unwrap(), Scope::all());
    }
}
