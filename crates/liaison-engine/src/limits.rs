//! Request rates per token: a GCRA limiter (the `governor` crate) for each token, in this
//! process's memory. A token may make `limit` requests in a burst, and regains one every
//! `60 s / limit`; the default limit is the server's, a token may carry its own.
//!
//! The limiters are per instance on purpose: sharing them through the database would add a
//! write to every request, read or not. With several instances behind one balancer, a token
//! may make up to `limit` requests per minute at each.

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use liaison_domain::{Error, RateWindow, Result};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;

/// The limit a server applies to tokens that carry none of their own.
pub const DEFAULT_RATE_LIMIT: NonZeroU32 = NonZeroU32::new(1000).unwrap();

type Limiter<C> = RateLimiter<NotKeyed, InMemoryState, C, StateInformationMiddleware>;
/// A token's limiter, with the limit it was made for.
type TokenLimiter<C> = (NonZeroU32, Arc<Limiter<C>>);

/// Every token's limiter, made when the token first calls.
pub(crate) struct RateLimits<C: Clock = DefaultClock> {
    /// `None`: no limit at all.
    default: Option<NonZeroU32>,
    clock: C,
    limiters: Mutex<HashMap<Uuid, TokenLimiter<C>>>,
}

impl RateLimits {
    pub fn new(default: Option<NonZeroU32>) -> Self {
        RateLimits::with_clock(default, DefaultClock::default())
    }
}

impl<C: Clock + Clone> RateLimits<C> {
    fn with_clock(default: Option<NonZeroU32>, clock: C) -> Self {
        RateLimits {
            default,
            clock,
            limiters: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request of `token`, whose own limit is `own` (else the default). `None`
    /// when nothing limits it; a `RateLimited` error when it must wait.
    pub fn admit(&self, token: Uuid, own: Option<NonZeroU32>) -> Result<Option<RateWindow>> {
        let Some(limit) = own.or(self.default) else {
            return Ok(None);
        };
        let limiter = {
            let mut limiters = self.limiters.lock().unwrap_or_else(|p| p.into_inner());
            match limiters.get(&token) {
                Some((l, limiter)) if *l == limit => limiter.clone(),
                _ => {
                    let limiter = Arc::new(
                        RateLimiter::direct_with_clock(
                            Quota::per_minute(limit),
                            self.clock.clone(),
                        )
                        .with_middleware::<StateInformationMiddleware>(),
                    );
                    limiters.insert(token, (limit, limiter.clone()));
                    limiter
                }
            }
        };
        let per_request = Duration::from_secs(60) / limit.get();
        match limiter.check() {
            Ok(state) => {
                let remaining = state.remaining_burst_capacity();
                Ok(Some(RateWindow {
                    limit: limit.get(),
                    remaining,
                    reset: per_request * (limit.get() - remaining),
                }))
            }
            Err(not_until) => Err(Error::RateLimited {
                window: RateWindow {
                    limit: limit.get(),
                    remaining: 0,
                    reset: per_request * limit.get(),
                },
                retry_after: not_until.wait_time_from(self.clock.now()),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;

    /// Limits on a clock the test moves.
    fn fake(default: u32) -> (RateLimits<FakeRelativeClock>, FakeRelativeClock) {
        let clock = FakeRelativeClock::default();
        (
            RateLimits::with_clock(NonZeroU32::new(default), clock.clone()),
            clock,
        )
    }

    fn limited(r: Result<Option<RateWindow>>) -> (RateWindow, Duration) {
        match r {
            Err(Error::RateLimited {
                window,
                retry_after,
            }) => (window, retry_after),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_burst_of_the_limit_then_one_request_per_share_of_the_minute() {
        let (limits, clock) = fake(3);
        let token = Uuid::now_v7();
        let windows: Vec<RateWindow> = (0..3)
            .map(|_| limits.admit(token, None).unwrap().unwrap())
            .collect();
        assert_eq!(
            windows.iter().map(|w| w.remaining).collect::<Vec<_>>(),
            [2, 1, 0]
        );
        assert!(windows.iter().all(|w| w.limit == 3));
        assert_eq!(windows[0].reset, Duration::from_secs(20));
        assert_eq!(windows[2].reset, Duration::from_secs(60));
        let (window, retry_after) = limited(limits.admit(token, None));
        assert_eq!(window.remaining, 0);
        assert_eq!(retry_after, Duration::from_secs(20));
        // Short of the wait, still refused; once it has passed, one more request.
        clock.advance(Duration::from_secs(19));
        let (_, retry_after) = limited(limits.admit(token, None));
        assert_eq!(retry_after, Duration::from_secs(1));
        clock.advance(Duration::from_secs(1));
        assert_eq!(limits.admit(token, None).unwrap().unwrap().remaining, 0);
        // A minute of quiet restores the whole burst.
        clock.advance(Duration::from_secs(60));
        assert_eq!(limits.admit(token, None).unwrap().unwrap().remaining, 2);
    }

    #[test]
    fn tokens_are_counted_apart_and_their_own_limit_wins() {
        let (limits, _) = fake(1);
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        limits.admit(a, None).unwrap();
        limited(limits.admit(a, None));
        assert!(limits.admit(b, None).unwrap().is_some());
        let own = NonZeroU32::new(5);
        let w = limits.admit(a, own).unwrap().unwrap();
        assert_eq!((w.limit, w.remaining), (5, 4));
    }

    #[test]
    fn no_default_and_no_own_limit_is_no_limit() {
        let limits = RateLimits::with_clock(None, FakeRelativeClock::default());
        let token = Uuid::now_v7();
        for _ in 0..10_000 {
            assert_eq!(limits.admit(token, None).unwrap(), None);
        }
        assert!(limits.admit(token, NonZeroU32::new(1)).unwrap().is_some());
        limited(limits.admit(token, NonZeroU32::new(1)));
    }
}
