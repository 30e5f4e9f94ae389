//! The data generator: a CRM's worth of organizations' reps, accounts, contacts, opportunities
//! and engagements, every item derived from (seed, index) alone so any slice is reproducible.
//!
//! Nothing here depends on the size of the data set: engagement `i` is the same whether 100k or
//! 10M are loaded, so a data set can grow in stages (100k, then 1M, then 10M) and each stage
//! holds exactly what a fresh load of that size would.

use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc, Weekday};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// Every generated time lies around this instant (2026-01-01T00:00:00Z): fixed, not "now", so a
/// seed always yields byte-identical payloads.
pub const ANCHOR_SECS: i64 = 1_767_225_600;
/// How far back the engagement history reaches.
const HISTORY_DAYS: f64 = 3.0 * 365.0;
/// Engagements per opportunity, on average (a deal takes a few meetings).
const ENGAGEMENTS_PER_OPPORTUNITY: u64 = 3;

/// Which kind of object a random stream belongs to, so that the streams of engagement 7 and
/// account 7 are unrelated.
#[derive(Clone, Copy)]
enum Stream {
    Engagement = 1,
    Account = 2,
    Opportunity = 3,
    Contact = 4,
    Rep = 5,
    Update = 6,
}

/// A rep as the CRM knows them.
#[derive(Debug, Clone)]
pub struct Rep {
    pub external_id: String,
    pub name: String,
    pub email: String,
}

#[derive(Debug, Clone)]
pub struct Address {
    pub country: &'static str,
    pub street: String,
    pub city: &'static str,
    pub state: &'static str,
    pub zip: String,
}

#[derive(Debug, Clone)]
pub struct Account {
    pub external_id: String,
    pub name: String,
    pub address: Address,
    pub latitude: f64,
    pub longitude: f64,
    pub phone: String,
    pub email: Option<String>,
    /// Hours from UTC of the account's local time (US zones), for `startTimeLocalized`.
    pub utc_offset_hours: i64,
    /// The rep who owns the account and takes most of its meetings.
    pub rep: u64,
}

#[derive(Debug, Clone)]
pub struct Contact {
    pub external_id: String,
    pub name: String,
    pub email: String,
    pub phone: String,
}

#[derive(Debug, Clone)]
pub struct Opportunity {
    pub external_id: String,
    pub name: String,
    pub amount: f64,
    pub disposition: &'static str,
    pub closed_at: Option<DateTime<Utc>>,
    pub remote_created_at: DateTime<Utc>,
    pub account: u64,
}

#[derive(Debug, Clone, Copy)]
pub struct EngagementType {
    pub external_id: &'static str,
    pub name: &'static str,
    pub activity_type: &'static str,
}

/// One engagement with everything nested in it, as a CRM would sync it.
#[derive(Debug, Clone)]
pub struct Engagement {
    pub external_id: String,
    pub subject: String,
    pub content: Option<String>,
    pub direction: Option<&'static str>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub start_localized: String,
    pub remote_created_at: DateTime<Utc>,
    pub remote_updated_at: DateTime<Utc>,
    pub engagement_type: EngagementType,
    pub account: Account,
    pub contact: Option<Contact>,
    pub opportunity: Opportunity,
    pub rep: Rep,
}

/// The engagement types of the generated CRM, with how often each occurs (in percent).
const TYPES: [(EngagementType, u32); 5] = [
    (
        EngagementType {
            external_id: "type-consultation",
            name: "In-home consultation",
            activity_type: "APPOINTMENT",
        },
        40,
    ),
    (
        EngagementType {
            external_id: "type-discovery",
            name: "Discovery call",
            activity_type: "CALL",
        },
        25,
    ),
    (
        EngagementType {
            external_id: "type-follow-up",
            name: "Follow-up meeting",
            activity_type: "MEETING",
        },
        20,
    ),
    (
        EngagementType {
            external_id: "type-email",
            name: "Email",
            activity_type: "EMAIL",
        },
        10,
    ),
    (
        EngagementType {
            external_id: "type-site-visit",
            name: "Site visit",
            activity_type: "EVENT",
        },
        5,
    ),
];

