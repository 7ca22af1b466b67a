//! What the protocol knows of one invocation beside its event: the function that received it, and when its work
//! must stop. The handler builds one per event and lends it to the work; the event's [`Request`] stays what
//! CloudFormation sent.
//!
//! [`Request`]: super::Request

use std::time::Instant;

/// One invocation's context, as the resource's work sees it.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The ARN of the function that received the event (the Lambda context's), when the runtime gave one.
    pub function_arn: Option<String>,
    /// When the protocol stops the work (the Lambda deadline less the answer's margin): a resource that waits
    /// for something gives up before it, with its own reason.
    pub work_deadline: Instant,
}

impl Invocation {
    pub fn new(function_arn: Option<String>, work_deadline: Instant) -> Self {
        Invocation {
            function_arn: function_arn.filter(|a| !a.is_empty()),
            work_deadline,
        }
    }

    /// The function's own account, from its ARN (`arn:<partition>:lambda:<region>:<account>:function:…`);
    /// unknown when the runtime gave no function ARN, as in local tests.
    pub fn function_account(&self) -> Option<&str> {
        let arn = crate::arn::parts(self.function_arn.as_deref()?)?;
        (arn.service == "lambda" && crate::arn::is_account_id(arn.account)).then_some(arn.account)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_functions_account_comes_from_its_arn() {
        let now = Instant::now();
        let of = |arn: &str| {
            Invocation::new(Some(arn.into()), now)
                .function_account()
                .map(str::to_owned)
        };
        assert_eq!(
            of("arn:aws:lambda:us-east-1:210987654321:function:f").as_deref(),
            Some("210987654321")
        );
        assert_eq!(of("arn:aws:lambda:us-east-1:2109876:function:f"), None, "not 12 digits");
        assert_eq!(of("arn:aws:iam::210987654321:role/f"), None, "not a function");
        assert_eq!(of(""), None);
        assert_eq!(Invocation::new(None, now).function_account(), None);
    }
}
