//! The scenarios: what each one sends, built into request sources before the clock starts.
//! Writes come from templates serialised once, with only the sequence number spliced in.
//!
//! Three scenarios target faces Liaison has not built yet; they are listed so the table shows
//! the gap, and report "not available" instead of a number taken from some other endpoint.

use crate::data::Generator;
use crate::db::Tenant;
use crate::load::{Req, Source};
use crate::render;
use bytes::Bytes;
use hyper::Method;
use rand::Rng;
use rand::rngs::SmallRng;
use std::sync::Arc;
use uuid::Uuid;

/// The width of the sequence number spliced into templates (and its placeholder).
const SEQ_WIDTH: usize = 10;
const MARK: &[u8; SEQ_WIDTH] = b"@@@@@@@@@@";
/// One in this many single syncs updates an engagement already stored; the rest are new.
const UPDATE_EVERY: u64 = 10;
/// Distinct templates per kind by default: enough variety of accounts, reps and types, small
/// enough to build in a blink.
pub const TEMPLATES: u64 = 2_048;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Scenario {
    /// PUT /v1/integrations/sync/engagements: one engagement per request with a nested account
    /// (stored), a new opportunity and one rep; 9 in 10 new externalIds, 1 in 10 an update.
    SyncSingle,
    /// PUT /v1/integrations/sync/batch/engagements: batches of new engagements shaped as
    /// sync-single's; reported in engagements/s.
    SyncBatch,
    /// GET /v1/integrations/engagements/{id} over random stored ids.
    GetById,
    /// GET /v1/integrations/engagements?limit=100, the first page.
    ListFirstPage,
    /// GET /v1/integrations/engagements?limit=100&cursor=… with a cursor 90% deep into the data
    /// set, obtained by paging once before measuring.
    ListDeepPage,
    /// The unified face's filtered list (/unified/crm/*). Not built yet: reported as such.
    UnifiedFilteredList,
    /// The engagements v2 face's filtered list (/api/v2/*). Not built yet: reported as such.
    V2FilteredList,
    /// The unified face's stream export. Not built yet: reported as such.
    StreamExport,
    /// 80% reads, 20% writes by default (see --mix): get-by-id, list-first-page, sync-single.
    Mixed,
}

impl Scenario {
    pub const ALL: [Scenario; 9] = [
        Scenario::SyncSingle,
        Scenario::SyncBatch,
        Scenario::GetById,
        Scenario::ListFirstPage,
        Scenario::ListDeepPage,
        Scenario::UnifiedFilteredList,
        Scenario::V2FilteredList,
        Scenario::StreamExport,
        Scenario::Mixed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::SyncSingle => "sync-single",
            Scenario::SyncBatch => "sync-batch",
            Scenario::GetById => "get-by-id",
            Scenario::ListFirstPage => "list-first-page",
            Scenario::ListDeepPage => "list-deep-page",
            Scenario::UnifiedFilteredList => "unified-filtered-list",
            Scenario::V2FilteredList => "v2-filtered-list",
            Scenario::StreamExport => "stream-export",
            Scenario::Mixed => "mixed",
        }
    }

    /// Why the scenario cannot run, when the face it needs does not exist yet.
    pub fn unavailable(self) -> Option<&'static str> {
        match self {
            Scenario::UnifiedFilteredList => {
                Some("not available: the unified face is not built yet")
            }
            Scenario::V2FilteredList => {
                Some("not available: the engagements v2 face is not built yet")
            }
            Scenario::StreamExport => {
                Some("not available: the unified face (stream export) is not built yet")
            }
            _ => None,
        }
    }

    /// Whether it reads one shape the response floor answers too: an engagement, or a page.
    pub fn reads_one_shape(self) -> bool {
        matches!(
            self,
            Scenario::GetById | Scenario::ListFirstPage | Scenario::ListDeepPage
        )
    }

    pub fn writes(self) -> bool {
        matches!(
            self,
            Scenario::SyncSingle | Scenario::SyncBatch | Scenario::Mixed
        )
    }
}

/// The read/write mix of the `mixed` scenario, in parts (they need not sum to 100).
#[derive(Debug, Clone, Copy)]
pub struct Mix {
    pub get_by_id: u32,
    pub list_first_page: u32,
    pub sync_single: u32,
}

impl Default for Mix {
    fn default() -> Self {
        Mix {
            get_by_id: 60,
            list_first_page: 20,
            sync_single: 20,
        }
    }
}

