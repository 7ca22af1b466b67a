//! `ServiceTimeout`: how long CloudFormation waits for the answer, which must outlast Lambda's redelivery.

use std::str::FromStr;

/// The shortest `ServiceTimeout` accepted: Lambda may start a delivery of an event until 900 s after it was
/// queued (`MaximumEventAgeInSeconds` in template.yaml: room for a throttle of 5 minutes and both retries of a
/// function error at Lambda's 1 and 2 minutes), and that delivery may run 60 s (`Timeout`) after an init of up
/// to 10 s: 970 s, with 50 s as a margin for the time between CloudFormation's send and Lambda's queue
/// (tests/redelivery.py holds template.yaml to this).
pub const MIN_SERVICE_TIMEOUT_SECS: u64 = 1020;
/// CloudFormation's own limit on `ServiceTimeout`.
pub const MAX_SERVICE_TIMEOUT_SECS: u64 = 3600;

/// CloudFormation's `ServiceTimeout` for this resource, in seconds: 1 to 3600, and for a write at least
/// [`MIN_SERVICE_TIMEOUT_SECS`] ([`ServiceTimeout::outlasts_redelivery`]). A shorter one would let CloudFormation
/// stop waiting while Lambda may still redeliver a Create, which would then make a role nobody deletes. The
/// minimum is the deployment's (it follows template.yaml's EventInvokeConfig) and grew in 0.3, so like the
/// deployment's allowances it does not block a return to a state IAM holds (an Update of a stack made with 300).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceTimeout(u64);

impl ServiceTimeout {
    pub fn seconds(self) -> u64 {
        self.0
    }

    /// Long enough to outlast every redelivery Lambda may make.
    pub fn outlasts_redelivery(self) -> Result<Self, String> {
        if self.0 >= MIN_SERVICE_TIMEOUT_SECS {
            Ok(self)
        } else {
            Err(too_short())
        }
    }
}

impl FromStr for ServiceTimeout {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let Ok(n) = s.trim().parse::<i64>() else {
            return Err(format!(
                "{s:?} is not a whole number of seconds ({MIN_SERVICE_TIMEOUT_SECS} to {MAX_SERVICE_TIMEOUT_SECS})"
            ));
        };
        match u64::try_from(n) {
            Ok(n) if n > MAX_SERVICE_TIMEOUT_SECS => Err(format!(
                "must be at most {MAX_SERVICE_TIMEOUT_SECS} seconds (CloudFormation's limit), got {n}"
            )),
            Ok(n) if n >= 1 => Ok(ServiceTimeout(n)),
            _ => Err(too_short()),
        }
    }
}

fn too_short() -> String {
    format!(
        "must be at least {MIN_SERVICE_TIMEOUT_SECS} seconds: Lambda may redeliver an event for up to 970 s \
         (MaximumEventAgeInSeconds 900 + Timeout 60 + init in template.yaml), and a Create redelivered after \
         CloudFormation stopped waiting would make a role nobody deletes"
    )
}

#[cfg(test)]
mod tests {
    use crate::properties::test_support::*;
    use serde_json::json;

    #[test]
    fn service_timeout_outlasts_lambdas_redelivery() {
        for short in [json!("1019"), json!("300"), json!(60), json!("0"), json!("-5")] {
            assert_eq!(
                rejects("ServiceTimeout", short),
                "invalid properties (1 error): ServiceTimeout: must be at least 1020 seconds: Lambda may redeliver \
                 an event for up to 970 s (MaximumEventAgeInSeconds 900 + Timeout 60 + init in template.yaml), and a \
                 Create redelivered after CloudFormation stopped waiting would make a role nobody deletes"
            );
        }
        let s = accepts("ServiceTimeout", json!("1020"));
        assert_eq!(s.service_timeout.map(|t| t.seconds()), Some(1020));
    }

    #[test]
    fn service_timeout_is_at_most_3600_seconds() {
        let msg = rejects("ServiceTimeout", json!("3601"));
        assert!(
            msg.ends_with("must be at most 3600 seconds (CloudFormation's limit), got 3601"),
            "{msg}"
        );
        accepts("ServiceTimeout", json!(3600));
    }

    #[test]
    fn service_timeout_is_a_whole_number_of_seconds() {
        rejects("ServiceTimeout", json!("5m"));
        rejects("ServiceTimeout", json!(600.5));
        assert_eq!(parse(&base()).expect("valid").service_timeout, None);
    }
}
