//! Removing an archive: a Delete removes the one archive its physical id names, and the undo after the deadline
//! removes the one a stopped POST made (found by its exact bucket path and role).

use super::*;

impl<P: IamPort, L: LogzioPort> LogzioArchive<P, L> {
    pub(super) async fn delete_archive(
        &self,
        req: &Request,
        inv: &Invocation,
        log: &CallLog,
    ) -> Result<(), ArchiveError> {
        // Only the archive the physical id is, never the one it replaced (CloudFormation deletes that one with
        // its own id, when the replacement succeeded).
        let Some(id) = req
            .physical_resource_id
            .as_deref()
            .and_then(PhysicalId::of)
            .map(|p| p.archive)
        else {
            tracing::info!("not an archive id (a Create that failed): nothing to delete");
            return Ok(());
        };
        if !preflight::may_have_made(req, inv) {
            return Ok(());
        }
        let Some((secret, region)) = api_of(&req.properties) else {
            // Without the token no archive could have been made under these properties.
            tracing::warn!(archive = id, "no valid LogzioApiTokenSecretArn: nothing can be deleted");
            return Ok(());
        };
        let lz = Session::new(&self.logzio, log);
        let api = self.api(&lz, &secret, region).await?;
        if !lz.delete_archive(&api, id).await? {
            tracing::info!(archive = id, "already gone");
        }
        Ok(())
    }

    /// After the deadline stopped a Create (or an Update registering in another account) that had sent its
    /// POST: the FAILED answer carries no archive id, so nothing else would remove an archive that POST made.
    /// A POST is sent only when the account had no archive (or after re-reading found none like it), so an
    /// archive with exactly this bucket path and role is the one this invocation made.
    pub(super) async fn undo(&self, req: &Request, inv: &Invocation, log: &CallLog) {
        if !log.actions().contains(&"CreateArchive") {
            return;
        }
        let Ok(spec) = parse(req, inv, &self.limits) else {
            return;
        };
        let lz = Session::new(&self.logzio, log);
        let Ok(api) = self.api(&lz, spec.api.token_secret.as_str(), spec.api.region).await else {
            return;
        };
        let settings = settings_of(&spec);
        // The POST may still be landing: look until the protocol stops the undo (its half of the answer margin;
        // UNDO_LOOK bounds it where no protocol does).
        let mut retry = Retry::new(UNDO, Instant::now() + UNDO_LOOK);
        let made = loop {
            match lz.list_archives(&api).await {
                Ok(list) => {
                    if let Some(a) = list.into_iter().find(|a| a.targets(&settings)) {
                        break a;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not read the archives after a stopped create"),
            }
            if !retry.pause().await {
                tracing::warn!("the archive a stopped create posted did not show: it may land later");
                return;
            }
        };
        if let Err(e) = lz.delete_archive(&api, made.id).await {
            tracing::warn!(archive = made.id, error = %e, "could not remove the archive a stopped create made");
        }
    }
}
