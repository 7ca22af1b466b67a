//! The pre-flight both resources run before their first call, written once: the deployment's settings are valid,
//! and the event's stack is a CloudFormation stack (its partition and account known) in the function's own
//! account (a forged event may name another account's stack, and a role there). Pure.

use crate::cfn::event::stack_arn;
use crate::cfn::{Invocation, Request};
use crate::limits::{Limits, LimitsError};

/// The stack an event is about: the partition and account every ARN the resources write uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stack {
    pub partition: String,
    pub account: String,
}

/// Why an event was refused before any call; the Display text is the Reason.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Refused {
    /// `refuses`: what the function therefore does not do ("makes no role").
    #[error("the function's deployment settings are invalid, so it {refuses}: {settings}")]
    Deployment {
        settings: LimitsError,
        refuses: &'static str,
    },
    #[error("StackId {0:?} is not a CloudFormation stack ARN, so the partition and account are unknown")]
    NoPartition(String),
    /// A forged event may name another account's stack.
    #[error(
        "StackId: the stack is in account {stack}, but this function serves only its own account {function}; \
         deploy the handler in the stack's account"
    )]
    OtherAccount { stack: String, function: String },
}

/// The deployment's limits, or the refusal of a function deployed with invalid settings.
pub fn limits<'a>(limits: &'a Result<Limits, LimitsError>, refuses: &'static str) -> Result<&'a Limits, Refused> {
    limits.as_ref().map_err(|e| Refused::Deployment {
        settings: e.clone(),
        refuses,
    })
}

/// The event's stack, if it is a CloudFormation stack of the function's own account (when the invocation says
/// which account that is).
pub fn stack(req: &Request, invocation: &Invocation) -> Result<Stack, Refused> {
    let arn = stack_arn(&req.stack_id).ok_or_else(|| Refused::NoPartition(req.stack_id.clone()))?;
    let (partition, account) = (arn.partition.to_owned(), arn.account.to_owned());
    match invocation.function_account() {
        Some(function) if function != account => Err(Refused::OtherAccount {
            stack: account,
            function: function.to_owned(),
        }),
        None if invocation.function_arn.is_some() => {
            // Not a function ARN the check can read: the stack's account is taken, as when none is given.
            tracing::warn!("the invocation's function ARN names no account: the stack's account is not checked");
            Ok(Stack { partition, account })
        }
        _ => Ok(Stack { partition, account }),
    }
}

/// Whether a Delete's stack is one the pre-flight lets a Create or Update serve. Another account's stack (a
/// forged event, or the rollback of a Create refused for it) or a StackId that is no stack ARN never had anything
/// made for it, so its Delete succeeds touching nothing, with no call: failing would leave it in DELETE_FAILED.
pub fn may_have_made(req: &Request, invocation: &Invocation) -> bool {
    match stack(req, invocation) {
        Ok(_) => true,
        Err(refused) => {
            tracing::warn!(problem = %refused, "Delete of a stack this function serves nothing for: nothing touched");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfn::Reading;
    use crate::cfn::read_event;
    use serde_json::json;

    fn request(stack_id: &str) -> Request {
        let event = json!({"RequestType": "Create", "ResponseURL": "http://127.0.0.1:1/r", "StackId": stack_id,
                           "RequestId": "r", "ResourceType": "Custom::LogzioRole", "LogicalResourceId": "L",
                           "ServiceToken": "t", "ResourceProperties": {}});
        let Reading::Request { request, .. } = read_event(&event) else {
            panic!("a request")
        };
        request
    }

    fn received_by(function_arn: Option<&str>) -> Invocation {
        Invocation::new(function_arn.map(str::to_owned), std::time::Instant::now())
    }

    #[test]
    fn a_stack_of_the_functions_account_gives_its_partition_and_account() {
        let r = request("arn:aws-cn:cloudformation:cn-north-1:123456789012:stack/s/id");
        let by = received_by(Some("arn:aws-cn:lambda:cn-north-1:123456789012:function:f"));
        let expected = Stack {
            partition: "aws-cn".into(),
            account: "123456789012".into(),
        };
        assert_eq!(stack(&r, &by).expect("ok"), expected);
        // Unknown function account (local tests): the stack's own is taken.
        assert_eq!(stack(&r, &received_by(None)).expect("ok"), expected);
    }

    #[test]
    fn another_accounts_stack_or_no_stack_arn_is_refused_naming_it() {
        let r = request("arn:aws:cloudformation:us-east-1:210987654321:stack/s/id");
        let by = received_by(Some("arn:aws:lambda:us-east-1:123456789012:function:f"));
        assert!(
            stack(&r, &by)
                .expect_err("other")
                .to_string()
                .contains("account 210987654321")
        );
        let e = stack(&request("not-an-arn"), &received_by(None))
            .expect_err("no arn")
            .to_string();
        assert_eq!(
            e,
            "StackId \"not-an-arn\" is not a CloudFormation stack ARN, so the partition and account are unknown"
        );
    }

    #[test]
    fn invalid_settings_are_refused_saying_what_is_not_done() {
        let bad = Limits::from_vars(|v| (v == crate::limits::PATH_PREFIX_VAR).then(|| "nope".into()));
        let e = limits(&bad, "makes no role").expect_err("invalid").to_string();
        assert!(
            e.starts_with("the function's deployment settings are invalid, so it makes no role: "),
            "{e}"
        );
    }
}
