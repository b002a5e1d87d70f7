//! The `ponte import wsdl` command: load (a file, or a URL: the only case that uses the
//! network), `--list` or import, copy the description beside the adapter, write fixtures.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{WsdlImportOptions, fixture_files, import, list};
use crate::soap::wsdl::Wsdl;
use crate::soap::wsdl::load::{self, Location};

pub struct WsdlCommand {
    pub source: String,
    pub list: bool,
    pub options: WsdlImportOptions,
    pub output: Option<PathBuf>,
    pub fixtures: Option<PathBuf>,
    pub allow_missing_imports: bool,
}

pub fn run(cmd: &WsdlCommand) -> ExitCode {
    let start = if load::is_url(&cmd.source) {
        Location::Url(cmd.source.clone())
    } else {
        Location::File(PathBuf::from(&cmd.source))
    };
    let fetch = |url: &str| fetch(url);
    let reader = load::Reader {
        remote_opaque: false,
        allow_missing: cmd.allow_missing_imports,
        fetch: matches!(start, Location::Url(_))
            .then_some(&fetch as &dyn Fn(&str) -> Result<String, String>),
    };
    let wsdl = match Wsdl::load_from(start, &reader) {
        Ok(w) => w,
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            eprintln!("error: {} problem(s) loading {}", errors.len(), cmd.source);
            return ExitCode::FAILURE;
        }
    };
    for w in &wsdl.warnings {
        eprintln!("{w}");
    }
    if cmd.list {
        print!("{}", list::list(&wsdl));
        return ExitCode::SUCCESS;
    }
    match write(cmd, &wsdl) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}: {e}", cmd.source);
            ExitCode::FAILURE
        }
    }
}

fn write(cmd: &WsdlCommand, wsdl: &Wsdl) -> Result<(), String> {
    let chosen_name = match &cmd.options.name {
        Some(n) => n.clone(),
        None => super::choose(wsdl, &cmd.options).map(|c| {
            let n = c
                .service
                .map_or_else(|| c.binding.name.local.clone(), str::to_string);
            super::names::snake(&n).replace('_', "-")
        })?,
    };
    // The copy of the description goes beside the adapter; paths are relative to its folder
    // (the current folder when the adapter is printed).
    let (folder, stem) = match &cmd.output {
        Some(out) => (
            out.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .to_path_buf(),
            out.file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or(&chosen_name)
                .to_string(),
        ),
        None => (PathBuf::from("."), chosen_name.clone()),
    };
    let copy_dir = format!("{stem}.wsdl");
    let relative_first = copy_description(wsdl, &folder.join(&copy_dir))?;
    let wsdl_ref = format!("{copy_dir}/{relative_first}");
    let mut imported = import(wsdl, &cmd.options, &cmd.source, Some(&wsdl_ref))?;
    if cmd.output.is_none() {
        imported.yaml.insert_str(
            0,
            &format!("# Printed: `{wsdl_ref}` is relative to the current folder; save the adapter here.\n"),
        );
    }
    match &cmd.output {
        Some(out) => std::fs::write(out, &imported.yaml)
            .map_err(|e| format!("cannot write {}: {e}", out.display()))?,
        None => print!("{}", imported.yaml),
    }
    if let Some(dir) = &cmd.fixtures {
        let dir = dir.join(&imported.name);
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        for (name, text) in fixture_files(&imported, &cmd.source) {
            let path = dir.join(name);
            std::fs::write(&path, text)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
        eprintln!(
            "wrote {} fixture(s) to {}",
            imported.fixtures.len(),
            dir.display()
        );
    }
    eprintln!(
        "imported {} route(s), {} warning(s); the description is copied to {}",
        imported.routes,
        imported.warnings,
        folder.join(&copy_dir).display()
    );
    for n in &imported.notes {
        eprintln!("  {n}");
    }
    Ok(())
}

/// Copies every file read (not the bundled schemas) under `dir`, keeping their relative
/// places; returns the first file's path inside `dir`.
fn copy_description(wsdl: &Wsdl, dir: &Path) -> Result<String, String> {
    let files: Vec<(String, &str)> = wsdl
        .files
        .iter()
        .filter_map(|f| match &f.location {
            Location::File(p) => Some((p.display().to_string().replace('\\', "/"), f.doc.text())),
            Location::Url(u) => Some((
                u.split(['?', '#']).next().unwrap_or(u).to_string(),
                f.doc.text(),
            )),
            Location::Bundled(_) => None,
        })
        .collect();
    // Each file's folder, raised by as many levels as its own relative imports climb
    // (`../../../ver10/schema/onvif.xsd` from `ver10/device/wsdl/`), so that every import
    // still resolves inside the copy.
    let dirs: Vec<&str> = files
        .iter()
        .zip(
            wsdl.files
                .iter()
                .filter(|f| !matches!(f.location, Location::Bundled(_))),
        )
        .map(|((p, _), file)| {
            let dir = p.rsplit_once('/').map_or("", |(d, _)| d);
            (0..climb(&file.doc.root)).fold(dir, |d, _| d.rsplit_once('/').map_or("", |(up, _)| up))
        })
        .collect();
    // The longest folder prefix shared by every file.
    let mut common: Vec<&str> = dirs
        .first()
        .map(|d| d.split('/').collect())
        .unwrap_or_default();
    for d in &dirs[1.min(dirs.len())..] {
        let parts: Vec<&str> = d.split('/').collect();
        let n = common
            .iter()
            .zip(&parts)
            .take_while(|(a, b)| a == b)
            .count();
        common.truncate(n);
    }
    let prefix = common.join("/");
    let mut first = String::new();
    for (i, (path, text)) in files.iter().enumerate() {
        let rel = path
            .strip_prefix(&prefix)
            .map(|r| r.trim_start_matches('/'))
            .unwrap_or(path)
            .to_string();
        if rel.split('/').any(|s| s == ".." || s.is_empty()) {
            return Err(format!("cannot place {path} beside the adapter"));
        }
        let target = dir.join(&rel);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(&target, text)
            .map_err(|e| format!("cannot write {}: {e}", target.display()))?;
        if i == 0 {
            first = rel;
        }
    }
    Ok(first)
}

/// How many folders above its own the relative imports written in a file reach.
fn climb(node: &crate::soap::wsdl::dom::Node) -> usize {
    let own = ["location", "schemaLocation"]
        .iter()
        .filter_map(|a| node.attr(a))
        .filter(|l| !l.contains("://"))
        .map(|l| {
            let (mut depth, mut lowest) = (0i64, 0i64);
            for segment in l.split('/') {
                match segment {
                    ".." => depth -= 1,
                    "." | "" => {}
                    _ => depth += 1,
                }
                lowest = lowest.min(depth);
            }
            lowest.unsigned_abs() as usize
        })
        .max()
        .unwrap_or(0);
    node.children.iter().map(climb).fold(own, usize::max)
}

/// Reads a description from the network (only for a description given as a URL).
fn fetch(url: &str) -> Result<String, String> {
    let url = url.to_string();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(async {
            let reply = reqwest::Client::new()
                .get(&url)
                .timeout(std::time::Duration::from_secs(30))
                .send()
                .await
                .map_err(|e| e.to_string())?;
            if !reply.status().is_success() {
                return Err(format!("HTTP {}", reply.status()));
            }
            reply.text().await.map_err(|e| e.to_string())
        })
    })
    .join()
    .map_err(|_| "the download failed".to_string())?
}
