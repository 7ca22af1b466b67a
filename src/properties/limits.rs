//! What the deployment allows: the limits every role the function makes is held to, whatever the stack author
//! asks for in the resource's properties.
//!
//! They come from the template's parameters through the function's environment, never from the event: the
//! stack author is exactly the party they constrain. Pure: [`Limits::from_vars`] reads through a lookup
//! function, and only [`Limits::from_env`] touches the process environment. It knows nothing of IAM calls or
//! the protocol. The two allowances a property is held to ([`Limits::trusts`], [`Limits::allows`]) are here; the
//! newtypes they take know nothing of the limits (so `properties`' newtypes ← limits ← the properties' parse,
//! with no circle).

use super::account::AccountId;
use super::arn::Arn;
use super::bucket::BucketName;
use super::role_path::RolePath;
use std::fmt;

/// The permissions boundary attached to every role the function creates (unset: none, local emulation only).
pub const BOUNDARY_VAR: &str = "LOGZIO_ROLE_BOUNDARY_ARN";
/// The IAM path every role must be under.
pub const PATH_PREFIX_VAR: &str = "LOGZIO_ROLE_PATH_PREFIX";
/// The accounts a role's trust policy may name, comma-separated.
pub const TRUSTED_ACCOUNTS_VAR: &str = "LOGZIO_TRUSTED_ACCOUNT_IDS";
/// The buckets a role may reach: names or S3-style wildcard patterns (`*`, `?`), comma-separated.
pub const ALLOWED_BUCKETS_VAR: &str = "LOGZIO_ALLOWED_BUCKETS";

/// The path prefix when [`PATH_PREFIX_VAR`] is unset.
pub const DEFAULT_PATH_PREFIX: &str = "/logzio/";

/// What the deployment allows (template parameters -> the function's environment); the stack author cannot
/// change it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// `LOGZIO_ROLE_BOUNDARY_ARN`; `None` = no boundary (local emulation only).
    pub boundary_arn: Option<Arn>,
    /// `LOGZIO_ROLE_PATH_PREFIX`, default `/logzio/`: the default `Path`, and the one every `Path` must be under.
    pub path_prefix: RolePath,
    /// `LOGZIO_TRUSTED_ACCOUNT_IDS`, default Logz.io's account; the first is the default `LogzioAccountId`.
    pub trusted_account_ids: Vec<AccountId>,
    /// `LOGZIO_ALLOWED_BUCKETS`, default `*` (any bucket).
    pub allowed_buckets: Vec<BucketPattern>,
    /// False only in [`Limits::as_held`]: the allowances (buckets, trusted accounts, the path prefix of an
    /// explicit `Path`) are not checked.
    pub enforced: bool,
}

impl Default for Limits {
    /// No boundary, `/logzio/`, Logz.io's account, any bucket: what the function uses when nothing is set.
    fn default() -> Self {
        Limits {
            boundary_arn: None,
            path_prefix: DEFAULT_PATH_PREFIX.parse().unwrap_or_default(),
            trusted_account_ids: vec![AccountId::logzio()],
            allowed_buckets: vec![BucketPattern("*".into())],
            enforced: true,
        }
    }
}

impl Limits {
    /// The limits from the process environment (a value that is not UTF-8 is read lossily, so it is refused
    /// rather than taken as unset).
    pub fn from_env() -> Result<Limits, LimitsError> {
        Limits::from_vars(|name| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned()))
    }

    /// These limits without their allowances: what an Update reads properties with to ask "does IAM already
    /// hold exactly this?" after the allowances refused them. A state IAM holds needs no write, so a return to
    /// it (CloudFormation's rollback to the old properties) is never blocked by limits narrowed since; any
    /// write is still refused. The boundary and the default path are unchanged.
    pub fn as_held(&self) -> Limits {
        Limits {
            enforced: false,
            ..self.clone()
        }
    }

    /// The limits from `get` (a variable's value, `None` when unset). An empty value counts as unset; every
    /// invalid variable is reported at once.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<Limits, LimitsError> {
        let mut errors = Vec::new();
        let d = Limits::default();
        let limits = Limits {
            boundary_arn: setting(&get, BOUNDARY_VAR, d.boundary_arn, &mut errors, |v| {
                Arn::iam_policy(v).map(Some)
            }),
            path_prefix: setting(&get, PATH_PREFIX_VAR, d.path_prefix, &mut errors, |v| v.parse()),
            trusted_account_ids: setting(&get, TRUSTED_ACCOUNTS_VAR, d.trusted_account_ids, &mut errors, list),
            allowed_buckets: setting(&get, ALLOWED_BUCKETS_VAR, d.allowed_buckets, &mut errors, list),
            enforced: true,
        };
        if errors.is_empty() {
            Ok(limits)
        } else {
            Err(LimitsError(errors))
        }
    }

    /// True when `bucket` matches one of the allowed patterns.
    pub fn allows_bucket(&self, bucket: &str) -> bool {
        self.allowed_buckets.iter().any(|p| p.matches(bucket))
    }

    /// The account if the deployment trusts it (`LOGZIO_TRUSTED_ACCOUNT_IDS`), else the rule it breaks.
    pub fn trusts(&self, account: AccountId) -> Result<AccountId, String> {
        if !self.enforced || self.trusted_account_ids.contains(&account) {
            return Ok(account);
        }
        let trusted: Vec<&str> = self.trusted_account_ids.iter().map(AccountId::as_str).collect();
        Err(format!(
            "{account} is not an account this deployment trusts ({}; template parameter TrustedLogzioAccountIds)",
            trusted.join(", ")
        ))
    }

    /// The bucket if the deployment allows it (`LOGZIO_ALLOWED_BUCKETS`), else the rule it breaks.
    pub fn allows(&self, bucket: BucketName) -> Result<BucketName, String> {
        if !self.enforced || self.allows_bucket(bucket.as_str()) {
            return Ok(bucket);
        }
        let allowed: Vec<String> = self.allowed_buckets.iter().map(ToString::to_string).collect();
        Err(format!(
            "{:?} is not among the buckets this deployment allows ({}; template parameter AllowedBucketNames)",
            bucket.as_str(),
            allowed.join(", ")
        ))
    }
}