impl std::str::FromStr for Mix {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let mut mix = Mix {
            get_by_id: 0,
            list_first_page: 0,
            sync_single: 0,
        };
        for part in s.split(',').filter(|p| !p.trim().is_empty()) {
            let (name, weight) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}`: expected name=weight"))?;
            let weight: u32 = weight
                .trim()
                .parse()
                .map_err(|_| format!("`{part}`: the weight must be a whole number"))?;
            match name.trim() {
                "get-by-id" => mix.get_by_id = weight,
                "list-first-page" => mix.list_first_page = weight,
                "sync-single" => mix.sync_single = weight,
                other => {
                    return Err(format!(
                        "`{other}`: the mix takes get-by-id, list-first-page, sync-single"
                    ));
                }
            }
        }
        if mix.total() == 0 {
            return Err("the mix needs at least one positive weight".into());
        }
        Ok(mix)
    }
}

impl std::fmt::Display for Mix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "get-by-id={},list-first-page={},sync-single={}",
            self.get_by_id, self.list_first_page, self.sync_single
        )
    }
}

/// What one request of `mixed` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MixPick {
    GetById,
    ListFirstPage,
    SyncSingle,
}

impl Mix {
    pub fn total(&self) -> u32 {
        self.get_by_id + self.list_first_page + self.sync_single
    }

    pub fn pick(&self, rng: &mut SmallRng) -> MixPick {
        let roll = rng.random_range(0..self.total());
        if roll < self.get_by_id {
            MixPick::GetById
        } else if roll < self.get_by_id + self.list_first_page {
            MixPick::ListFirstPage
        } else {
            MixPick::SyncSingle
        }
    }
}

/// A serialised request body with placeholders where the sequence number goes.
struct Template {
    bytes: Vec<u8>,
    marks: Vec<usize>,
}

impl Template {
    fn new(bytes: Vec<u8>) -> Template {
        let marks = bytes
            .windows(SEQ_WIDTH)
            .enumerate()
            .filter(|(_, w)| *w == MARK)
            .map(|(i, _)| i)
            .collect();
        Template { bytes, marks }
    }

    /// Appends the template to `out` with `seq` in every placeholder.
    fn render_into(&self, seq: u64, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&self.bytes);
        let digits = format!(
            "{:0width$}",
            seq % 10u64.pow(SEQ_WIDTH as u32),
            width = SEQ_WIDTH
        );
        for &m in &self.marks {
            out[start + m..start + m + SEQ_WIDTH].copy_from_slice(digits.as_bytes());
        }
    }
}

/// The write payloads of a run: new engagements (under a run-specific prefix, with a new
/// opportunity each, on stored accounts and reps), and updates of stored engagements.
pub struct Writes {
    new: Vec<Template>,
    updates: Vec<Template>,
    /// Generated content behind `new`, for the storage floor's rows.
    pub shapes: Vec<crate::data::Engagement>,
}

impl Writes {
    /// `prefix` keeps each run's (and each scenario's) new external ids apart from the data
    /// set's and from other runs'.
    pub fn new(generator: Generator, loaded: u64, prefix: &str, templates: u64) -> Writes {
        let mark = std::str::from_utf8(MARK).expect("ASCII");
        let mut new = Vec::new();
        let mut shapes = Vec::new();
        for j in 0..templates.max(1) {
            // Borrow a stored engagement's shape: its account, contact and rep exist already.
            let like = generator.sample(j, loaded);
            let mut e = generator.engagement_as(like, format!("{prefix}-{mark}"));
            e.opportunity.external_id = format!("o{prefix}-{mark}");
            e.opportunity.name = format!("{} (new)", e.opportunity.name);
            let mut bytes = Vec::with_capacity(1_600);
            render::engagement_json(&e, true, &mut bytes);
            new.push(Template::new(bytes));
            shapes.push(e);
        }
        let mut updates = Vec::new();
        if loaded > 0 {
            for j in 0..templates.max(1) {
                let index = generator.sample(u64::MAX / 2 + j, loaded);
                let mut e = generator.engagement(index);
                e.subject = format!("{} (rev {mark})", e.subject);
                let mut bytes = Vec::with_capacity(1_600);
                // Without remoteUpdatedAt an update is never refused as stale.
                render::engagement_json(&e, false, &mut bytes);
                updates.push(Template::new(bytes));
            }
        }
        Writes {
            new,
            updates,
            shapes,
        }
    }

    /// The body of single sync `seq`.
    pub fn single(&self, seq: u64) -> Bytes {
        let mut out = Vec::with_capacity(1_600);
        if seq % UPDATE_EVERY == UPDATE_EVERY - 1 && !self.updates.is_empty() {
            let t = &self.updates[((seq / UPDATE_EVERY) % self.updates.len() as u64) as usize];
            t.render_into(seq, &mut out);
        } else {
            self.new[(seq % self.new.len() as u64) as usize].render_into(seq, &mut out);
        }
        Bytes::from(out)
    }

    /// The body of batch `seq`: `size` new engagements numbered seq·size … seq·size+size-1.
    pub fn batch(&self, seq: u64, size: u64) -> Bytes {
        let mut out = Vec::with_capacity(size as usize * 1_600 + 2);
        out.push(b'[');
        for k in 0..size {
            if k > 0 {
                out.push(b',');
            }
            let n = seq * size + k;
            self.new[(n % self.new.len() as u64) as usize].render_into(n, &mut out);
        }
        out.push(b']');
        Bytes::from(out)
    }
}

/// What the scenarios read from the data set, gathered before measuring.
pub struct Fixture {
    pub tenant: Tenant,
    /// Engagements of the data set the main organization holds.
    pub loaded: u64,
    /// Internal ids of stored engagements, for get-by-id.
    pub ids: Arc<Vec<Uuid>>,
    /// The deep page's cursor and the id it continues after (the storage floor's key).
    pub deep: Option<DeepCursor>,
}

#[derive(Debug, Clone)]
pub struct DeepCursor {
    pub cursor: String,
    pub after: Uuid,
    /// Engagements before the page.
    pub depth: u64,
}

pub const LIST_PATH: &str = "/v1/integrations/engagements";
pub const SYNC_PATH: &str = "/v1/integrations/sync/engagements";
pub const BATCH_PATH: &str = "/v1/integrations/sync/batch/engagements";

fn get(path: String) -> Req {
    Req {
        method: Method::GET,
        path,
        body: Bytes::new(),
    }
}

fn get_by_id(ids: &[Uuid], rng: &mut SmallRng) -> Req {
    let id = ids[rng.random_range(0..ids.len())];
    get(format!("{LIST_PATH}/{id}"))
}

/// The request source of a scenario (available scenarios only).
pub fn source(
    scenario: Scenario,
    fixture: &Fixture,
    writes: &Arc<Writes>,
    batch_size: u64,
    mix: Mix,
) -> anyhow::Result<Source> {
    let ids = fixture.ids.clone();
    let need_ids = || -> anyhow::Result<()> {
        anyhow::ensure!(
            !ids.is_empty(),
            "no stored engagements to read: load a data set first"
        );
        Ok(())
    };
    Ok(match scenario {
        Scenario::SyncSingle => {
            let writes = writes.clone();
            Arc::new(move |seq, _| Req {
                method: Method::PUT,
                path: SYNC_PATH.into(),
                body: writes.single(seq),
            })
        }
        Scenario::SyncBatch => {
            let writes = writes.clone();
            Arc::new(move |seq, _| Req {
                method: Method::PUT,
                path: BATCH_PATH.into(),
                body: writes.batch(seq, batch_size),
            })
        }
        Scenario::GetById => {
            need_ids()?;
            Arc::new(move |_, rng| get_by_id(&ids, rng))
        }
        Scenario::ListFirstPage => {
            let path = format!("{LIST_PATH}?limit=100");
            Arc::new(move |_, _| get(path.clone()))
        }
        Scenario::ListDeepPage => {
            let deep = fixture
                .deep
                .as_ref()
                .ok_or_else(|| anyhow::anyhow!("no deep cursor: the data set is too small"))?;
            let path = format!("{LIST_PATH}?limit=100&cursor={}", deep.cursor);
            Arc::new(move |_, _| get(path.clone()))
        }
        Scenario::Mixed => {
            need_ids()?;
            let writes = writes.clone();
            let list = format!("{LIST_PATH}?limit=100");
            Arc::new(move |seq, rng| match mix.pick(rng) {
                MixPick::GetById => get_by_id(&ids, rng),
                MixPick::ListFirstPage => get(list.clone()),
                MixPick::SyncSingle => Req {
                    method: Method::PUT,
                    path: SYNC_PATH.into(),
                    body: writes.single(seq),
                },
            })
        }
        Scenario::UnifiedFilteredList | Scenario::V2FilteredList | Scenario::StreamExport => {
            anyhow::bail!("{}", scenario.unavailable().unwrap_or("not available"))
        }
    })
}

/// Cursors are URL-safe base64 in Liaison, but nothing promises it: escape what a query
/// string cannot carry.
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_splice_the_sequence_number() {
        let w = Writes::new(Generator::new(1), 1_000, "s-test", 64);
        let a: serde_json::Value = serde_json::from_slice(&w.single(0)).unwrap();
        assert_eq!(a["externalId"], "s-test-0000000000");
        assert_eq!(a["opportunity"]["externalId"], "os-test-0000000000");
        let u: serde_json::Value = serde_json::from_slice(&w.single(9)).unwrap();
        assert!(u["externalId"].as_str().unwrap().starts_with("e-"));
        assert!(u.get("remoteUpdatedAt").is_none());
        let b: serde_json::Value = serde_json::from_slice(&w.batch(3, 5)).unwrap();
        assert_eq!(b.as_array().unwrap().len(), 5);
        assert_eq!(b[4]["externalId"], "s-test-0000000019");
    }

    #[test]
    fn mixes_parse() {
        let m: Mix = "get-by-id=8,sync-single=2".parse().unwrap();
        assert_eq!((m.get_by_id, m.list_first_page, m.sync_single), (8, 0, 2));
        assert!("nope=1".parse::<Mix>().is_err());
        assert!("get-by-id=0".parse::<Mix>().is_err());
    }
}
