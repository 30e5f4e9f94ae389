//! Matching again when the data changes: a worker follows the outbox and, for every change to
//! an engagement or to its reps, decides again the recordings the change may move (those
//! linked to it, and those of its reps near its old and new times). It runs beside the
//! requests, never inside a sync, and what it changes lands in the outbox like any write.

use crate::linking;
use crate::records::{Unit, load};
use crate::{Caller, Engine, in_write_tx, store_error};
use liaison_domain::matching::{Rule, Settings, Span, Standing};
use liaison_domain::model::*;
use liaison_domain::scope::Scope;
use liaison_domain::*;
use liaison_store::prelude::*;
use liaison_store::{Event, RecordingQuery, Store};
use std::collections::BTreeSet;

/// How many outbox events one pass reads per organization.
const EVENTS_PER_PASS: u32 = 500;

/// The settings that hold where the worker has read each organization's outbox to: a place
/// in one database's numbering, which an export leaves behind.
pub(crate) const CURSOR_PREFIX: &str = "rematch_cursor:";

fn cursor_key(org: OrgId) -> String {
    format!("{CURSOR_PREFIX}{org}")
}

/// The times an engagement covered in one version of an event, if any.
fn span_in(version: Option<&str>) -> Option<Span> {
    let e: Record<Engagement> = serde_json::from_str(version?).ok()?;
    let start = e.data.start_time?;
    Some(Span::of_engagement(start, e.data.end_time))
}

/// The engagements an event is about: itself, or the parents of a rep's place before and
/// after the change (a place moved from one engagement to another concerns both).
fn engagements_of(e: &Event) -> Vec<RecordId> {
    match e.entity.as_str() {
        "engagement" => vec![RecordId::from_uuid(e.entity_id)],
        "participant" => [e.before.as_deref(), e.after.as_deref()]
            .into_iter()
            .flatten()
            .filter_map(|v| serde_json::from_str::<Participant>(v).ok())
            .filter(|p| p.parent_kind == ParentKind::Engagement)
            .map(|p| p.parent)
            .collect(),
        _ => Vec::new(),
    }
}

/// Where an organization's first pass starts: after (nearly) every event there is when it has
/// no recording yet (no change before its first recording can concern one: each is decided
/// when it is made), else at the start.
async fn first_cursor<T: ReadTx>(tx: &mut T, org: OrgId) -> Result<i64> {
    let any = tx
        .list_recordings(
            org,
            &RecordingQuery {
                include_deleted: true,
                limit: 1,
                ..Default::default()
            },
        )
        .await
        .map_err(store_error)?;
    if !any.is_empty() {
        return Ok(0);
    }
    // Events are numbered as they commit, across organizations; the newest few are read
    // again, so that one numbered just before another organization's but committed after it
    // cannot be skipped. Reading one twice changes nothing.
    let span = tx.outbox_span().await.map_err(store_error)?;
    Ok(span.map_or(0, |(_, newest)| (newest - FIRST_PASS_OVERLAP).max(0)))
}

/// How many of the newest events a first pass reads again.
const FIRST_PASS_OVERLAP: i64 = 1000;

impl<S: Store> Engine<S> {
    /// Reads every organization's outbox from where it last stopped and decides again the
    /// recordings its engagement changes concern. Returns how many events it read: a server
    /// calls it again at once while there are some, and waits a moment when there are none.
    pub async fn rematch_pending(&self) -> Result<usize> {
        let orgs = {
            let mut tx = self.store.read().await.map_err(store_error)?;
            tx.list_orgs().await.map_err(store_error)?
        };
        let mut read = 0;
        let mut failed = None;
        for org in orgs {
            // One organization that fails (its settings unreadable, say) holds up no other.
            match self.rematch_org(org.id).await {
                Ok(n) => read += n,
                Err(e) => {
                    tracing::warn!(org = %org.id, error = %e, "matching recordings again failed");
                    failed = Some(e);
                }
            }
        }
        match failed {
            Some(e) if read == 0 => Err(e),
            _ => Ok(read),
        }
    }

