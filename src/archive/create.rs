//! Registering an archive (a Create, or an Update that moves to another Logz.io account or finds its archive
//! gone): one POST, retried while Logz.io's access check fails as IAM's propagation explains, an unknown outcome
//! looked for, and the external ID Logz.io presents checked against the role's trust.

use super::*;

impl<P: IamPort, L: LogzioPort> LogzioArchive<P, L> {
    /// POST (or PUT when `id` is given), retrying while Logz.io's access check fails in a way IAM's propagation
    /// explains (it cannot assume the new role yet, or cannot write with its new policy yet).
    ///
    /// A PUT is cut off shortly before the deadline, so the reason is Logz.io's, not "timed out". A POST is not:
    /// once sent, its outcome is known only from its answer or from the archive appearing, so it runs until the
    /// work's deadline (where the protocol stops the work and [`Self::undo`] looks for what it made), and a POST
    /// whose answer is lost is looked for until then too. Only the POST this request sent, after reading that
    /// the account had no archive, is taken as its own.
    pub(super) async fn write(
        &self,
        lz: &Session<'_, L>,
        api: &Api,
        id: Option<u64>,
        settings: &ArchiveSettings,
        inv: &Invocation,
    ) -> Result<Archive, ArchiveError> {
        let (start, until) = (Instant::now(), wait_until(inv));
        let mut retry = Retry::new(ACCESS_CHECK, until);
        loop {
            let result = match id {
                None => lz.create_archive(api, settings).await,
                Some(id) => {
                    let left = until.saturating_duration_since(Instant::now());
                    tokio::time::timeout(left, lz.update_archive(api, id, settings))
                        .await
                        .unwrap_or_else(|_| Err(cut_off(left)))
                }
            };
            match result {
                Err(e) if e.is_access_check() => {
                    if !retry.allows_another() {
                        let waited = start.elapsed().as_secs();
                        return Err(ArchiveError::AccessRefused { waited, error: e });
                    }
                    let delay_ms = retry.delay().as_millis() as u64;
                    tracing::info!(error = %e, delay_ms, "Logz.io's access check fails yet");
                    retry.pause().await;
                }
                Err(e) if id.is_none() && !e.is(LogzioErrorKind::Unauthorized) => {
                    return match self.look_for_own(lz, api, settings, &e, inv).await? {
                        Some(made) => Ok(made),
                        None => Err(e.into()),
                    };
                }
                other => return Ok(other?),
            }
        }
    }

    /// After a POST of this request failed without saying it did nothing (its answer lost, a transient error, or
    /// a refusal that may be "it exists already" from an earlier attempt of the same call): the archive with
    /// exactly these settings, which only this POST can have made (the account had none when it was sent).
    /// A transient failure may still land: it is looked for until the work's deadline.
    pub(super) async fn look_for_own(
        &self,
        lz: &Session<'_, L>,
        api: &Api,
        settings: &ArchiveSettings,
        e: &LogzioError,
        inv: &Invocation,
    ) -> Result<Option<Archive>, ArchiveError> {
        let mut retry = Retry::new(LOOK_FOR_OWN, inv.work_deadline);
        loop {
            let list = lz.list_archives(api).await?;
            if let Some(made) = list.into_iter().find(|a| a.targets(settings)) {
                return Ok(Some(made));
            }
            if !e.is(LogzioErrorKind::Transient) || !retry.pause().await {
                return Ok(None);
            }
        }
    }

    /// Creates the archive in the account `api` reaches (a Create, or an Update that moves to another account or
    /// finds its archive gone): the new archive's id, or the reason, with the id of an archive left behind.
    pub(super) async fn register(
        &self,
        inv: &Invocation,
        log: &CallLog,
        spec: &ArchiveSpec,
        api: Option<Api>,
        own: &[u64],
    ) -> Result<u64, Failed<ArchiveError, u64>> {
        let lz = Session::new(&self.logzio, log);
        // The token, unless the caller read it already (one GetSecretValue per event).
        let api = match api {
            Some(api) => api,
            None => self.api(&lz, spec.api.token_secret.as_str(), spec.api.region).await?,
        };
        let settings = settings_of(spec);
        // Nothing in Logz.io says which stack or resource registered an archive, so one that exists is taken as
        // this resource's only when its physical id names it (`own`: a rollback to the archive an Update
        // replaced). However like this one, any other is left alone: a renamed resource, a second resource for
        // the same bucket and role, or an archive registered by hand would otherwise share its id, and the
        // Delete of either would remove the archive the other still uses. (An earlier delivery of this same
        // request to this process is answered from the handler's memory without running again.)
        let existing = lz.list_archives(&api).await.map_err(ArchiveError::from)?;
        if let Some(a) = existing.iter().find(|a| own.contains(&a.id)) {
            if !a.shows(&settings) {
                self.write(&lz, &api, Some(a.id), &settings, inv).await?;
            }
            return Ok(a.id);
        }
        if let Some(a) = existing.into_iter().next() {
            return Err(ArchiveError::AnotherArchive {
                id: a.id,
                path: a.described(),
                like_this_one: a.targets(&settings),
            }
            .into());
        }
        let made = self.write(&lz, &api, None, &settings, inv).await?;
        if let Err(e) = self.check_external_id(log, spec, &made).await {
            return match lz.delete_archive(&api, made.id).await {
                Ok(_) => Err(e.into()),
                // Still there: the answer names it, so CloudFormation's rollback Delete removes it.
                Err(_) => Err(Failed::leaving(e, Some(made.id))),
            };
        }
        Ok(made.id)
    }

    /// The external ID Logz.io reports for the archive must be one the role trusts, when both are known.
    pub(super) async fn check_external_id(
        &self,
        log: &CallLog,
        spec: &ArchiveSpec,
        made: &Archive,
    ) -> Result<(), ArchiveError> {
        let Some(presented) = &made.external_id else {
            return Ok(());
        };
        let iam = IamSession::new(&self.iam, log);
        let role = spec.role_arn.resource_name();
        let trust = match iam.get_role(role).await {
            Ok(Some(r)) => r.trust_policy,
            Ok(None) => return Ok(()),
            Err(e) => {
                tracing::warn!(role, error = %e, "could not read the role's trust to compare the external ID");
                return Ok(());
            }
        };
        // Only what the role requires of Logz.io's accounts: an ID another principal must present is no match.
        let accounts = self
            .limits
            .as_ref()
            .map(|l| l.trusted_account_ids.clone())
            .unwrap_or_default();
        let trusted: Vec<String> = accounts
            .iter()
            .flat_map(|a| external_ids_trusted_for(&trust, a.as_str()))
            .collect();
        if trusted.is_empty() || trusted.contains(presented) {
            return Ok(());
        }
        Err(ArchiveError::ExternalIdMismatch { role: role.to_owned() })
    }
}