const FIRST: [&str; 32] = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Carlos",
    "Karen",
    "Daniel",
    "Lisa",
    "Matthew",
    "Nancy",
    "Anthony",
    "Sandra",
    "Mark",
    "Ashley",
    "Wei",
    "Priya",
    "Ahmed",
    "Sofia",
];
const LAST: [&str; 32] = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Nguyen",
    "Patel",
];
const STREETS: [&str; 16] = [
    "Oak",
    "Maple",
    "Cedar",
    "Pine",
    "Elm",
    "Washington",
    "Lake",
    "Hill",
    "Park",
    "Main",
    "River",
    "Sunset",
    "Highland",
    "Meadow",
    "Forest",
    "Church",
];
const STREET_KINDS: [&str; 5] = ["St", "Ave", "Rd", "Ln", "Dr"];
/// City, state, zip prefix, latitude, longitude, UTC offset (standard time).
const CITIES: [(&str, &str, u32, f64, f64, i64); 12] = [
    ("Austin", "TX", 787, 30.27, -97.74, -6),
    ("Denver", "CO", 802, 39.74, -104.99, -7),
    ("Phoenix", "AZ", 850, 33.45, -112.07, -7),
    ("Atlanta", "GA", 303, 33.75, -84.39, -5),
    ("Columbus", "OH", 432, 39.96, -83.00, -5),
    ("Charlotte", "NC", 282, 35.23, -80.84, -5),
    ("Nashville", "TN", 372, 36.16, -86.78, -6),
    ("Portland", "OR", 972, 45.52, -122.68, -8),
    ("Tampa", "FL", 336, 27.95, -82.46, -5),
    ("Sacramento", "CA", 958, 38.58, -121.49, -8),
    ("Kansas City", "MO", 641, 39.10, -94.58, -6),
    ("Raleigh", "NC", 276, 35.78, -78.64, -5),
];
const PRODUCTS: [&str; 8] = [
    "Kitchen Remodel",
    "Bathroom Renovation",
    "Roof Replacement",
    "Solar Installation",
    "Window Replacement",
    "HVAC Upgrade",
    "Basement Finishing",
    "Siding",
];
const NOTES: [&str; 6] = [
    "Customer wants a quote before the end of the month and asked about financing options.",
    "Walked the property; measurements taken. Spouse will join the next meeting to decide.",
    "Discussed timeline and permits. Competitor quoted lower but with a shorter warranty.",
    "Left voicemail, then reached them on the second try. Interested in the premium package.",
    "Follow-up on the proposal sent last week; they need a revised estimate without the deck.",
    "Reviewed samples and colours. Decision expected after the HOA approves the plans.",
];

