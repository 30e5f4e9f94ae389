//! Loading an export into a store: in batches of one kind, each in its own transaction with a
//! checkpoint, so that an import that stops resumes where it stopped; and by comparison with
//! what the store holds, so that importing a file twice changes nothing the second time.

use super::export::CHECKPOINT_PREFIX;
use super::*;
use liaison_store::prelude::*;
use liaison_store::{Store, WriteTx};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::BufRead;

/// Lines loaded per transaction.
const BATCH: usize = 500;

/// Loads the export `input` into `store`, calling `progress` after each batch. An entity the
/// store lacks is inserted; one it holds in another version is replaced, unless the stored
/// version is the newer; one it holds as the file has it is left alone. An event is appended
/// unless the store holds it. The store's own settings win over the file's.
pub async fn import<S: Store, R: BufRead>(
    store: &S,
    mut input: R,
    mut progress: impl FnMut(&Tally),
) -> Result<Tally, TransferError> {
    let mut tally = Tally::default();
    let mut text = String::new();
    let mut number = 0u64;
    let header = match next(&mut input, &mut text, &mut number)? {
        Some(Line::Liaison(h)) => h,
        Some(_) | None => {
            return Err(TransferError::File(
                "this is not a Liaison export: its first line is no header".into(),
            ));
        }
    };
    if header.format != FORMAT {
        return Err(TransferError::File(format!(
            "this export is in format {}; this build reads format {FORMAT}",
            header.format
        )));
    }
    tally.add(LineKind::Header, text.len() as u64);
    let checkpoint = format!("{CHECKPOINT_PREFIX}{}", header.id);
    let done: u64 = {
        let mut tx = store.read().await?;
        match tx.get_setting(&checkpoint).await? {
            Some(v) => v.parse().map_err(|_| {
                TransferError::File(format!("the setting `{checkpoint}` is not a line number"))
            })?,
            None => 0,
        }
    };
    let mut batch: Vec<(u64, Line)> = Vec::with_capacity(BATCH);
    let mut statistics = Statistics::new();
    let mut ended = false;
    loop {
        text.clear();
        let read = input.read_line(&mut text)?;
        if read == 0 {
            break;
        }
        number += 1;
        if ended {
            return Err(TransferError::Line {
                line: number,
                message: "a line after the last one".into(),
            });
        }
        if number <= done {
            // Applied by an earlier import of this file; only its kind is counted.
            let line = parse(&text, number)?;
            tally.add(line.kind(), read as u64);
            tally.resumed += 1;
            if let Line::End(end) = line {
                check_end(end, number)?;
                ended = true;
            }
            continue;
        }
        let line = parse(&text, number)?;
        tally.add(line.kind(), read as u64);
        let kind = line.kind();
        if batch
            .first()
            .is_some_and(|(_, l)| l.kind() != kind || batch.len() == BATCH)
        {
            apply(store, std::mem::take(&mut batch), &checkpoint, &mut tally).await?;
            statistics.after_batch(store, &tally).await?;
            progress(&tally);
        }
        match line {
            Line::Liaison(_) => {
                return Err(TransferError::Line {
                    line: number,
                    message: "a second header".into(),
                });
            }
            Line::End(end) => {
                check_end(end, number)?;
                ended = true;
                batch.push((number, line));
            }
            line => batch.push((number, line)),
        }
    }
    if !batch.is_empty() {
        apply(store, batch, &checkpoint, &mut tally).await?;
    }
    statistics.refresh(store, &tally).await?;
    progress(&tally);
    if !ended {
        return Err(TransferError::File(format!(
            "the file ends after line {number}, before its last line: the export did not finish \
             or the file was cut short; what it holds so far is imported"
        )));
    }
    Ok(tally)
}

fn next<R: BufRead>(
    input: &mut R,
    text: &mut String,
    number: &mut u64,
) -> Result<Option<Line>, TransferError> {
    text.clear();
    if input.read_line(text)? == 0 {
        return Ok(None);
    }
    *number += 1;
    parse(text, *number).map(Some)
}

fn parse(text: &str, line: u64) -> Result<Line, TransferError> {
    serde_json::from_str(text).map_err(|e| TransferError::Line {
        line,
        message: e.to_string(),
    })
}