    async fn rematch_org(&self, org: OrgId) -> Result<usize> {
        let (after, fresh, events) = {
            let mut tx = self.store.read().await.map_err(store_error)?;
            let stored = tx
                .get_setting(&cursor_key(org))
                .await
                .map_err(store_error)?
                .and_then(|s| s.parse::<i64>().ok());
            let after = match stored {
                Some(seq) => seq,
                None => first_cursor(&mut tx, org).await?,
            };
            let fresh = stored.is_none();
            let events = tx
                .list_events(org, after, EVENTS_PER_PASS)
                .await
                .map_err(store_error)?;
            (after, fresh, events)
        };
        let Some(last) = events.last().map(|e| e.seq) else {
            if fresh {
                // Kept, so that the events after it are read from it rather than skipped by
                // another first pass.
                in_write_tx!(self, tx => async {
                    tx.put_setting_if_absent(&cursor_key(org), &after.to_string())
                        .await
                        .map_err(store_error)
                }
                .await)?;
            }
            return Ok(0);
        };
        // An engagement and the times it covered before and after each change.
        let mut touched: BTreeSet<RecordId> = BTreeSet::new();
        let mut spans: Vec<(RecordId, Span)> = Vec::new();
        for e in &events {
            for id in engagements_of(e) {
                touched.insert(id);
                if e.entity == "engagement" {
                    for version in [e.before.as_deref(), e.after.as_deref()] {
                        if let Some(span) = span_in(version) {
                            spans.push((id, span));
                        }
                    }
                }
            }
        }
        if !touched.is_empty() {
            let settings = self.settings_of(org).await?;
            let mut recordings: BTreeSet<RecordingId> = BTreeSet::new();
            let mut tx = self.store.read().await.map_err(store_error)?;
            for id in &touched {
                for r in tx
                    .recordings_linked_to(org, *id)
                    .await
                    .map_err(store_error)?
                {
                    recordings.insert(r.id);
                }
                let Some(row) = tx.get_record(org, *id).await.map_err(store_error)? else {
                    continue;
                };
                let e = crate::records::decode::<Engagement>(row)?;
                if let Some(start) = e.data.start_time {
                    spans.push((*id, Span::of_engagement(start, e.data.end_time)));
                }
                let users = linking::rep_users(&mut tx, org, *id).await?;
                for (_, span) in spans.iter().filter(|(e, _)| e == id) {
                    let began = settings.recording_starts(*span);
                    for user in &users {
                        for r in tx
                            .recordings_of_user_between(org, *user, began)
                            .await
                            .map_err(store_error)?
                        {
                            recordings.insert(r.id);
                        }
                    }
                }
            }
            drop(tx);
            for id in recordings {
                self.redecide(org, id).await?;
            }
        }
        in_write_tx!(self, tx => async {
            // Another instance may have read further: the cursor only moves forward.
            let stored = tx
                .get_setting(&cursor_key(org))
                .await
                .map_err(store_error)?
                .and_then(|s| s.parse::<i64>().ok())
                .unwrap_or(0);
            if stored < last {
                tx.put_setting(&cursor_key(org), &last.to_string())
                    .await
                    .map_err(store_error)?;
            }
            Ok(())
        }
        .await)?;
        tracing::debug!(%org, after, last, "rematched");
        Ok(events.len())
    }

    /// Decides one recording again under the organization's settings as they are in this
    /// transaction, when nobody decided it by hand: what its engagement link was and is, with
    /// the rule that decided.
    async fn redecide(&self, org: OrgId, id: RecordingId) -> Result<Option<RematchChange>> {
        in_write_tx!(self, tx => async {
            let Some(old) = tx.get_recording(org, id).await.map_err(store_error)? else {
                return Ok(None);
            };
            if old.deleted_at.is_some() || matches!(old.standing, Standing::Manual(_)) {
                return Ok(None);
            }
            let settings = self.settings_in(&mut tx, org).await?;
            let connection = match old.links.engagement {
                Some(e) => load::<Engagement, _>(&mut tx, org, e).await?.map(|e| e.connection),
                None => None,
            };
            // The unit writes records by their own connections; a recording linked to nothing
            // gives it none, and nothing it does here looks one up.
            let mut unit = Unit::new(&mut tx, org, connection.unwrap_or_default(), time::now());
            let new = linking::settle(&mut unit, Some(&old), old.clone(), &settings).await?;
            Ok(Some(RematchChange {
                recording: id,
                from: old.links.engagement,
                to: new.links.engagement,
                rule: new.rule.unwrap_or(Rule::NoCandidate),
            }))
        }
        .await)
    }

