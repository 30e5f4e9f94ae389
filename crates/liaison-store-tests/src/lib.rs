//! The conformance suite every `Store` backend must pass: one test function per contract,
//! generic over the backend, and a macro that turns them all into `#[tokio::test]`s.
//!
//! A backend crate adds `tests/conformance.rs` with a harness that hands each test a fresh,
//! migrated store and cleans up after it, then invokes the macro:
//!
//! ```ignore
//! async fn with_store<F, Fut>(test: F)
//! where
//!     F: FnOnce(MyStore) -> Fut,
//!     Fut: std::future::Future<Output = ()> + Send + 'static,
//! { /* create, migrate, run `test(store)`, clean up, re-raise a panic */ }
//!
//! liaison_store_tests::conformance_tests!(with_store);
//! ```
//!
//! The functions never rely on the database being empty: each makes its own orgs and keys.
//! They do count orgs, so two of them must not share a database at the same time.

mod apps;
mod fixtures;
mod lists;
mod mobile_events;
mod people;
mod recordings;
mod records;
mod tenancy;
mod transactions;
mod transfer;
mod upgrade;

pub use apps::*;
pub use lists::*;
pub use mobile_events::*;
pub use people::*;
pub use recordings::*;
pub use records::*;
pub use tenancy::*;
pub use transactions::*;
pub use transfer::*;
pub use upgrade::*;

/// Expands to one `#[tokio::test]` per suite function, each run through `$with_store`, an
/// async function taking a closure from a fresh store to the test's future.
#[macro_export]
macro_rules! conformance_tests {
    ($with_store:path) => {
        $crate::conformance_tests!(@each $with_store;
            records_round_trip,
            records_by_external_id,
            records_unique_keys,
            conflicts_leave_the_transaction_usable,
            tenants_are_isolated,
            list_filters,
            list_orders_and_positions,
            lists_match_the_model,
            records_referencing_links,
            user_engagements,
            engagement_types,
            crm_users,
            workspace_users,
            participants,
            events_in_order,
            events_follow_commit_order,
            outbox_span,
            readiness_and_pool_use,
            a_dropped_unit_leaves_concurrent_ones_intact,
            orgs_and_connections,
            tokens,
            settings,
            rollback_discards_everything,
            uncommitted_writes_are_invisible_to_readers,
            concurrent_updates_of_one_record_serialise,
            concurrent_inserts_of_one_external_id_make_one_record,
            locked_keys_make_writers_queue,
            what_an_export_reads,
            recordings_round_trip,
            recording_lists,
            engagements_near_a_recording,
            apps_round_trip_and_page,
            access_tokens_revoke_with_their_app,
            mobile_events_round_trip_and_filter,
        );
    };
    (@each $with_store:path; $($test:ident),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $test() {
                $with_store(|store| async move { $crate::$test(&store).await }).await;
            }
        )+
    };
}

/// For backends that make a database per test: a server URL with its database replaced,
/// `postgres://u@h:5432/x?opt` to `.../name?opt`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority = base.find("://").map_or(0, |i| i + 3);
    let path = base[authority..]
        .find('/')
        .map_or(base.len(), |i| authority + i);
    let mut out = format!("{}/{name}", &base[..path]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

#[cfg(test)]
#[test]
fn database_is_swapped_in_any_url_shape() {
    for (url, want) in [
        ("postgres://u@h:5432/postgres", "postgres://u@h:5432/db"),
        ("postgres://u@h", "postgres://u@h/db"),
        (
            "postgres://u@h/x?sslmode=disable",
            "postgres://u@h/db?sslmode=disable",
        ),
    ] {
        assert_eq!(with_database(url, "db"), want);
    }
}
