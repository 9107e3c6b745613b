//! What the command-line test binaries share: the `neretva` binary as a real process against a
//! temporary data directory.

// Each test binary uses part of it.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// The demo constituency file.
pub(crate) const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/demo/constituency.json");

/// A fresh data directory under the system's temporary directory, removed on drop.
pub(crate) struct DataDir(pub(crate) PathBuf);

impl DataDir {
    pub(crate) fn new(name: &str) -> DataDir {
        let dir = std::env::temp_dir().join(format!("neretva-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        DataDir(dir)
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A server process, stopped when dropped, also when a test fails half-way.
pub(crate) struct Running(pub(crate) std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sends one raw HTTP/1.1 request to the loopback port and reads the whole answer: status,
/// head and body.
#[allow(dead_code)]
pub(crate) fn exchange(port: u16, request: &str) -> (u16, String, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(std::time::Duration::from_secs(60))).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
    (status, head.to_owned(), body.to_owned())
}

/// `method path` with `headers` and `body` (its length sent), through `exchange`.
#[allow(dead_code)]
pub(crate) fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    let headers: String = headers.iter().map(|(name, value)| format!("{name}: {value}\r\n")).collect();
    exchange(
        port,
        &format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

/// `neretva serve` on `dir` at a free loopback port, once it accepts connections.
#[allow(dead_code)]
pub(crate) fn serve(dir: &Path) -> (Running, u16) {
    serve_with(neretva(dir))
}

/// `serve` with a prepared command (a configuration file, secrets in the environment).
#[allow(dead_code)]
pub(crate) fn serve_with(mut command: Command) -> (Running, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let server = Running(
        command
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < std::time::Duration::from_secs(60), "the server did not start");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    (server, port)
}

/// The binary on `dir`, with fast password hashing and no configuration from the environment.
pub(crate) fn neretva(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_neretva"));
    command
        .arg("--data-dir")
        .arg(dir)
        .env_remove("NERETVA_DATABASE_URL")
        .env_remove("NERETVA_CONFIG")
        .env("NERETVA_AUTH__ARGON2_MEMORY_KIB", "8192")
        .env("NERETVA_AUTH__ARGON2_ITERATIONS", "1")
        .env("NERETVA_LOG__LEVEL", "warn")
        .stdin(Stdio::null());
    command
}

pub(crate) fn run(dir: &Path, args: &[&str]) -> Output {
    neretva(dir).args(args).output().unwrap()
}

/// The standard output of a command that must succeed.
#[track_caller]
pub(crate) fn ok(output: &Output) -> String {
    exited(output, true);
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// The JSON a successful command printed.
#[track_caller]
pub(crate) fn json(output: &Output) -> Value {
    serde_json::from_str(&ok(output)).unwrap()
}

/// The JSON a command printed, checking whether it succeeded.
#[track_caller]
pub(crate) fn json_exited(output: &Output, success: bool) -> Value {
    exited(output, success);
    serde_json::from_slice(&output.stdout).unwrap()
}

#[track_caller]
fn exited(output: &Output, success: bool) {
    assert_eq!(
        output.status.success(),
        success,
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
