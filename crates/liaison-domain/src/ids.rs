//! Typed identifiers. Every record has one internal id, a UUIDv7 (time-ordered), wrapped in a
//! newtype so that an organization id can never be passed where a token id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }
            pub const fn uuid(self) -> Uuid {
                self.0
            }
            /// Parses the canonical UUID string; anything else is `None`.
            pub fn parse(s: &str) -> Option<Self> {
                Uuid::try_parse(s).ok().map(Self)
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }
    };
}

typed_id!(
    /// A tenant. Every row belongs to exactly one.
    OrgId
);
typed_id!(
    /// One CRM connected to an organization; external ids are unique within it.
    ConnectionId
);
typed_id!(
    /// An API token.
    TokenId
);
typed_id!(
    /// A synced CRM record: account, contact, lead, opportunity or engagement.
    RecordId
);
typed_id!(
    /// A workspace user: a rep who records conversations.
    UserId
);
typed_id!(
    /// A user of the CRM, as synced in `engagementUsers` / `opportunityUsers` / `owner`.
    CrmUserId
);
typed_id!(
    /// A rep's place on an engagement or opportunity.
    ParticipantId
);
typed_id!(
    /// An engagement type (meeting, call, ...), per connection.
    EngagementTypeId
);
typed_id!(
    /// An outbox event.
    EventId
);
typed_id!(
    /// A recording. Its id is the recorder's: the client that creates it chooses it.
    RecordingId
);
typed_id!(
    /// An OAuth app: its client id.
    ClientId
);
typed_id!(
    /// An event the recording app reported.
    MobileEventId
);
typed_id!(
    /// A user access token issued to an OAuth app.
    AccessTokenId
);