fn check_end(end: End, line: u64) -> Result<(), TransferError> {
    if end.lines + 1 != line {
        return Err(TransferError::File(format!(
            "the last line counts {} lines before it, but {} came: the file was changed",
            end.lines,
            line - 1
        )));
    }
    Ok(())
}

/// When the store refreshes what its query planner knows: each time the lines of one kind have
/// grown eightfold since the last refresh (from a thousand), and at the end. An import fills
/// tables that were empty when its first statements were planned; PostgreSQL keeps a plan made
/// for an empty table (a scan) until its statistics change, so without these refreshes each
/// lookup by id would read the whole table, and an import would take time quadratic in its
/// size. The eightfold steps keep the refreshes to a handful per kind.
struct Statistics {
    due: [u64; LineKind::ALL.len()],
    written_at_refresh: u64,
}

impl Statistics {
    const FIRST: u64 = 1_000;
    const GROWTH: u64 = 8;

    fn new() -> Statistics {
        Statistics {
            due: [Self::FIRST; LineKind::ALL.len()],
            written_at_refresh: 0,
        }
    }

    async fn after_batch<S: Store>(
        &mut self,
        store: &S,
        tally: &Tally,
    ) -> Result<(), TransferError> {
        let mut grown = false;
        for kind in LineKind::ALL {
            let lines = tally.count(kind);
            if lines >= self.due[kind as usize] {
                self.due[kind as usize] = lines * Self::GROWTH;
                grown = true;
            }
        }
        if grown {
            self.refresh(store, tally).await?;
        }
        Ok(())
    }

    /// Refreshes unless nothing was written since the last refresh; also called at the end.
    async fn refresh<S: Store>(&mut self, store: &S, tally: &Tally) -> Result<(), TransferError> {
        if tally.written > self.written_at_refresh {
            store.refresh_statistics().await?;
            self.written_at_refresh = tally.written;
        }
        Ok(())
    }
}

/// What to do with an entity the file holds, given what the store holds under its id.
enum Action {
    Insert,
    Replace,
    Keep,
}

/// The file's version replaces a stored one that differs from it, unless the stored one was
/// changed later (the target kept working after an earlier import).
fn action<T: PartialEq>(stored: Option<&T>, new: &T, updated_at: fn(&T) -> Instant) -> Action {
    match stored {
        None => Action::Insert,
        Some(old) if old == new || updated_at(old) > updated_at(new) => Action::Keep,
        Some(_) => Action::Replace,
    }
}

/// One batch, in one transaction with the checkpoint that says it is done.
async fn apply<S: Store>(
    store: &S,
    batch: Vec<(u64, Line)>,
    checkpoint: &str,
    tally: &mut Tally,
) -> Result<(), TransferError> {
    let Some(&(last, _)) = batch.last() else {
        return Ok(());
    };
    let first = batch[0].0;
    let mut tx = store.begin().await?;
    let mut counts = (0u64, 0u64);
    let result = apply_in(&mut tx, batch, &mut counts).await;
    let result = match result {
        Err(TransferError::Store(StoreError::Conflict(c))) => Err(TransferError::Line {
            line: first,
            message: format!(
                "the store holds another entity under the same key ({c}) in lines {first}–{last}: \
                 import into an empty database, or one this file (or an earlier export of the \
                 same database) was imported into"
            ),
        }),
        other => other,
    };
    result?;
    tx.put_setting(checkpoint, &last.to_string()).await?;
    tx.commit().await?;
    tally.written += counts.0;
    tally.unchanged += counts.1;
    Ok(())
}