/// The variable `name` parsed by `parse` (trimmed), or `default` when unset or empty; an invalid value is
/// recorded in `errors`.
fn setting<T>(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: T,
    errors: &mut Vec<SettingError>,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> T {
    match get(name).as_deref().map(str::trim) {
        None | Some("") => default,
        Some(v) => parse(v).unwrap_or_else(|rule| {
            errors.push(SettingError { variable: name, rule });
            default
        }),
    }
}

/// A comma-separated list, each entry trimmed and parsed; an empty entry is an error.
fn list<T: std::str::FromStr<Err = String>>(v: &str) -> Result<Vec<T>, String> {
    v.split(',')
        .map(|e| match e.trim() {
            "" => Err("has an empty entry (a stray comma?)".to_owned()),
            e => e.parse(),
        })
        .collect()
}

/// An allowed-bucket entry: a bucket name, or a pattern where `*` is any run of characters and `?` any one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketPattern(String);

impl BucketPattern {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when `bucket` matches the pattern as S3 and IAM match wildcards.
    pub fn matches(&self, bucket: &str) -> bool {
        wildcard_match(&self.0, bucket)
    }
}

/// IAM's wildcard match (of a Resource pattern, or a bucket pattern): `*` any run of characters, `?` any one.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (p, s): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // Two-pointer glob match, backtracking to the last '*'.
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while j < s.len() {
        if i < p.len() && (p[i] == '?' || p[i] == s[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(st) = star {
            i = st + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    p[i..].iter().all(|c| *c == '*')
}

impl fmt::Display for BucketPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for BucketPattern {
    type Err = String;

    /// At most 63 of S3's bucket-name characters (lowercase letters, digits, dots, hyphens) and `*` / `?`.
    fn from_str(p: &str) -> Result<Self, String> {
        if p.len() > 63 {
            return Err(format!("{p:?} is longer than a bucket name can be (63 characters)"));
        }
        match p
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || ".-*?".contains(*c)))
        {
            Some(c) => Err(format!(
                "{p:?}: {c:?} is not allowed: only lowercase letters, digits, dots, hyphens and the wildcards * \
                 and ? (S3 naming rules)"
            )),
            None => Ok(BucketPattern(p.to_owned())),
        }
    }
}

/// One invalid setting: the variable and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingError {
    pub variable: &'static str,
    pub rule: String,
}

/// Every invalid setting of the deployment; the function cannot work until they are fixed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LimitsError(pub Vec<SettingError>);

impl fmt::Display for LimitsError {
    /// `invalid deployment settings (N errors): VAR: rule; VAR: rule`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(
            f,
            "invalid deployment settings ({n} error{}): ",
            if n == 1 { "" } else { "s" }
        )?;
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", e.variable, e.rule)?;
        }
        Ok(())
    }
}

