//! The timing budget, in one table: every timeout, wait and backoff the handler uses, and how they fit into the
//! function's `Timeout` in template.yaml (60 s), which the test below reads and holds them against. The modules
//! that wait take their numbers from here, and wait through [`Retry`], the one deadline-bounded backoff.
//!
//! | what | value | where it is used |
//! |---|---|---|
//! | [`ANSWER_MARGIN`] | 3 s (at most a third of the time left) | the work stops this long before the Lambda deadline, to answer |
//! | [`NO_DEADLINE`] | 900 s | the time assumed when the runtime gives no deadline (Lambda's maximum) |
//! | [`put::TAIL`] | 250 ms | the last PUT attempt ends this long before the deadline, for the runtime's report |
//! | [`put::CONNECT`], [`put::MAX_ATTEMPT`], [`put::MIN_ATTEMPT`], [`put::FIRST_ATTEMPT_FLOOR`] | 3 s, 10 s, 200 ms, 500 ms | one PUT to the ResponseURL |
//! | [`put::BACKOFF`] | 100 ms doubling to 2 s | between PUTs, until the deadline |
//! | [`iam::CONNECT`], [`iam::ATTEMPT`], [`iam::MAX_ATTEMPTS`] | 3 s, 20 s, 8 | the SDK's IAM calls (its own standard backoff) |
//! | [`logzio::ATTEMPT`], [`logzio::ATTEMPTS`], [`logzio::BACKOFF`] | 10 s, 4, 300 ms doubling | one call to Logz.io's API |
//! | [`archive::MAX_ASSUME_WAIT`], [`archive::DEADLINE_RESERVE`] | 90 s, 2 s | how long an archive waits for Logz.io: until the reserve before the work's deadline, at most this |
//! | [`archive::ACCESS_CHECK`] | 1 s doubling to 8 s | a POST or PUT again while Logz.io cannot assume or write with a new role |
//! | [`archive::LOOK_FOR_OWN`] | 500 ms doubling to 4 s | the list read again after a POST whose outcome is unknown |
//! | [`archive::GONE_READS`], [`archive::GONE_READ`] | 3, 500 ms doubling to 2 s | a GET by id that answers 404, read again |
//! | [`archive::SHOWN`] | 250 ms doubling to 4 s | a GET until an update's settings show |
//! | [`archive::UNDO_LOOK`], [`archive::UNDO`] | 10 s, 200 ms doubling to 1 s | after the deadline stopped a POST: the list read for what it made |

use std::time::{Duration, Instant};

/// Time kept back before the Lambda deadline for the answer's PUT (at most a third of the time left).
pub const ANSWER_MARGIN: Duration = Duration::from_secs(3);
/// Assumed time left when the runtime gives no deadline (Lambda's own maximum).
pub const NO_DEADLINE: Duration = Duration::from_secs(900);

/// A delay that starts at `first` and doubles up to `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
}

/// The answer's PUT to the pre-signed ResponseURL.
pub mod put {
    use super::Backoff;
    use std::time::Duration;

    /// Time left after the last PUT attempt, before the Lambda deadline, for the runtime to report the outcome.
    pub const TAIL: Duration = Duration::from_millis(250);
    /// The connection to S3.
    pub const CONNECT: Duration = Duration::from_secs(3);
    /// The longest one attempt may take (S3 answers a PUT in milliseconds; a hung connection must not eat the
    /// rest).
    pub const MAX_ATTEMPT: Duration = Duration::from_secs(10);
    /// No retry is started with less time than this for it.
    pub const MIN_ATTEMPT: Duration = Duration::from_millis(200);
    /// The first attempt gets at least this long, even when the deadline is (nearly) gone: Lambda, not the
    /// handler, ends the process.
    pub const FIRST_ATTEMPT_FLOOR: Duration = Duration::from_millis(500);
    /// Between attempts.
    pub const BACKOFF: Backoff = Backoff {
        first: Duration::from_millis(100),
        max: Duration::from_secs(2),
    };
}

/// IAM, through the AWS SDK (its standard retry mode: exponential backoff with jitter).
pub mod iam {
    use std::time::Duration;

    /// The connection to IAM.
    pub const CONNECT: Duration = Duration::from_secs(3);
    /// One attempt of one call: a hung attempt is retried instead of eating the whole deadline.
    pub const ATTEMPT: Duration = Duration::from_secs(20);
    /// Attempts per call (the SDK's default is 3): throttling during a stack rollout to many accounts is
    /// common, and the Lambda deadline, not this number, bounds the total time.
    pub const MAX_ATTEMPTS: u32 = 8;
}

/// Logz.io's API.
pub mod logzio {
    use super::Backoff;
    use std::time::Duration;

    /// The longest one attempt may take.
    pub const ATTEMPT: Duration = Duration::from_secs(10);
    /// Attempts per call when Logz.io answers 429 or 5xx, or cannot be reached.
    pub const ATTEMPTS: u32 = 4;
    /// Between attempts: 0.3, 0.6, 1.2 s.
    pub const BACKOFF: Backoff = Backoff {
        first: Duration::from_millis(300),
        max: Duration::from_millis(1200),
    };
}

/// The archive's waits for Logz.io.
pub mod archive {
    use super::Backoff;
    use std::time::Duration;

