//! Writing an export: one read session, so that the file is one consistent snapshot even
//! while the server keeps writing, paged by keyset so that memory stays flat.

use super::*;
use liaison_store::prelude::*;
use liaison_store::{
    AccessTokenQuery, AppQuery, CredentialPage, CredentialSort, Key, MobileEventQuery,
    ParticipantQuery, RecordQuery, RecordingQuery, Seek, Side, SortKey, Store, UserQuery,
};
use std::io::Write;

/// Rows read per query.
const PAGE: u32 = 1000;

/// The settings an import keeps for itself, which an export leaves out.
pub(super) const CHECKPOINT_PREFIX: &str = "import:";

/// Writes every entity of `org` (or of every organization) to `out` as JSON lines, calling
/// `progress` after each page. The tally it returns counts what was written.
pub async fn export<S: Store, W: Write>(
    store: &S,
    org: Option<OrgId>,
    out: W,
    mut progress: impl FnMut(&Tally),
) -> Result<Tally, TransferError> {
    let mut tx = store.read().await?;
    let orgs = match org {
        Some(id) => vec![
            tx.get_org(id)
                .await?
                .ok_or_else(|| TransferError::File(format!("no organization {id}")))?,
        ],
        None => tx.list_orgs().await?,
    };
    let mut w = Lines {
        out: std::io::BufWriter::with_capacity(1 << 20, out),
        tally: Tally::default(),
    };
    w.put(&Line::Liaison(Header {
        format: FORMAT,
        id: uuid::Uuid::now_v7(),
        exported_at: chrono::Utc::now(),
        backend: store.backend_name().to_owned(),
        org,
    }))?;
    for (key, value) in tx.list_settings().await? {
        if !key.starts_with(CHECKPOINT_PREFIX) && !key.starts_with(crate::rematch::CURSOR_PREFIX) {
            w.put(&Line::Setting(Setting { key, value }))?;
        }
    }
    let tokens = tx.list_tokens().await?;
    for o in orgs {
        let id = o.id;
        w.put(&Line::Org(o))?;
        for c in tx.list_connections(id).await? {
            w.put(&Line::Connection(c))?;
        }
        for t in tokens.iter().filter(|t| t.org == id) {
            w.put(&Line::Token(t.clone()))?;
        }
        export_apps(&mut tx, id, &mut w).await?;
        progress(&w.tally);
        export_org(&mut tx, id, &mut w, &mut progress).await?;
    }
    let lines = w.tally.lines;
    w.put(&Line::End(End { lines }))?;
    w.out.flush()?;
    progress(&w.tally);
    Ok(w.tally)
}

/// The organization's OAuth apps, then their access tokens, oldest first: one run of each kind,
/// so that an import writes each in few transactions.
async fn export_apps<T: ReadTx, W: Write>(
    tx: &mut T,
    org: OrgId,
    w: &mut Lines<W>,
) -> Result<(), TransferError> {
    let oldest_first = |after| CredentialPage {
        after,
        limit: PAGE,
        ..CredentialPage::default()
    };
    let mut clients = Vec::new();
    let mut after = None;
    loop {
        let query = AppQuery {
            owner: None,
            page: oldest_first(after),
        };
        let apps = tx.list_apps(org, &query).await?;
        let Some(last) = apps.last() else { break };
        after = Some(CredentialSort::Created.key_of(
            last.created_at,
            last.updated_at,
            last.client_id.uuid(),
        ));
        for app in apps {
            clients.push(app.client_id);
            w.put(&Line::App(app))?;
        }
    }
    for client_id in clients {
        let mut after = None;
        loop {
            let query = AccessTokenQuery {
                client_id,
                user: None,
                page: oldest_first(after),
            };
            let tokens = tx.list_access_tokens(org, &query).await?;
            let Some(last) = tokens.last() else { break };
            after = Some(CredentialSort::Created.key_of(
                last.created_at,
                last.updated_at,
                last.id.uuid(),
            ));
            for t in tokens {
                w.put(&Line::AccessToken(t))?;
            }
        }
    }
    Ok(())
}

