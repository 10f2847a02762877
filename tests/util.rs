//! Helpers shared by the integration tests.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use parley::{Config, Engine, KnowledgeBase};

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures").join(name)
}

/// The engine over the bundled knowledge base, built once for all tests.
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let kb =
            KnowledgeBase::load(&root().join("knowledge")).expect("bundled knowledge base loads");
        let config = Config::load(&root().join("config/parley.toml"), true).expect("config loads");
        Engine::new(kb, config.engine)
    })
}

/// What a run of the real `parley` binary produced.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(output: Output) -> Run {
        Run {
            code: output
                .status
                .code()
                .expect("exited normally, not by a signal"),
            stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
        }
    }

    /// Every stdout line, parsed as JSON.
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect()
    }
}

fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_parley"));
    cmd.args(args)
        .current_dir(root())
        .env_remove("PARLEY_KNOWLEDGE")
        .env_remove("PARLEY_CONFIG")
        .env_remove("DISCORD_TOKEN")
        .env_remove("DISCORD_API_BASE")
        .env("RUST_LOG", "warn");
    cmd
}

/// Runs `parley ARGS` from the repository root.
pub fn parley(args: &[&str]) -> Run {
    Run::from(command(args).output().expect("parley runs"))
}

/// Runs `parley ARGS` with the environment variables `env` set.
pub fn parley_with_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = command(args);
    cmd.envs(env.iter().copied());
    Run::from(cmd.output().expect("parley runs"))
}

/// Runs `parley ARGS` with `input` on standard input.
pub fn parley_with_stdin(args: &[&str], input: &[u8]) -> Run {
    let mut child = command(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("parley starts");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        // parley may stop reading early; a broken pipe is not the test's concern.
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().expect("parley finishes");
    writer.join().expect("writer thread");
    Run::from(output)
}