/// Each line of a batch, in order: counts `(written, unchanged)`.
async fn apply_in<T: WriteTx>(
    tx: &mut T,
    batch: Vec<(u64, Line)>,
    counts: &mut (u64, u64),
) -> Result<(), TransferError> {
    let mut count = |wrote: bool| {
        if wrote {
            counts.0 += 1;
        } else {
            counts.1 += 1;
        }
    };
    match batch[0].1.kind() {
        LineKind::Record => {
            let mut by_org: BTreeMap<OrgId, Vec<(u64, RecordRow)>> = BTreeMap::new();
            for (n, line) in batch {
                let Line::Record(r) = line else {
                    unreachable!("a batch holds one kind")
                };
                let row = r
                    .into_row()
                    .map_err(|message| TransferError::Line { line: n, message })?;
                by_org.entry(row.org).or_default().push((n, row));
            }
            for (org, rows) in by_org {
                let ids: Vec<RecordId> = rows.iter().map(|(_, r)| r.id).collect();
                let stored: HashMap<RecordId, RecordRow> = tx
                    .get_records(org, &ids)
                    .await?
                    .into_iter()
                    .map(|r| (r.id, r))
                    .collect();
                for (_, row) in rows {
                    let old = stored.get(&row.id);
                    match action(old, &row, |r| r.updated_at) {
                        Action::Insert => tx.insert_record(&row).await?,
                        Action::Replace => tx.update_record(old.expect("stored"), &row).await?,
                        Action::Keep => {
                            count(false);
                            continue;
                        }
                    }
                    count(true);
                }
            }
        }
        LineKind::Participant => {
            let mut by_org: BTreeMap<OrgId, Vec<Participant>> = BTreeMap::new();
            for (_, line) in batch {
                let Line::Participant(p) = line else {
                    unreachable!("a batch holds one kind")
                };
                by_org.entry(p.org).or_default().push(p);
            }
            for (org, list) in by_org {
                let ids: Vec<ParticipantId> = list.iter().map(|p| p.id).collect();
                let stored: HashMap<ParticipantId, Participant> = tx
                    .get_participants(org, &ids)
                    .await?
                    .into_iter()
                    .map(|p| (p.id, p))
                    .collect();
                for p in list {
                    let act = action(stored.get(&p.id), &p, |p| p.updated_at);
                    count(write(act, |insert| tx.put_participant(&p, insert)).await?);
                }
            }
        }
        LineKind::Event => {
            let events: Vec<(u64, EventLine)> = batch
                .into_iter()
                .map(|(n, line)| match line {
                    Line::Event(e) => (n, e),
                    _ => unreachable!("a batch holds one kind"),
                })
                .collect();
            let ids: Vec<EventId> = events.iter().map(|(_, e)| e.id).collect();
            let known: HashSet<EventId> = tx.known_events(&ids).await?.into_iter().collect();
            for (n, e) in events {
                if known.contains(&e.id) {
                    count(false);
                    continue;
                }
                let event = e
                    .into_event()
                    .map_err(|message| TransferError::Line { line: n, message })?;
                tx.append_event(&event).await?;
                count(true);
            }
        }
        LineKind::CrmUser => {
            let mut by_org: BTreeMap<OrgId, Vec<CrmUser>> = BTreeMap::new();
            for (_, line) in batch {
                let Line::CrmUser(u) = line else {
                    unreachable!("a batch holds one kind")
                };
                by_org.entry(u.org).or_default().push(u);
            }
            for (org, list) in by_org {
                let ids: Vec<CrmUserId> = list.iter().map(|u| u.id).collect();
                let stored: HashMap<CrmUserId, CrmUser> = tx
                    .get_crm_users(org, &ids)
                    .await?
                    .into_iter()
                    .map(|u| (u.id, u))
                    .collect();
                for u in list {
                    let act = action(stored.get(&u.id), &u, |u| u.updated_at);
                    count(write(act, |insert| tx.put_crm_user(&u, insert)).await?);
                }
            }
        }
        // The last line holds no entity.
        LineKind::End => {}
        _ => {
            for (n, line) in batch {
                let wrote = apply_one(tx, line).await.map_err(|e| match e {
                    TransferError::File(message) => TransferError::Line { line: n, message },
                    e => e,
                })?;
                count(wrote);
            }
        }
    }
    Ok(())
}

/// Inserts or replaces as `act` says; whether it wrote.
async fn write<F, Fut>(act: Action, put: F) -> Result<bool, TransferError>
where
    F: FnOnce(bool) -> Fut,
    Fut: std::future::Future<Output = liaison_store::Result<()>>,
{
    match act {
        Action::Insert => put(true).await?,
        Action::Replace => put(false).await?,
        Action::Keep => return Ok(false),
    }
    Ok(true)
}

