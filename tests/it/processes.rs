//! Example programs run as separate processes, the way README.md shows them, and a
//! loopback proxy that cuts a client's first connection mid-stream.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A built example program: `cargo test --workspace` builds every example next to the
/// test binaries (`target/<profile>/examples/`).
pub fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps");
    let path = profile.join("examples").join(name);
    assert!(
        path.exists(),
        "{} is not built: run `cargo build -p brainwire-examples --examples` (or the README's \
         `cargo test --workspace`, which builds it)",
        path.display()
    );
    path
}

/// A running program whose output goes to a file; killed when dropped.
pub struct Program {
    child: Child,
    output: PathBuf,
}

impl Program {
    /// Starts example `name` with `args`.
    pub fn start(name: &str, args: &[&str]) -> Self {
        let output = std::env::temp_dir().join(format!(
            "brainwire-{name}-{}.out",
            uuid::Uuid::new_v4().simple()
        ));
        let file = std::fs::File::create(&output).expect("an output file");
        let child = Command::new(example(name))
            .args(args)
            .stdout(file.try_clone().expect("a second handle"))
            .stderr(file)
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {name}: {e}"));
        Self { child, output }
    }

    /// Everything it printed so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.output).unwrap_or_default()
    }

    /// The first line starting with `prefix`, waiting up to `within` for it.
    pub fn line(&self, prefix: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            if let Some(line) = self.output().lines().find(|l| l.starts_with(prefix)) {
                return line.to_owned();
            }
            assert!(
                Instant::now() < deadline,
                "no line starting with {prefix:?} within {within:?}; output:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for the program to exit, at most `within` (then it is killed and the test
    /// fails with its output).
    pub fn wait(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("a child") {
                return status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                panic!("still running after {within:?}; output:\n{}", self.output());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Ends the program at once (SIGKILL).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_file(&self.output);
    }
}

/// The `host:port` in a line such as `listening on ws://127.0.0.1:7400/ws/agent`.
pub fn address_in(line: &str) -> String {
    let rest = line.split("://").nth(1).expect("a URL in the line");
    rest.split('/').next().expect("host:port").to_owned()
}

/// A plain HTTP/1.1 GET; gives the body.
pub fn http_get(addr: &str, path: &str) -> String {
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("a timeout");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default()
}

/// A Prometheus counter's value in `GET /metrics`.
pub fn counter(addr: &str, name: &str) -> u64 {
    let text = http_get(addr, "/metrics");
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
}

/// A loopback TCP proxy to `target`: the first connection is cut (both ways, no close
/// frame: the client sees 1006) once `cut_after` bytes went from the client to the
/// server; later connections pass untouched. Gives the proxy's address and whether the
/// cut happened.
pub async fn cutting_proxy(target: String, cut_after: usize) -> (String, Arc<AtomicBool>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("an address").to_string();
    let cut = Arc::new(AtomicBool::new(false));
    let was_cut = Arc::clone(&cut);
    tokio::spawn(async move {
        let mut first = true;
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = TcpStream::connect(&target).await else {
                continue;
            };
            let limit = if first { Some(cut_after) } else { None };
            first = false;
            let cut = Arc::clone(&cut);
            tokio::spawn(async move {
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                let down = tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
                });
                let mut sent = 0usize;
                let mut buffer = vec![0u8; 16 * 1024];
                loop {
                    let n = match client_read.read(&mut buffer).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    if server_write.write_all(&buffer[..n]).await.is_err() {
                        break;
                    }
                    sent += n;
                    if limit.is_some_and(|limit| sent >= limit) {
                        cut.store(true, Ordering::SeqCst);
                        break;
                    }
                }
                // Dropping both halves of both sockets resets the connection.
                down.abort();
            });
        }
    });
    (addr, was_cut)
}

/// A Redis for a test: the one `BRAINWIRE_REDIS_URL` names (what `scripts/with-redis.sh`
/// and CI start), else a `redis-server` of its own on a free loopback port with its own
/// data directory, stopped when dropped.
pub struct TestRedis {
    /// `redis://127.0.0.1:PORT`.
    pub url: String,
    server: Option<Child>,
    dir: Option<PathBuf>,
}

impl TestRedis {
    /// Finds or starts one.
    pub fn start() -> Self {
        if let Ok(url) = std::env::var("BRAINWIRE_REDIS_URL") {
            return Self {
                url,
                server: None,
                dir: None,
            };
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let dir =
            std::env::temp_dir().join(format!("brainwire-redis-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("a data directory");
        let server = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "no redis-server: install it (apt-get install redis-server), or run the tests \
                 through scripts/with-redis.sh, or set BRAINWIRE_REDIS_URL",
            );
        let redis = Self {
            url: format!("redis://127.0.0.1:{port}"),
            server: Some(server),
            dir: Some(dir),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        redis
    }
}

impl TestRedis {
    /// Runs one command through `redis-cli` (installed beside `redis-server`) and gives
    /// its reply as printed.
    pub fn command(&self, args: &[&str]) -> String {
        let output = Command::new("redis-cli")
            .arg("-u")
            .arg(&self.url)
            .args(args)
            .output()
            .expect("redis-cli, installed with redis-server");
        assert!(output.status.success(), "redis-cli {args:?}: {output:?}");
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        if let Some(server) = &mut self.server {
            let _ = server.kill();
            let _ = server.wait();
        }
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// A request to the HTTP API of the brain at `addr` with the admin token: gives the
/// status code and the body as JSON (`null` when it is not JSON).
pub fn api(
    addr: &str,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&serde_json::Value>,
) -> (u16, serde_json::Value) {
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("a timeout");
    let body = body.map(ToString::to_string).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("a status line");
    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (
        status,
        serde_json::from_str(body).unwrap_or(serde_json::Value::Null),
    )
}

/// Polls `probe` every 50 ms until it gives `Some`, for at most `within`.
pub fn eventually<T>(within: Duration, what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