async fn export_org<T: ReadTx, W: Write>(
    tx: &mut T,
    org: OrgId,
    w: &mut Lines<W>,
    progress: &mut impl FnMut(&Tally),
) -> Result<(), TransferError> {
    let mut after = None;
    loop {
        let page = tx.list_engagement_types(org, after, PAGE).await?;
        after = page.last().map(|t| t.id);
        for t in page {
            w.put(&Line::EngagementType(t))?;
        }
        if after.is_none() {
            break;
        }
    }
    let mut after = None;
    loop {
        let page = tx.list_crm_users(org, after, PAGE).await?;
        after = page.last().map(|u| u.id);
        for u in page {
            w.put(&Line::CrmUser(u))?;
        }
        if after.is_none() {
            break;
        }
    }
    let mut users = UserQuery {
        limit: PAGE,
        ..UserQuery::default()
    };
    loop {
        let page = tx.list_users(org, &users).await?;
        users.after = page.last().map(|u| u.id);
        for u in page {
            w.put(&Line::User(u))?;
        }
        if users.after.is_none() {
            break;
        }
    }
    progress(&w.tally);
    for kind in RecordKind::ALL {
        let mut q = RecordQuery::new(kind);
        q.include_hidden = true;
        q.limit = PAGE;
        loop {
            let page = tx.list_records(org, &q).await?;
            q.seek = page.last().map(|r| Seek {
                side: Side::After,
                key: SortKey {
                    value: None,
                    id: r.id.uuid(),
                },
            });
            for r in page {
                w.put(&Line::Record(RecordLine::of(r)?))?;
            }
            progress(&w.tally);
            if q.seek.is_none() {
                break;
            }
        }
    }
    for kind in [ParentKind::Engagement, ParentKind::Opportunity] {
        let mut q = ParticipantQuery {
            include_deleted: true,
            limit: PAGE,
            ..ParticipantQuery::default()
        };
        loop {
            let page = tx.list_participants(org, kind, &q).await?;
            q.after = page.last().map(|p| p.id);
            for p in page {
                w.put(&Line::Participant(p))?;
            }
            progress(&w.tally);
            if q.after.is_none() {
                break;
            }
        }
    }
    let mut recordings = RecordingQuery {
        include_deleted: true,
        limit: PAGE,
        ..RecordingQuery::default()
    };
    loop {
        let page = tx.list_recordings(org, &recordings).await?;
        recordings.after = page.last().map(|r| r.id);
        for recording in page {
            let transcript = tx.get_transcript(org, recording.id).await?;
            w.put(&Line::Recording(RecordingLine {
                recording,
                transcript,
            }))?;
        }
        progress(&w.tally);
        if recordings.after.is_none() {
            break;
        }
    }
    let mut after = None;
    loop {
        let query = MobileEventQuery {
            after,
            limit: PAGE,
            ..MobileEventQuery::default()
        };
        let events = tx.list_mobile_events(org, &query).await?;
        let Some(last) = events.last() else { break };
        after = Some(Key {
            sort_at: last.created_at,
            id: last.id.uuid(),
        });
        for e in events {
            w.put(&Line::MobileEvent(e))?;
        }
        progress(&w.tally);
    }
    let mut seq = 0;
    loop {
        let page = tx.list_events(org, seq, PAGE).await?;
        let Some(last) = page.last() else { break };
        seq = last.seq;
        for e in page {
            w.put(&Line::Event(EventLine::of(e)?))?;
        }
        progress(&w.tally);
    }
    Ok(())
}

/// The file, counted as it is written.
struct Lines<W: Write> {
    out: std::io::BufWriter<W>,
    tally: Tally,
}

impl<W: Write> Lines<W> {
    fn put(&mut self, line: &Line) -> Result<(), TransferError> {
        let mut text = serde_json::to_vec(line).map_err(|e| TransferError::File(e.to_string()))?;
        text.push(b'\n');
        self.out.write_all(&text)?;
        self.tally.add(line.kind(), text.len() as u64);
        Ok(())
    }
}
