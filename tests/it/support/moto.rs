//! moto's server (one per test binary, one IAM account per test through its account header) and the fault
//! hooks of the test clients: an interceptor that fails or hangs a named action.

use super::*;

struct Moto {
    endpoint: String,
    _child: Mutex<Child>,
}

fn python() -> PathBuf {
    if let Ok(p) = std::env::var("MOTO_PYTHON") {
        return p.into();
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python")
}

/// The moto server for this test binary. It exits when this process does (its stdin closes).
pub(super) fn moto() -> &'static str {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    &MOTO
        .get_or_init(|| {
            let py = python();
            let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/moto_server.py");
            let mut child = Command::new(&py)
                .arg(&script)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| {
                    panic!(
                        "cannot start the IAM emulator with {}: {e}\n\
                         The tests need moto[server] in the project's .venv: run `make test` (or `make venv`), \
                         or set MOTO_PYTHON to a python that has moto[server] installed",
                        py.display()
                    )
                });
            let mut line = String::new();
            let stdout = child.stdout.take().expect("piped stdout");
            BufReader::new(stdout).read_line(&mut line).expect("read port");
            let port: u16 = line.trim().parse().unwrap_or_else(|_| {
                panic!(
                    "the IAM emulator did not start (got {line:?}); is moto[server] installed in {}? \
                     Run `make test` or `make venv`",
                    py.display()
                )
            });
            Moto {
                endpoint: format!("http://127.0.0.1:{port}"),
                _child: Mutex::new(child),
            }
        })
        .endpoint
}

/// Adds moto's per-request account header (each test its own empty IAM) and fails chosen actions before they
/// are sent: a precise fault in the real SDK pipeline.
#[derive(Debug, Clone)]
pub(super) struct TestInterceptor {
    pub(super) account: String,
    pub(super) fail: Arc<Mutex<HashSet<String>>>,
    pub(super) hang: Arc<Mutex<HashSet<String>>>,
}

/// An address that accepts connections and never answers: a request sent there hangs.
fn black_hole() -> &'static str {
    static HOLE: OnceLock<(std::net::TcpListener, String)> = OnceLock::new();
    &HOLE
        .get_or_init(|| {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            let url = format!("http://{}", l.local_addr().expect("addr"));
            (l, url)
        })
        .1
}

impl Intercept for TestInterceptor {
    fn name(&self) -> &'static str {
        "TestInterceptor"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request_mut();
        let body = request
            .body()
            .bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        let fail = self.fail.lock().expect("lock");
        if let Some(action) = fail.iter().find(|a| body.contains(&format!("Action={a}&"))) {
            return Err(format!("injected fault in {action}").into());
        }
        if self
            .hang
            .lock()
            .expect("lock")
            .iter()
            .any(|a| body.contains(&format!("Action={a}&")))
        {
            request.set_uri(black_hole())?;
        }
        request.headers_mut().insert("x-moto-account-id", self.account.clone());
        Ok(())
    }
}
