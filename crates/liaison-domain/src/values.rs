//! Validated values: enums with their published spellings, and the small value types of the
//! model. Each has one way in (`parse`) and one spelling out (`as_str`).

use serde::{Deserialize, Serialize};

macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [&'static str] = &[$($text),+];

            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($text => Some(Self::$variant),)+
                    _ => None,
                }
            }

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }
        }
    };
}

wire_enum!(
    /// What kind of activity an engagement type is.
    ActivityType {
        Meeting => "MEETING",
        Call => "CALL",
        Appointment => "APPOINTMENT",
        Email => "EMAIL",
        Text => "TEXT",
        Event => "EVENT",
        SiroEvent => "SIRO_EVENT",
        SiroBotRecording => "SIRO_BOT_RECORDING",
    }
);

impl ActivityType {
    /// Only these appear in a rep's appointment list and are candidates for recording matching.
    pub fn is_appointment(self) -> bool {
        matches!(
            self,
            ActivityType::Meeting | ActivityType::Appointment | ActivityType::Event
        )
    }
}

wire_enum!(
    Direction {
        Inbound => "INBOUND",
        Outbound => "OUTBOUND",
    }
);

wire_enum!(
    Disposition {
        Open => "OPEN",
        Lost => "LOST",
        Won => "WON",
    }
);

/// A postal address as the integrations contract has it (every part required).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub country: String,
    pub street: String,
    pub city: String,
    pub state: String,
    pub zip: String,
}

/// A non-negative, finite amount of money.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Amount(f64);

impl Amount {
    pub fn parse(v: f64) -> Option<Self> {
        (v.is_finite() && v >= 0.0).then_some(Amount(v))
    }
    pub fn get(self) -> f64 {
        self.0
    }
}

/// A rep's fractional share of a sale: 0.5 is 50%.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Share(f64);

impl Share {
    pub fn parse(v: f64) -> Option<Self> {
        (v.is_finite() && (0.0..=1.0).contains(&v)).then_some(Share(v))
    }
    pub fn get(self) -> f64 {
        self.0
    }
}

/// A latitude or longitude; any finite number (the contract gives no range).
pub fn parse_coordinate(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_their_spelling() {
        for s in ActivityType::ALL {
            assert_eq!(ActivityType::parse(s).unwrap().as_str(), *s);
        }
        assert_eq!(ActivityType::parse("meeting"), None);
        assert!(ActivityType::Event.is_appointment());
        assert!(!ActivityType::Call.is_appointment());
    }

    #[test]
    fn amounts_and_shares_have_ranges() {
        assert!(Amount::parse(-0.01).is_none());
        assert!(Amount::parse(f64::NAN).is_none());
        assert_eq!(Amount::parse(45000.0).unwrap().get(), 45000.0);
        assert!(Share::parse(1.01).is_none());
        assert!(Share::parse(-0.1).is_none());
        assert!(Share::parse(0.0).is_some() && Share::parse(1.0).is_some());
    }
}