impl LimitsError {
    /// True when some error names `variable`.
    pub fn names(&self, variable: &str) -> bool {
        self.0.iter().any(|e| e.variable == variable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(vars: &[(&str, &str)]) -> Result<Limits, LimitsError> {
        Limits::from_vars(|name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned()))
    }

    fn rejects(var: &'static str, value: &str) -> String {
        let e = from(&[(var, value)]).expect_err("should be rejected");
        assert!(e.names(var), "{var} not named in: {e}");
        e.to_string()
    }

    fn accepts(var: &'static str, value: &str) -> Limits {
        from(&[(var, value)]).unwrap_or_else(|e| panic!("rejected: {e}"))
    }

    #[test]
    fn nothing_set_means_the_defaults() {
        let l = from(&[]).expect("valid");
        assert_eq!(l, Limits::default());
        assert_eq!(l.boundary_arn, None);
        assert_eq!(l.path_prefix.as_str(), "/logzio/");
        assert_eq!(l.trusted_account_ids, ["406095609952".parse().expect("id")]);
        assert_eq!(l.allowed_buckets, ["*".parse().expect("pattern")]);
        assert!(l.allows_bucket("any-bucket"));
    }

    #[test]
    fn an_empty_value_counts_as_unset() {
        let all = [BOUNDARY_VAR, PATH_PREFIX_VAR, TRUSTED_ACCOUNTS_VAR, ALLOWED_BUCKETS_VAR];
        let blank: Vec<(&str, &str)> = all.iter().map(|v| (*v, " ")).collect();
        assert_eq!(from(&blank), Ok(Limits::default()));
    }

    #[test]
    fn every_setting_is_read() {
        let l = from(&[
            (BOUNDARY_VAR, "arn:aws:iam::123456789012:policy/LogzioArchiveBoundary"),
            (PATH_PREFIX_VAR, "/archive/logzio/"),
            (TRUSTED_ACCOUNTS_VAR, "111122223333, 406095609952"),
            (ALLOWED_BUCKETS_VAR, "acme-*,logs-20??"),
        ])
        .expect("valid");
        assert_eq!(
            l.boundary_arn.as_ref().map(Arn::as_str),
            Some("arn:aws:iam::123456789012:policy/LogzioArchiveBoundary")
        );
        assert_eq!(l.path_prefix.as_str(), "/archive/logzio/");
        let ids: Vec<&str> = l.trusted_account_ids.iter().map(AccountId::as_str).collect();
        assert_eq!(ids, ["111122223333", "406095609952"]);
        let buckets: Vec<&str> = l.allowed_buckets.iter().map(BucketPattern::as_str).collect();
        assert_eq!(buckets, ["acme-*", "logs-20??"]);
    }

    #[test]
    fn the_boundary_is_an_iam_policy_arn() {
        rejects(BOUNDARY_VAR, "arn:aws:iam::123456789012:role/x");
        rejects(BOUNDARY_VAR, "arn:aws:iam::12345678901:policy/x");
        rejects(BOUNDARY_VAR, "arn:aws:iam:us-east-1:123456789012:policy/x");
        rejects(BOUNDARY_VAR, "policy/x");
        let msg = rejects(BOUNDARY_VAR, "arn:aws:iam::123456789012:policy/*");
        assert!(
            msg.starts_with("invalid deployment settings (1 error): LOGZIO_ROLE_BOUNDARY_ARN: "),
            "{msg}"
        );
        accepts(
            BOUNDARY_VAR,
            "arn:aws-us-gov:iam::123456789012:policy/boundaries/Logzio",
        );
    }

    #[test]
    fn the_path_prefix_follows_the_iam_path_rules() {
        rejects(PATH_PREFIX_VAR, "logzio");
        rejects(PATH_PREFIX_VAR, "/logzio");
        rejects(PATH_PREFIX_VAR, "/log zio/");
        rejects(PATH_PREFIX_VAR, "//");
        assert_eq!(accepts(PATH_PREFIX_VAR, "/").path_prefix.as_str(), "/");
    }

    #[test]
    fn trusted_account_ids_are_12_digits_each() {
        let msg = rejects(TRUSTED_ACCOUNTS_VAR, "406095609952,40609560995");
        assert!(msg.contains("\"40609560995\" is not an AWS account id"), "{msg}");
        rejects(TRUSTED_ACCOUNTS_VAR, "406095609952,");
        rejects(TRUSTED_ACCOUNTS_VAR, ",");
    }

    #[test]
    fn bucket_patterns_are_s3_name_characters_and_wildcards() {
        rejects(ALLOWED_BUCKETS_VAR, "Acme-*");
        rejects(ALLOWED_BUCKETS_VAR, "acme/*");
        rejects(ALLOWED_BUCKETS_VAR, "acme-*,,logs");
        rejects(ALLOWED_BUCKETS_VAR, &"a".repeat(64));
        accepts(ALLOWED_BUCKETS_VAR, "*");
    }

    #[test]
    fn bucket_patterns_match_like_s3_wildcards() {
        let l = accepts(ALLOWED_BUCKETS_VAR, "acme-*,logs-20??,exact.bucket");
        for yes in ["acme-", "acme-logs", "logs-2024", "exact.bucket"] {
            assert!(l.allows_bucket(yes), "{yes}");
        }
        for no in [
            "acme",
            "xacme-logs",
            "logs-202",
            "logs-20245",
            "exact-bucket",
            "exact.bucket2",
        ] {
            assert!(!l.allows_bucket(no), "{no}");
        }
    }

    #[test]
    fn every_invalid_setting_is_reported_at_once() {
        let e = from(&[(PATH_PREFIX_VAR, "x"), (TRUSTED_ACCOUNTS_VAR, "1")]).expect_err("invalid");
        assert!(e.names(PATH_PREFIX_VAR) && e.names(TRUSTED_ACCOUNTS_VAR), "{e}");
        assert!(
            e.to_string().starts_with("invalid deployment settings (2 errors): "),
            "{e}"
        );
    }
}