    /// The longest a Create or Update waits for Logz.io to be able to assume a new role, when the work's
    /// deadline is further away.
    pub const MAX_ASSUME_WAIT: Duration = Duration::from_secs(90);
    /// Time kept before the work's deadline when waiting for Logz.io, so the reason is Logz.io's, not "timed
    /// out".
    pub const DEADLINE_RESERVE: Duration = Duration::from_secs(2);
    /// A POST or PUT again while Logz.io's access check fails in a way IAM's propagation explains.
    pub const ACCESS_CHECK: Backoff = Backoff {
        first: Duration::from_secs(1),
        max: Duration::from_secs(8),
    };
    /// The list read again after a POST whose outcome is unknown.
    pub const LOOK_FOR_OWN: Backoff = Backoff {
        first: Duration::from_millis(500),
        max: Duration::from_secs(4),
    };
    /// How many times a GET by id that answers 404 is read again before the archive counts as deleted outside
    /// (Logz.io's reads are eventually consistent; its Terraform provider retries such a 404 too).
    pub const GONE_READS: u32 = 3;
    /// Between those reads.
    pub const GONE_READ: Backoff = Backoff {
        first: Duration::from_millis(500),
        max: Duration::from_secs(2),
    };
    /// A GET again until an update's settings show.
    pub const SHOWN: Backoff = Backoff {
        first: Duration::from_millis(250),
        max: Duration::from_secs(4),
    };
    /// The longest the undo after the deadline looks for the archive a stopped POST may still be landing.
    pub const UNDO_LOOK: Duration = Duration::from_secs(10);
    /// Between those looks.
    pub const UNDO: Backoff = Backoff {
        first: Duration::from_millis(200),
        max: Duration::from_secs(1),
    };
}

/// The one deadline-bounded backoff: each [`Retry::pause`] sleeps the next delay, or says no when the next
/// attempt would start at or after `until` (and then does not sleep).
#[derive(Debug)]
pub struct Retry {
    delay: Duration,
    max: Duration,
    until: Instant,
}

impl Retry {
    pub fn new(backoff: Backoff, until: Instant) -> Retry {
        Retry {
            delay: backoff.first,
            max: backoff.max,
            until,
        }
    }

    /// The delay the next pause would sleep.
    pub fn delay(&self) -> Duration {
        self.delay
    }

    /// Whether another attempt may start after the next delay, before `until`.
    pub fn allows_another(&self) -> bool {
        Instant::now() + self.delay < self.until
    }

    /// At `now`: the delay to sleep, the next one doubled (up to the maximum); or None when the attempt after it
    /// would not start before `until`. No clock and no sleep: [`Retry::pause`] is this and the sleep.
    fn step_at(&mut self, now: Instant) -> Option<Duration> {
        let delay = self.delay;
        if now + delay >= self.until {
            return None;
        }
        self.delay = (delay * 2).min(self.max);
        Some(delay)
    }

    /// Sleeps the next delay (and doubles it, up to the maximum): true. False, without sleeping, when the attempt
    /// after it would not start before `until`.
    pub async fn pause(&mut self) -> bool {
        match self.step_at(Instant::now()) {
            Some(delay) => {
                tokio::time::sleep(delay).await;
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// template.yaml's Function Timeout, in seconds.
    fn template_timeout() -> Duration {
        let template = include_str!("../template.yaml");
        let function = &template[template.find("\n  Function:\n").expect("the Function resource")..];
        let line = function
            .lines()
            .find(|l| l.trim_start().starts_with("Timeout:"))
            .expect("a Timeout");
        Duration::from_secs(line.trim_start()["Timeout:".len()..].trim().parse().expect("seconds"))
    }

    #[test]
    fn the_budget_fits_the_functions_timeout() {
        let timeout = template_timeout();
        assert_eq!(
            timeout,
            Duration::from_secs(60),
            "the table above says 60 s: update it with the template"
        );
        let work = timeout - ANSWER_MARGIN;
        // The answer: its PUT attempts (the first, then at least a short one) and the tail fit in the margin.
        assert!(put::FIRST_ATTEMPT_FLOOR + put::BACKOFF.first + put::MIN_ATTEMPT + put::TAIL <= ANSWER_MARGIN);
        // A hung IAM or Logz.io attempt is cut and retried well within the work's time.
        assert!(iam::ATTEMPT * 2 < work, "two IAM attempts fit");
        assert!(logzio::ATTEMPT * 2 < work, "two Logz.io attempts fit");
        // The archive's wait ends at its reserve before the work's deadline, which a Timeout of 60 s makes the
        // bound (MAX_ASSUME_WAIT applies only with a longer Timeout or none).
        assert!(archive::DEADLINE_RESERVE < work && archive::MAX_ASSUME_WAIT > work);
        // The undo after the deadline runs in its half of the answer margin, or is bounded by UNDO_LOOK.
        assert!(archive::UNDO.max < ANSWER_MARGIN && archive::UNDO_LOOK <= NO_DEADLINE);
        // Every backoff grows and is capped below the time it is bounded by.
        for b in [
            put::BACKOFF,
            logzio::BACKOFF,
            archive::ACCESS_CHECK,
            archive::LOOK_FOR_OWN,
            archive::GONE_READ,
            archive::SHOWN,
            archive::UNDO,
        ] {
            assert!(b.first <= b.max && b.max < work, "{b:?}");
        }
    }

    #[test]
    fn retry_doubles_to_its_cap_and_never_sleeps_past_its_deadline() {
        let start = Instant::now();
        let backoff = Backoff {
            first: Duration::from_millis(100),
            max: Duration::from_millis(300),
        };
        let mut r = Retry::new(backoff, start + Duration::from_millis(1000));
        // The clock as the sleeps would move it, without sleeping.
        let (mut now, mut woke) = (start, Vec::new());
        while let Some(d) = r.step_at(now) {
            now += d;
            woke.push((now - start).as_millis());
        }
        assert_eq!(
            woke,
            [100, 300, 600, 900],
            "100, 200, 300, 300 ms; one more would start at 1200 ms"
        );
        assert_eq!(r.delay(), Duration::from_millis(300));
    }
}