    /// Decides again every recording made from `from` to `to` whose engagement link is the
    /// rule's to make (none linked by hand or by a deep link), under the settings the
    /// organization has now; with `dry_run`, only says what would change.
    pub async fn rematch_range(
        &self,
        caller: &Caller,
        from: time::Instant,
        to: time::Instant,
        dry_run: bool,
    ) -> Result<RematchReport> {
        caller.require(if dry_run {
            Scope::EngagementsRead
        } else {
            Scope::EngagementsWrite
        })?;
        if to < from {
            return Err(Error::BadRequest("`to` is before `from`".into()));
        }
        if to - from > MAX_REMATCH_RANGE {
            return Err(Error::BadRequest(format!(
                "a rematch covers at most {} days",
                MAX_REMATCH_RANGE.num_days()
            )));
        }
        let org = caller.org;
        let settings = self.settings_of(org).await?;
        let micro = chrono::TimeDelta::microseconds(1);
        let mut query = RecordingQuery {
            recorded_gt: from.checked_sub_signed(micro),
            recorded_lt: to.checked_add_signed(micro),
            limit: REMATCH_PAGE,
            ..RecordingQuery::default()
        };
        let mut report = RematchReport::default();
        loop {
            let mut tx = self.store.read().await.map_err(store_error)?;
            let page = tx.list_recordings(org, &query).await.map_err(store_error)?;
            query.after = page.last().map(|r| r.id);
            let page: Vec<_> = page
                .into_iter()
                .filter(|r| r.standing == Standing::Automatic)
                .collect();
            report.evaluated += page.len() as u64;
            let mut changes = Vec::with_capacity(page.len());
            if dry_run {
                // One reader, and the settings it holds, serve the page's decisions.
                let settings = self.settings_in(&mut tx, org).await?;
                for r in &page {
                    let d = linking::decide(&mut tx, r, &settings).await?;
                    changes.push(RematchChange {
                        recording: r.id,
                        from: r.links.engagement,
                        to: d.linked,
                        rule: d.rule,
                    });
                }
            } else {
                drop(tx);
                for r in &page {
                    changes.extend(self.redecide(org, r.id).await?);
                }
            }
            for c in changes.into_iter().filter(|c| c.from != c.to) {
                report.changed += 1;
                if report.changes.len() < MAX_LISTED_CHANGES {
                    report.changes.push(c);
                }
            }
            if query.after.is_none() {
                break;
            }
        }
        report.settings = settings;
        Ok(report)
    }
}

/// The widest range one rematch covers.
const MAX_REMATCH_RANGE: chrono::TimeDelta = chrono::TimeDelta::days(366);
/// Recordings read at a time.
const REMATCH_PAGE: u32 = 200;
/// The most changes a report lists (it counts them all).
pub const MAX_LISTED_CHANGES: usize = 1000;

/// A recording whose engagement link a rematch moved, or would move.
#[derive(Debug, Clone, PartialEq)]
pub struct RematchChange {
    pub recording: RecordingId,
    pub from: Option<RecordId>,
    pub to: Option<RecordId>,
    pub rule: Rule,
}

/// What a rematch did, or would do.
#[derive(Debug, Clone, Default)]
pub struct RematchReport {
    /// The recordings decided again.
    pub evaluated: u64,
    /// How many of them moved (or would).
    pub changed: u64,
    /// The first `MAX_LISTED_CHANGES` of those.
    pub changes: Vec<RematchChange>,
    pub settings: Settings,
}
