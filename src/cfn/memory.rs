//! What a process remembers of the requests it served, so that a redelivery to a warm process runs no work twice.
//!
//! For each request (by RequestId and logical id), the answer's body and the ResponseURLs that had their answer
//! for good: a delivery of the request to one of those URLs is skipped, and one to any other URL (an undelivered
//! answer, or the same request sent again with a new pre-signed URL) gets the same body. Bounded: a redelivery
//! comes within minutes, and events are few per stack.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

/// How many requests a process remembers.
const REMEMBERED: usize = 128;
/// How many ResponseURLs with a final answer are remembered per request.
const ANSWERED_URLS: usize = 4;

/// The key of a request across deliveries: CloudFormation's RequestId is unique per request. None when the event
/// has no RequestId (nothing can be recognised again).
pub(super) fn request_key(request_id: &str, logical_id: &str) -> Option<String> {
    (!request_id.is_empty()).then(|| format!("{request_id}/{logical_id}"))
}

/// What is known of a request seen before.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Seen {
    /// Its answer is final at this URL: nothing is to be run or sent.
    Answered,
    /// Its answer, to be sent to this URL.
    Resend(Vec<u8>),
}

#[derive(Debug)]
struct Remembered {
    body: Vec<u8>,
    answered: Vec<String>,
}

/// The requests one process served, oldest first.
#[derive(Debug, Default)]
pub(super) struct Memory {
    served: Mutex<VecDeque<(String, Remembered)>>,
}

impl Memory {
    /// What this process knows of the request `key` delivered with `url`; None when the request is new here.
    pub(super) fn seen(&self, key: &str, url: &str) -> Option<Seen> {
        let served = self.served.lock().unwrap_or_else(PoisonError::into_inner);
        let remembered = served.iter().find(|(k, _)| k == key).map(|(_, r)| r)?;
        Some(if remembered.answered.iter().any(|u| u == url) {
            Seen::Answered
        } else {
            Seen::Resend(remembered.body.clone())
        })
    }

    /// Remembers that the answer `body` was sent to `url`, and whether it is `final` there. The body of the first
    /// answer is kept: a request is answered with one body, whatever URL asks.
    pub(super) fn remember(&self, key: String, url: &str, body: Vec<u8>, is_final: bool) {
        let mut served = self.served.lock().unwrap_or_else(PoisonError::into_inner);
        let mut remembered = match served.iter().position(|(k, _)| *k == key) {
            Some(i) => served.remove(i).map(|(_, r)| r),
            None => None,
        }
        .unwrap_or(Remembered {
            body,
            answered: Vec::new(),
        });
        if is_final && !remembered.answered.iter().any(|u| u == url) {
            if remembered.answered.len() == ANSWERED_URLS {
                remembered.answered.remove(0);
            }
            remembered.answered.push(url.to_owned());
        }
        if served.len() == REMEMBERED {
            served.pop_front();
        }
        served.push_back((key, remembered));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_body_is_kept_and_a_final_url_is_skipped() {
        let m = Memory::default();
        assert_eq!(m.seen("r/L", "u1"), None);
        m.remember("r/L".into(), "u1", b"first".to_vec(), false);
        assert_eq!(
            m.seen("r/L", "u1"),
            Some(Seen::Resend(b"first".to_vec())),
            "not final: sent again"
        );
        m.remember("r/L".into(), "u1", b"second".to_vec(), true);
        assert_eq!(m.seen("r/L", "u1"), Some(Seen::Answered));
        assert_eq!(
            m.seen("r/L", "u2"),
            Some(Seen::Resend(b"first".to_vec())),
            "one body per request"
        );
    }

    #[test]
    fn memory_is_bounded_oldest_first() {
        let m = Memory::default();
        for i in 0..=REMEMBERED {
            m.remember(format!("r{i}/L"), "u", vec![], true);
        }
        assert_eq!(m.seen("r0/L", "u"), None, "the oldest is forgotten");
        assert_eq!(m.seen(&format!("r{REMEMBERED}/L"), "u"), Some(Seen::Answered));
        for i in 0..=ANSWERED_URLS {
            m.remember("x/L".into(), &format!("u{i}"), vec![], true);
        }
        assert_eq!(
            m.seen("x/L", "u0"),
            Some(Seen::Resend(vec![])),
            "the oldest URL is forgotten"
        );
        assert_eq!(m.seen("x/L", &format!("u{ANSWERED_URLS}")), Some(Seen::Answered));
    }

    #[test]
    fn no_request_id_is_never_recognised() {
        assert_eq!(request_key("", "L"), None);
        assert_eq!(request_key("r", "L").as_deref(), Some("r/L"));
    }
}
