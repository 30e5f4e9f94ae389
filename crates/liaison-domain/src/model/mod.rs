//! The records Liaison keeps, and the inputs that change them.
//!
//! A synced CRM record (account, contact, lead, opportunity, engagement) is a `Record<T>`: the
//! bookkeeping every kind shares (ids, external id, links, soft-delete and merge state, times)
//! around the kind's own fields `T`. Inputs are separate types whose fields are `Patch`es, so
//! that "absent keeps, null clears" is written once, here.

mod entities;
mod inputs;
mod mobile_event;
mod people;
mod record;
mod recording;

pub use entities::*;
pub use inputs::*;
pub use mobile_event::*;
pub use people::*;
pub use record::*;
pub use recording::*;