/// A line of the kinds a database holds few of, one at a time: whether it wrote.
async fn apply_one<T: WriteTx>(tx: &mut T, line: Line) -> Result<bool, TransferError> {
    Ok(match line {
        Line::Setting(s) => {
            if tx.get_setting(&s.key).await?.is_some() {
                false
            } else {
                tx.put_setting_if_absent(&s.key, &s.value).await?;
                true
            }
        }
        Line::Org(o) => match tx.get_org(o.id).await? {
            None => {
                if let Some(other) = tx.get_org_by_name(&o.name).await? {
                    return Err(TransferError::File(format!(
                        "an organization named `{}` is already here with id {}, and the file's \
                         is {}: import into a database that holds no organization of that name \
                         (before its first `liaison serve`, which creates `default`)",
                        o.name, other.id, o.id
                    )));
                }
                tx.insert_org(&o).await?;
                true
            }
            Some(stored) if stored == o => false,
            Some(stored) => {
                return Err(TransferError::File(format!(
                    "organization {} is `{}` here and `{}` in the file",
                    o.id, stored.name, o.name
                )));
            }
        },
        Line::Connection(c) => {
            let stored = tx.list_connections(c.org).await?;
            match stored.iter().find(|s| s.id == c.id) {
                None => {
                    tx.insert_connection(&c).await?;
                    true
                }
                Some(s) if *s == c => false,
                Some(s) => {
                    return Err(TransferError::File(format!(
                        "connection {} is `{}` here and `{}` in the file",
                        c.id, s.name, c.name
                    )));
                }
            }
        }
        Line::Token(t) => match tx.get_token(t.id).await? {
            None => {
                tx.insert_token(&t).await?;
                true
            }
            Some(stored) if stored == t => false,
            // Revoked in the source since: the only change a token takes.
            Some(stored)
                if stored.revoked_at.is_none()
                    && t.revoked_at.is_some()
                    && Token {
                        revoked_at: t.revoked_at,
                        ..stored.clone()
                    } == t =>
            {
                tx.revoke_token(t.id, t.revoked_at.expect("checked"))
                    .await?;
                true
            }
            Some(_) => false,
        },
        Line::App(a) => match tx.get_app(a.client_id).await? {
            None => {
                tx.insert_app(&a).await?;
                true
            }
            // Deleted in the source since: the only change an app takes.
            Some(stored)
                if stored.deleted_at.is_none()
                    && a.deleted_at.is_some()
                    && OAuthApp {
                        deleted_at: a.deleted_at,
                        updated_at: a.updated_at,
                        ..stored.clone()
                    } == a =>
            {
                tx.delete_app(a.client_id, a.deleted_at.expect("checked"))
                    .await?;
                true
            }
            Some(_) => false,
        },
        Line::AccessToken(t) => match tx.get_access_token(t.id).await? {
            None => {
                tx.insert_access_token(&t).await?;
                true
            }
            // Revoked in the source since: the only change a token takes.
            Some(stored)
                if stored.revoked_at.is_none()
                    && t.revoked_at.is_some()
                    && AccessToken {
                        revoked_at: t.revoked_at,
                        updated_at: t.updated_at,
                        ..stored.clone()
                    } == t =>
            {
                tx.revoke_access_token(t.id, t.revoked_at.expect("checked"))
                    .await?;
                true
            }
            Some(_) => false,
        },
        Line::EngagementType(t) => {
            let stored = tx.get_engagement_types(t.org, &[t.id]).await?;
            let act = action(stored.first(), &t, |t| t.updated_at);
            write(act, |_| tx.put_engagement_type(&t)).await?
        }
        Line::User(u) => {
            let stored = tx.get_user(u.org, u.id).await?;
            let act = action(stored.as_ref(), &u, |u| u.updated_at);
            write(act, |insert| tx.put_user(&u, insert)).await?
        }
        Line::Recording(RecordingLine {
            recording,
            transcript,
        }) => {
            let stored = tx.get_recording(recording.org, recording.id).await?;
            let act = action(stored.as_ref(), &recording, |r| r.updated_at);
            let wrote = write(act, |insert| tx.put_recording(&recording, insert)).await?;
            if wrote {
                tx.put_transcript(recording.org, recording.id, transcript.as_ref())
                    .await?;
            }
            wrote
        }
        // Events are only ever added: one already here is the same.
        Line::MobileEvent(e) => match tx.get_mobile_event(e.org, e.id).await? {
            None => {
                tx.insert_mobile_event(&e).await?;
                true
            }
            Some(_) => false,
        },
        Line::End(_)
        | Line::Liaison(_)
        | Line::Record(_)
        | Line::Participant(_)
        | Line::Event(_)
        | Line::CrmUser(_) => {
            unreachable!("batched kinds are applied by `apply_in`")
        }
    })
}
