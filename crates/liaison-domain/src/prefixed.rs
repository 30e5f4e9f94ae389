//! Prefixed ids, the way the engagements API spells them: a short prefix naming what the id
//! is (`ngmt_` an engagement, `cmp_` a company, …) and the UUID in base62, always 22 digits.
//! The digits are in ASCII order, so prefixed ids of one kind sort as their UUIDs do. One
//! codec, reversible, for every face that shows ids this way.

use uuid::Uuid;

/// What a prefixed id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Prefix {
    Engagement,
    Company,
    Contact,
    User,
    Event,
    Recording,
}

impl Prefix {
    pub const ALL: [Prefix; 6] = [
        Prefix::Engagement,
        Prefix::Company,
        Prefix::Contact,
        Prefix::User,
        Prefix::Event,
        Prefix::Recording,
    ];

    /// The prefix, with its underscore.
    pub fn as_str(self) -> &'static str {
        match self {
            Prefix::Engagement => "ngmt_",
            Prefix::Company => "cmp_",
            Prefix::Contact => "cnt_",
            Prefix::User => "usr_",
            Prefix::Event => "evt_",
            Prefix::Recording => "rid_",
        }
    }

    pub fn encode(self, id: Uuid) -> String {
        let mut out = String::with_capacity(self.as_str().len() + DIGITS);
        out.push_str(self.as_str());
        let mut n = id.as_u128();
        let mut digits = [b'0'; DIGITS];
        for d in digits.iter_mut().rev() {
            *d = ALPHABET[(n % 62) as usize];
            n /= 62;
        }
        out.push_str(std::str::from_utf8(&digits).expect("the alphabet is ASCII"));
        out
    }

    /// The UUID of an id with this prefix; an id with another prefix, a wrong length or a
    /// character outside the alphabet is refused.
    pub fn decode(self, s: &str) -> Result<Uuid, PrefixedIdError> {
        let digits = s
            .strip_prefix(self.as_str())
            .ok_or(PrefixedIdError::WrongPrefix(self.as_str()))?;
        if digits.len() != DIGITS {
            return Err(PrefixedIdError::Malformed);
        }
        let mut n: u128 = 0;
        for b in digits.bytes() {
            let d = digit(b).ok_or(PrefixedIdError::Malformed)?;
            n = n
                .checked_mul(62)
                .and_then(|n| n.checked_add(u128::from(d)))
                .ok_or(PrefixedIdError::Malformed)?;
        }
        Ok(Uuid::from_u128(n))
    }
}

/// 62^22 > 2^128 > 62^21: 22 digits hold any UUID.
const DIGITS: usize = 22;
const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'A'..=b'Z' => Some(b - b'A' + 10),
        b'a'..=b'z' => Some(b - b'a' + 36),
        _ => None,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrefixedIdError {
    #[error("the id does not start with `{0}`")]
    WrongPrefix(&'static str),
    #[error("the id is not 22 base62 digits after its prefix")]
    Malformed,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn prefix() -> impl Strategy<Value = Prefix> {
        proptest::sample::select(Prefix::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn round_trips(p in prefix(), n in any::<u128>()) {
            let id = Uuid::from_u128(n);
            let s = p.encode(id);
            prop_assert_eq!(s.len(), p.as_str().len() + DIGITS);
            prop_assert_eq!(p.decode(&s), Ok(id));
        }

        #[test]
        fn order_is_kept(p in prefix(), a in any::<u128>(), b in any::<u128>()) {
            let (x, y) = (p.encode(Uuid::from_u128(a)), p.encode(Uuid::from_u128(b)));
            prop_assert_eq!(x.cmp(&y), a.cmp(&b));
        }

        #[test]
        fn another_prefix_is_refused(p in prefix(), q in prefix(), n in any::<u128>()) {
            prop_assume!(p != q);
            let s = p.encode(Uuid::from_u128(n));
            prop_assert_eq!(q.decode(&s), Err(PrefixedIdError::WrongPrefix(q.as_str())));
        }

        #[test]
        fn a_bad_character_is_refused(
            p in prefix(),
            n in any::<u128>(),
            at in 0..DIGITS,
            bad in "[^0-9A-Za-z]",
        ) {
            let s = p.encode(Uuid::from_u128(n));
            let cut = p.as_str().len() + at;
            let broken = format!("{}{}{}", &s[..cut], bad, &s[cut + 1..]);
            prop_assert!(p.decode(&broken).is_err());
        }

        #[test]
        fn any_text_decodes_or_is_refused_without_panic(p in prefix(), s in ".*") {
            if let Ok(id) = p.decode(&s) {
                prop_assert_eq!(p.encode(id), s);
            }
        }
    }

    #[test]
    fn lengths_and_overflow() {
        let p = Prefix::Engagement;
        assert_eq!(p.encode(Uuid::nil()), "ngmt_0000000000000000000000");
        assert_eq!(p.encode(Uuid::max()), "ngmt_7n42DGM5Tflk9n8mt7Fhc7");
        assert_eq!(
            p.decode("ngmt_000000000000000000000"),
            Err(PrefixedIdError::Malformed)
        );
        assert_eq!(
            p.decode("ngmt_00000000000000000000000"),
            Err(PrefixedIdError::Malformed)
        );
        // 22 digits can say more than 128 bits: past the largest UUID is refused.
        assert_eq!(
            p.decode("ngmt_zzzzzzzzzzzzzzzzzzzzzz"),
            Err(PrefixedIdError::Malformed)
        );
        assert_eq!(
            p.decode("ngmt_7n42DGM5Tflk9n8mt7Fhc8"),
            Err(PrefixedIdError::Malformed)
        );
    }
}
