//! An Update in place: the archive read by its id (a 404 read again), PUT with the new settings, and read until
//! they show (Logz.io's reads are eventually consistent).

use super::*;

impl<P: IamPort, L: LogzioPort> LogzioArchive<P, L> {
    /// The physical id after the Update: the request's own when the archive stays, `new-replacing-old` when it
    /// was registered anew (CloudFormation then deletes the old one), the replaced one's on a return to it.
    pub(super) async fn update_archive(
        &self,
        req: &Request,
        inv: &Invocation,
        log: &CallLog,
    ) -> Result<PhysicalId, Failed<ArchiveError, u64>> {
        let (spec, refusal) = parse_held(req, inv, &self.limits)?;
        let current = req.physical_resource_id.as_deref().and_then(PhysicalId::of);
        let own = current.map(|c| c.own()).unwrap_or_default();
        let old = req.old_properties.as_ref().and_then(api_of);
        let same_account = old
            .as_ref()
            .is_some_and(|(s, r)| s == spec.api.token_secret.as_str() && *r == spec.api.region);
        let anew = |made: u64| match current {
            Some(c) if c.archive == made => c,
            Some(c) if c.replaced == Some(made) => PhysicalId {
                archive: made,
                replaced: None,
            },
            c => PhysicalId {
                archive: made,
                replaced: c.map(|c| c.archive),
            },
        };
        let Some(id) = current.filter(|_| same_account) else {
            if let Some(e) = refusal {
                return Err(e.into());
            }
            // Another Logz.io account (or no archive yet): a new archive, and CloudFormation deletes the old one;
            // or, on the rollback of such an Update, the archive it replaced.
            return self.register(inv, log, &spec, None, &own).await.map(anew);
        };
        let lz = Session::new(&self.logzio, log);
        let api = self.api(&lz, spec.api.token_secret.as_str(), spec.api.region).await?;
        let settings = settings_of(&spec);
        let held = self.read_by_id(&lz, &api, id.archive, inv).await?;
        if let Some(e) = refusal {
            // Only a return to exactly what Logz.io holds needs no write.
            return match held {
                Some(a) if a.shows(&settings) => {
                    tracing::warn!(archive = id.archive, refusal = %e, "Logz.io holds the archive as asked: no write");
                    Ok(id)
                }
                _ => Err(e.into()),
            };
        }
        match held {
            None => {
                tracing::info!(
                    archive = id.archive,
                    "the archive was deleted outside the stack: registering it again"
                );
                self.register(inv, log, &spec, Some(api), &own).await.map(anew)
            }
            Some(a) if a.shows(&settings) => Ok(id),
            Some(_) => {
                self.write(&lz, &api, Some(id.archive), &settings, inv).await?;
                self.read_until_shown(&lz, &api, id.archive, &settings, inv).await?;
                Ok(id)
            }
        }
    }

    /// The archive `id`, or None when it is gone: a 404 is read again (up to [`GONE_READS`] times, with backoff,
    /// until shortly before the deadline) and checked against the account's list before it counts, so that
    /// a lagging read is not taken for "deleted outside" (which would register a second archive).
    pub(super) async fn read_by_id(
        &self,
        lz: &Session<'_, L>,
        api: &Api,
        id: u64,
        inv: &Invocation,
    ) -> Result<Option<Archive>, ArchiveError> {
        let mut retry = Retry::new(GONE_READ, wait_until(inv));
        for read in 0..=GONE_READS {
            if let Some(a) = lz.get_archive(api, id).await? {
                return Ok(Some(a));
            }
            if read == GONE_READS || !retry.pause().await {
                break;
            }
        }
        Ok(lz.list_archives(api).await?.into_iter().find(|a| a.id == id))
    }

    /// Logz.io's updates are eventually consistent: read until the new settings show, as its Terraform provider
    /// does, until shortly before the deadline.
    pub(super) async fn read_until_shown(
        &self,
        lz: &Session<'_, L>,
        api: &Api,
        id: u64,
        settings: &ArchiveSettings,
        inv: &Invocation,
    ) -> Result<(), ArchiveError> {
        let start = Instant::now();
        let mut retry = Retry::new(SHOWN, wait_until(inv));
        loop {
            if lz.get_archive(api, id).await?.is_some_and(|a| a.shows(settings)) {
                return Ok(());
            }
            if !retry.pause().await {
                return Err(ArchiveError::NotShown {
                    id,
                    waited: start.elapsed().as_secs(),
                });
            }
        }
    }
}
