//! Every console sample in the README is the output of the command it shows: this test runs each
//! one (in a copy of the files it reads) and compares. A sample line `...` stands for any number
//! of lines, and `…` inside a line for any text (a request id).
//!
//! A comment before a sample sets it up: `<!-- sample: serve --mock -->` starts `ponte serve
//! --mock` for the sample's `curl` lines (in place of `localhost:8080`), and
//! `<!-- sample: edit FILE "FROM" "TO"; ... -->` changes a copied file first.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Sample {
    /// The README line the sample starts at, for messages.
    line: usize,
    setup: Option<String>,
    /// Each command with the lines it must print.
    steps: Vec<(String, Vec<String>)>,
}

fn samples(readme: &str) -> Vec<Sample> {
    let mut out = Vec::new();
    let mut setup = None;
    let mut lines = readme.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        if let Some(s) = line
            .strip_prefix("<!-- sample: ")
            .and_then(|s| s.strip_suffix(" -->"))
        {
            setup = Some(s.to_string());
            continue;
        }
        if line != "```console" {
            if !line.trim().is_empty() && !line.starts_with("With ") {
                setup = None;
            }
            continue;
        }
        let mut steps: Vec<(String, Vec<String>)> = Vec::new();
        for (_, line) in lines.by_ref() {
            if line == "```" {
                break;
            }
            match line.strip_prefix("$ ") {
                Some(command) => steps.push((command.to_string(), Vec::new())),
                None => {
                    if let Some(step) = steps.last_mut() {
                        step.1.push(line.to_string());
                    }
                }
            }
        }
        out.push(Sample {
            line: n + 1,
            setup: setup.take(),
            steps,
        });
    }
    out
}

/// A copy of what the samples read, so that edits and written files stay out of the repository.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for folder in [
        "adapters",
        "fixtures",
        "schemas",
        "tests/broken-adapters",
        "tests/wsdl",
    ] {
        copy_dir(&root.join(folder), &dir.path().join(folder));
    }
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// `edit FILE "FROM" "TO"` steps, separated by `;`.
fn apply_edits(setup: &str, dir: &Path) {
    for edit in setup.split(';').map(str::trim) {
        let rest = edit.strip_prefix("edit ").expect("an edit step");
        let (file, quoted) = rest.split_once(' ').expect("edit FILE \"FROM\" \"TO\"");
        let parts: Vec<&str> = quoted.split('"').collect();
        let (from, to) = (parts[1], parts[3]);
        let path = dir.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{file} has no {from:?}");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `ponte serve --mock` in `dir`; waits until it answers.
fn serve_mock(dir: &Path) -> (Child, String) {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_ponte"))
        .args(["serve", "--mock", "--listen", &format!("127.0.0.1:{port}")])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let address = format!("127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(&address).is_err() {
        assert!(
            Instant::now() < deadline,
            "ponte serve --mock did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, address)
}

/// Runs a sample command: `cargo run [--release] -- ARGS` as the ponte binary, anything else
/// (curl, pipes) through the shell. Returns what it printed, stdout then stderr.
fn run(command: &str, dir: &Path, server: Option<&str>) -> String {
    let output = match command.split_once(" -- ") {
        Some((cargo, args)) if cargo.starts_with("cargo run") => {
            Command::new(env!("CARGO_BIN_EXE_ponte"))
                .args(args.split_whitespace())
                .current_dir(dir)
                .output()
                .unwrap()
        }
        _ => {
            let line = match server {
                Some(address) => command.replace("localhost:8080", address),
                None => command.to_string(),
            };
            Command::new("sh")
                .args(["-c", &line])
                .current_dir(dir)
                .output()
                .unwrap()
        }
    };
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    text
}

/// Whether `got` matches `expected`, where `…` stands for any text.
fn line_matches(expected: &str, got: &str) -> bool {
    let pieces: Vec<&str> = expected.split('…').collect();
    let mut rest = got;
    for (i, piece) in pieces.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(piece) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == pieces.len() - 1 {
            return rest.ends_with(piece);
        } else {
            match rest.find(piece) {
                Some(at) => rest = &rest[at + piece.len()..],
                None => return false,
            }
        }
    }
    rest.is_empty()
}

/// The sample's lines against the output: in order; `...` skips any lines, and without it no
/// line may be left over.
fn compare(expected: &[String], output: &str) -> Result<(), String> {
    let got: Vec<&str> = output.lines().collect();
    let mut at = 0;
    let mut skipping = false;
    for want in expected {
        if want == "..." {
            skipping = true;
            continue;
        }
        match got[at..].iter().position(|g| line_matches(want, g)) {
            Some(0) => at += 1,
            Some(i) if skipping => at += i + 1,
            _ => return Err(format!("expected the line\n  {want}\nin\n{output}")),
        }
        skipping = false;
    }
    if !skipping && at != got.len() {
        return Err(format!("unexpected lines after the sample:\n{output}"));
    }
    Ok(())
}

#[test]
fn every_console_sample_in_the_readme_is_what_its_command_prints() {
    let readme =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .unwrap();
    let samples = samples(&readme);
    assert!(samples.len() >= 5, "found {} samples", samples.len());
    for sample in samples {
        let dir = workspace();
        let mut server = None;
        // A sample that starts the server itself (`... serve --mock &`) gets it at that line, so
        // that the commands before it (an import) prepare what it serves.
        let starts_server = sample.steps.iter().any(|(c, _)| c.ends_with('&'));
        match sample.setup.as_deref() {
            Some("serve --mock") if !starts_server => server = Some(serve_mock(dir.path())),
            Some("serve --mock") => {}
            Some(edits) => apply_edits(edits, dir.path()),
            None => {}
        }
        let mut address = server.as_ref().map(|(_, a)| a.clone());
        for (command, expected) in &sample.steps {
            if command.ends_with('&') {
                assert!(
                    sample.setup.as_deref() == Some("serve --mock"),
                    "README line {}: a server sample needs `<!-- sample: serve --mock -->`",
                    sample.line
                );
                server = Some(serve_mock(dir.path()));
                address = server.as_ref().map(|(_, a)| a.clone());
                continue;
            }
            let output = run(command, dir.path(), address.as_deref());
            if let Err(why) = compare(expected, &output) {
                panic!("README line {}: `{command}`: {why}", sample.line);
            }
        }
        if let Some((mut child, _)) = server {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