/// Mixes the seed, the stream and the index into one well-spread 64-bit value (SplitMix64's
/// finaliser), so neighbouring indices get unrelated random streams.
fn mix(seed: u64, stream: Stream, index: u64) -> u64 {
    let mut z = seed
        ^ (stream as u64).wrapping_mul(0xA076_1D64_78BD_642F)
        ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn pick<T: Copy>(rng: &mut SmallRng, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

fn person(rng: &mut SmallRng) -> (&'static str, &'static str) {
    (pick(rng, &FIRST), pick(rng, &LAST))
}

fn phone(rng: &mut SmallRng) -> String {
    format!(
        "+1{}{:03}{:04}",
        rng.random_range(201..990),
        rng.random_range(200..1000),
        rng.random_range(0..10_000)
    )
}

/// The generator of one data set. Cheap to copy; every method is a pure function of the seed.
#[derive(Debug, Clone, Copy)]
pub struct Generator {
    pub seed: u64,
}

impl Generator {
    pub fn new(seed: u64) -> Self {
        Generator { seed }
    }

    fn rng(&self, stream: Stream, index: u64) -> SmallRng {
        SmallRng::seed_from_u64(mix(self.seed, stream, index))
    }

    /// The external id of the data set's engagement `index`; zero-padded so that ids sort in
    /// load order and the largest one tells how many are loaded.
    pub fn engagement_external_id(index: u64) -> String {
        format!("e-{index:010}")
    }

    pub fn rep(&self, index: u64) -> Rep {
        let mut rng = self.rng(Stream::Rep, index);
        let (first, last) = person(&mut rng);
        Rep {
            external_id: format!("rep-{index:06}"),
            name: format!("{first} {last}"),
            // The index keeps emails unique: rep linking refuses ambiguous matches.
            email: format!(
                "{}.{}{index}@crm.example.com",
                first.to_lowercase(),
                last.to_lowercase()
            ),
        }
    }

    pub fn account(&self, index: u64) -> Account {
        let mut rng = self.rng(Stream::Account, index);
        let (_, last) = person(&mut rng);
        let (city, state, zip, lat, lon, offset) = pick(&mut rng, &CITIES);
        let name = if rng.random_bool(0.7) {
            format!("{last} Residence")
        } else {
            let kind = pick(
                &mut rng,
                &["Properties", "Holdings", "Builders", "& Sons", "LLC"],
            );
            format!("{last} {kind}")
        };
        let email = rng
            .random_bool(0.6)
            .then(|| format!("{}{index}@mail.example.net", last.to_lowercase()));
        Account {
            external_id: format!("a-{index:010}"),
            name,
            address: Address {
                country: "US",
                street: format!(
                    "{} {} {}",
                    rng.random_range(1..9999),
                    pick(&mut rng, &STREETS),
                    pick(&mut rng, &STREET_KINDS)
                ),
                city,
                state,
                zip: format!("{zip}{:02}", rng.random_range(0..100)),
            },
            latitude: ((lat + rng.random_range(-0.3..0.3)) * 1e5).round() / 1e5,
            longitude: ((lon + rng.random_range(-0.3..0.3)) * 1e5).round() / 1e5,
            phone: phone(&mut rng),
            email,
            utc_offset_hours: offset,
            // Rep headcount grows with the customer base: about one rep per 1,000 accounts
            // on top of a founding team of 20.
            rep: rng.random_range(0..20 + index / 1000),
        }
    }

    pub fn contact(&self, account: u64, k: u64) -> Contact {
        let mut rng = self.rng(Stream::Contact, account * 8 + k);
        let (first, last) = person(&mut rng);
        Contact {
            external_id: format!("c-{account:010}-{k}"),
            name: format!("{first} {last}"),
            email: format!(
                "{}.{}.{account}{k}@mail.example.net",
                first.to_lowercase(),
                last.to_lowercase()
            ),
            phone: phone(&mut rng),
        }
    }

    /// The account an opportunity belongs to: mostly a customer of its own generation (new
    /// deals come from new leads), sometimes an older account buying again, with the oldest
    /// and largest accounts the likeliest to come back.
    fn account_of_opportunity(&self, index: u64, rng: &mut SmallRng) -> u64 {
        let own = index / 2;
        if rng.random_bool(0.8) {
            own
        } else {
            let u: f64 = rng.random();
            (own as f64 * u * u * u) as u64
        }
    }

    pub fn opportunity(&self, index: u64) -> Opportunity {
        let mut rng = self.rng(Stream::Opportunity, index);
        let account = self.account_of_opportunity(index, &mut rng);
        let product = pick(&mut rng, &PRODUCTS);
        // Log-normal deal sizes: median about $12k, a long tail of large projects.
        let normal: f64 = (0..12).map(|_| rng.random::<f64>()).sum::<f64>() - 6.0;
        let amount = ((9.4 + 0.8 * normal).exp() * 100.0).round() / 100.0;
        let created = history_instant(&mut rng) - Duration::days(rng.random_range(0..30));
        let roll = rng.random_range(0..100);
        let (disposition, closed_at) = match roll {
            0..60 => ("OPEN", None),
            60..85 => (
                "WON",
                Some(created + Duration::days(rng.random_range(7..120))),
            ),
            _ => (
                "LOST",
                Some(created + Duration::days(rng.random_range(7..90))),
            ),
        };
        Opportunity {
            external_id: format!("o-{index:010}"),
            name: format!("{product} #{index}"),
            amount,
            disposition,
            closed_at,
            remote_created_at: created,
            account,
        }
    }

    /// Engagement `index` of the data set.
    pub fn engagement(&self, index: u64) -> Engagement {
        self.engagement_as(index, Self::engagement_external_id(index))
    }

    /// The content of engagement `index` under another external id (the scenarios' new
    /// engagements borrow the data set's shapes without colliding with its ids).
    pub fn engagement_as(&self, index: u64, external_id: String) -> Engagement {
        let mut rng = self.rng(Stream::Engagement, index);
        let opportunity = self.opportunity(index / ENGAGEMENTS_PER_OPPORTUNITY);
        let account = self.account(opportunity.account);
        let roll = rng.random_range(0..100);
        let mut acc = 0;
        let mut engagement_type = TYPES[0].0;
        for (t, weight) in TYPES {
            acc += weight;
            if roll < acc {
                engagement_type = t;
                break;
            }
        }
        let start = business_hours(
            history_instant(&mut rng),
            account.utc_offset_hours,
            &mut rng,
        );
        let minutes = match engagement_type.activity_type {
            "CALL" => pick(&mut rng, &[5, 10, 15, 30]),
            "EMAIL" => 0,
            _ => pick(&mut rng, &[30, 45, 60, 60, 90, 120]),
        };
        let end = start + Duration::minutes(minutes);
        let local = start + Duration::hours(account.utc_offset_hours);
        // Booked a few days ahead (exponentially distributed), edited once or twice since.
        let lead_days = (-(1.0 - rng.random::<f64>()).ln() * 6.0) as i64;
        let remote_created_at = start - Duration::days(lead_days) - Duration::minutes(37);
        let remote_updated_at = remote_created_at + Duration::minutes(rng.random_range(1..2880));
        let direction = match engagement_type.activity_type {
            "CALL" | "EMAIL" => Some(if rng.random_bool(0.7) {
                "OUTBOUND"
            } else {
                "INBOUND"
            }),
            _ => None,
        };
        let contact = rng
            .random_bool(0.5)
            .then(|| self.contact(opportunity.account, rng.random_range(0..3)));
        // Four meetings in five are with the account's own rep.
        let rep = if rng.random_bool(0.8) {
            account.rep
        } else {
            rng.random_range(0..20 + opportunity.account / 1000)
        };
        let content = rng.random_bool(0.3).then(|| {
            let mut notes = pick(&mut rng, &NOTES).to_owned();
            if rng.random_bool(0.5) {
                notes.push(' ');
                notes.push_str(pick(&mut rng, &NOTES));
            }
            notes
        });
        Engagement {
            subject: format!("{} – {}", engagement_type.name, account.name),
            external_id,
            content,
            direction,
            start,
            end,
            start_localized: local.format("%Y-%m-%d %H:%M:%S").to_string(),
            remote_created_at,
            remote_updated_at,
            engagement_type,
            account,
            contact,
            opportunity,
            rep: self.rep(rep),
        }
    }

    /// A random index below `below`, reproducible per (purpose, n): for picking the stored
    /// engagements that reads and updates go to.
    pub fn sample(&self, n: u64, below: u64) -> u64 {
        let mut rng = self.rng(Stream::Update, n);
        rng.random_range(0..below.max(1))
    }
}

/// An instant in the history window, denser towards the present (the business grew: the
/// density rises linearly over the window), with one in twenty in the next two months
/// (appointments already booked).
fn history_instant(rng: &mut SmallRng) -> DateTime<Utc> {
    let anchor = Utc
        .timestamp_opt(ANCHOR_SECS, 0)
        .single()
        .expect("the anchor is a valid instant");
    let days = if rng.random_bool(0.05) {
        -rng.random_range(0.0..60.0)
    } else {
        HISTORY_DAYS * (1.0 - rng.random::<f64>().sqrt())
    };
    anchor - Duration::seconds((days * 86_400.0) as i64)
}

/// Moves an instant into local business hours: a weekday (weekend bookings mostly move to
/// the nearest weekday; a few stay), between 8:00 and 19:00 with a morning and an afternoon
/// peak, on a quarter hour.
fn business_hours(t: DateTime<Utc>, offset_hours: i64, rng: &mut SmallRng) -> DateTime<Utc> {
    let local = t + Duration::hours(offset_hours);
    let mut day = local.date_naive();
    match day.weekday() {
        Weekday::Sat if rng.random_bool(0.85) => day = day.pred_opt().unwrap_or(day),
        Weekday::Sun if rng.random_bool(0.9) => day = day.succ_opt().unwrap_or(day),
        _ => {}
    }
    let peak = if rng.random_bool(0.55) { 10.0 } else { 14.5 };
    let spread: f64 = (0..4).map(|_| rng.random::<f64>()).sum::<f64>() - 2.0;
    let hour = (peak + spread * 1.6).clamp(8.0, 18.75);
    let quarter = ((hour * 4.0).floor() as u32).min(75);
    let local_time = day
        .and_hms_opt(quarter / 4, (quarter % 4) * 15, 0)
        .unwrap_or_else(|| local.naive_utc());
    let utc = local_time.and_utc() - Duration::hours(offset_hours);
    debug_assert_eq!(utc.second(), 0);
    utc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_data_and_independent_of_size() {
        let g = Generator::new(7);
        let a = g.engagement(123_456);
        let b = g.engagement(123_456);
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        assert_ne!(
            format!("{:?}", g.engagement(1)),
            format!("{:?}", Generator::new(8).engagement(1))
        );
    }

    #[test]
    fn times_are_plausible() {
        let g = Generator::new(1);
        for i in 0..2_000 {
            let e = g.engagement(i);
            assert!(e.end >= e.start, "{i}");
            assert!(e.remote_created_at <= e.start);
            let local = e.start + Duration::hours(e.account.utc_offset_hours);
            assert!((8..19).contains(&local.hour()), "{i}: {local}");
            assert_eq!(local.minute() % 15, 0);
        }
    }
}
