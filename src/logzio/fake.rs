//! An in-memory Logz.io (and Secrets Manager) for the unit tests of the resources' decisions: accounts by token,
//! one archive per account, and hooks to refuse the next calls. Our idea of Logz.io; the faithful fake of its
//! public API, which checks the role against the IAM emulator, is `tests/logzio_fake.py`.

use super::{Api, ApiToken, Archive, ArchiveSettings, AssumeRoleDetails, LogzioError, LogzioErrorKind, LogzioPort};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

#[derive(Debug, Default)]
struct Account {
    aws_account_id: String,
    external_id: String,
    archives: BTreeMap<u64, Archive>,
}

#[derive(Debug, Default)]
struct State {
    secrets: BTreeMap<String, String>,
    accounts: BTreeMap<String, Account>,
    /// (call, kind, times): the next calls named so are refused with that kind.
    refusals: Vec<(&'static str, LogzioErrorKind, u32)>,
    /// Calls that take effect and then never answer (the deadline stops the caller).
    hang_after: Vec<&'static str>,
    /// Calls that take effect and then answer an error.
    fail_after: Vec<(&'static str, LogzioErrorKind)>,
    next_id: u64,
}

/// The in-memory Logz.io; clones share their state.
#[derive(Debug, Clone, Default)]
pub struct FakeLogzio(Arc<Mutex<State>>);

fn error(call: &str, kind: LogzioErrorKind) -> LogzioError {
    let status = match kind {
        LogzioErrorKind::Unauthorized => 401,
        LogzioErrorKind::NotFound => 404,
        LogzioErrorKind::AssumeRoleRefused | LogzioErrorKind::WriteRefused => 400,
        LogzioErrorKind::Transient => 503,
        LogzioErrorKind::Other => 409,
    };
    LogzioError {
        call: call.to_owned(),
        kind,
        status: Some(status),
        code: format!("fake/{kind:?}"),
        message: format!("{kind:?} (fake Logz.io)"),
    }
}

impl FakeLogzio {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A Logz.io account whose token is stored in the secret `secret_arn`.
    pub fn account(&self, secret_arn: &str, token: &str, aws_account_id: &str, external_id: &str) {
        let mut s = self.lock();
        s.secrets.insert(secret_arn.to_owned(), token.to_owned());
        s.accounts.insert(
            token.to_owned(),
            Account {
                aws_account_id: aws_account_id.to_owned(),
                external_id: external_id.to_owned(),
                archives: BTreeMap::new(),
            },
        );
    }

    /// The account's archives now.
    pub fn archives(&self, token: &str) -> Vec<Archive> {
        self.lock()
            .accounts
            .get(token)
            .map(|a| a.archives.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Someone removes an archive in Logz.io's console.
    pub fn delete_outside(&self, token: &str, id: u64) {
        if let Some(a) = self.lock().accounts.get_mut(token) {
            a.archives.remove(&id);
        }
    }

    /// The next `times` calls named `call` (e.g. `CreateArchive`) are refused with `kind`.
    pub fn refuse(&self, call: &'static str, kind: LogzioErrorKind, times: u32) {
        self.lock().refusals.push((call, kind, times));
    }

    /// The next call named `call` takes effect, then answers with an error of `kind` (its answer lost).
    pub fn fail_after(&self, call: &'static str, kind: LogzioErrorKind) {
        self.lock().fail_after.push((call, kind));
    }

    /// The next call named `call` takes effect, then never answers.
    pub fn hang_after(&self, call: &'static str) {
        self.lock().hang_after.push(call);
    }

    /// Never returns if `call` was told to hang after taking effect.
    async fn leave(&self, call: &'static str) {
        let hang = {
            let mut s = self.lock();
            let found = s.hang_after.iter().position(|c| *c == call);
            found.map(|i| s.hang_after.remove(i)).is_some()
        };
        if hang {
            std::future::pending::<()>().await;
        }
    }

    fn enter(&self, call: &'static str) -> Result<(), LogzioError> {
        let mut s = self.lock();
        if let Some(r) = s.refusals.iter_mut().find(|r| r.0 == call && r.2 > 0) {
            r.2 -= 1;
            return Err(error(call, r.1));
        }
        Ok(())
    }

    fn with_account<T>(
        &self,
        call: &'static str,
        api: &Api,
        f: impl FnOnce(&mut Account, &mut u64) -> Result<T, LogzioError>,
    ) -> Result<T, LogzioError> {
        self.enter(call)?;
        let mut s = self.lock();
        let State { accounts, next_id, .. } = &mut *s;
        match accounts.get_mut(api.token.expose()) {
            Some(a) => f(a, next_id),
            None => Err(error(call, LogzioErrorKind::Unauthorized)),
        }
    }
}

impl LogzioPort for FakeLogzio {
    async fn api_token(&self, secret_arn: &str) -> Result<ApiToken, LogzioError> {
        self.enter("GetSecretValue")?;
        match self.lock().secrets.get(secret_arn) {
            Some(t) => Ok(ApiToken::new(t.clone())),
            None => Err(error("secretsmanager:GetSecretValue", LogzioErrorKind::NotFound)),
        }
    }

    async fn assume_role_details(&self, api: &Api) -> Result<AssumeRoleDetails, LogzioError> {
        self.with_account("GetAssumeRoleDetails", api, |a, _| {
            Ok(AssumeRoleDetails {
                aws_account_id: a.aws_account_id.clone(),
                external_id: a.external_id.clone(),
            })
        })
    }

    async fn list_archives(&self, api: &Api) -> Result<Vec<Archive>, LogzioError> {
        self.with_account("ListArchives", api, |a, _| Ok(a.archives.values().cloned().collect()))
    }

    async fn get_archive(&self, api: &Api, id: u64) -> Result<Option<Archive>, LogzioError> {
        // A NotFound refusal is a 404 that lags behind the archive (the adapter reads a 404 as None).
        match self.with_account("GetArchive", api, |a, _| Ok(a.archives.get(&id).cloned())) {
            Err(e) if e.is(LogzioErrorKind::NotFound) => Ok(None),
            other => other,
        }
    }

    async fn create_archive(&self, api: &Api, s: &ArchiveSettings) -> Result<Archive, LogzioError> {
        let made = self.with_account("CreateArchive", api, |a, next_id| {
            if !a.archives.is_empty() {
                return Err(error("CreateArchive", LogzioErrorKind::Other));
            }
            *next_id += 1;
            let made = Archive::of(1000 + *next_id, s.clone(), Some(a.external_id.clone()));
            a.archives.insert(made.id, made.clone());
            Ok(made)
        });
        self.leave("CreateArchive").await;
        let lost = {
            let mut st = self.lock();
            let found = st.fail_after.iter().position(|c| c.0 == "CreateArchive");
            found.map(|i| st.fail_after.remove(i).1)
        };
        match lost {
            Some(kind) if made.is_ok() => Err(error("CreateArchive", kind)),
            _ => made,
        }
    }

    async fn update_archive(&self, api: &Api, id: u64, s: &ArchiveSettings) -> Result<Archive, LogzioError> {
        self.with_account("UpdateArchive", api, |a, _| match a.archives.get_mut(&id) {
            Some(held) => {
                held.settings = s.clone();
                Ok(held.clone())
            }
            None => Err(error("UpdateArchive", LogzioErrorKind::NotFound)),
        })
    }

    async fn delete_archive(&self, api: &Api, id: u64) -> Result<bool, LogzioError> {
        self.with_account("DeleteArchive", api, |a, _| Ok(a.archives.remove(&id).is_some()))
    }
}
