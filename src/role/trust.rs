//! Where a role's trust comes from: the given `ExternalId`, or Logz.io's API with the token secret, held to the
//! accounts the deployment trusts; and the trust a role already holds.

use super::*;

impl<P: IamPort, L: LogzioPort> LogzioRole<P, L> {
    /// The account and external ID the role trusts: from the properties, or from Logz.io's API (the token from
    /// Secrets Manager), held to the deployment's trusted accounts either way.
    pub(super) async fn trust(&self, parsed: &Parsed<'_>, log: &CallLog) -> Result<Trust, RoleError> {
        let (api, given_account) = match &parsed.spec.trust {
            TrustSource::Given(t) => return Ok(t.clone()),
            TrustSource::FromLogzio { api, account } => (api, account),
        };
        let lz = LogzioSession::new(&self.logzio, log);
        let token = lz
            .api_token(api.token_secret.as_str())
            .await
            .map_err(RoleError::Logzio)?;
        let details = lz
            .assume_role_details(&Api {
                region: api.region,
                token,
            })
            .await
            .map_err(RoleError::Logzio)?;
        let invalid = |what: &'static str| move |rule: String| RoleError::LogzioAnswer { what, rule };
        let account: AccountId = details.aws_account_id.parse().map_err(invalid("an AWS account"))?;
        if let Some(given) = given_account
            && given != &account
        {
            return Err(RoleError::LogzioAccountDiffers {
                given: given.to_string(),
                logzio: account.to_string(),
            });
        }
        let external_id: ExternalId = details.external_id.parse().map_err(invalid("an external ID"))?;
        match parsed.limits.trusts(account.clone()) {
            Ok(account) => Ok(Trust { account, external_id }),
            Err(rule) => Err(RoleError::UntrustedLogzioAccount {
                account: details.aws_account_id.clone(),
                rule,
                answered: Box::new(Trust { account, external_id }),
            }),
        }
    }

    /// The path a role gets when `Path` is not given (also when the settings are invalid: nothing is made then).
    pub(super) fn default_path(&self) -> &str {
        self.limits
            .as_ref()
            .map_or(crate::limits::DEFAULT_PATH_PREFIX, |l| l.path_prefix.as_str())
    }
}

/// The trust a role holds, when it is one this resource writes: one Logz.io account of the deployment's
/// trusted ones, with one external ID.
pub(super) fn held_trust(role: &ActualRole, limits: &Limits) -> Option<Trust> {
    let mut found = limits.trusted_account_ids.iter().filter_map(|a| {
        match crate::policy::external_ids_trusted_for(&role.trust_policy, a.as_str())[..] {
            [ref id] => Some(Trust {
                account: a.clone(),
                external_id: id.parse().ok()?,
            }),
            _ => None,
        }
    });
    let one = found.next()?;
    found.next().is_none().then_some(one)
}
