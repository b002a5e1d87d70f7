//! Allocator settings: memory committed when used and given back as soon as it is freed.
//!
//! mimalloc's defaults commit whole arenas up front and purge freed pages a second later, and
//! only when a thread next allocates, so an idle server keeps its peak. Measured with
//! `bench/run.sh burst` (BENCHMARKS.md, "Memory"): with mimalloc's defaults 1,000 connections
//! peak near 70 MiB and a burst of 64 replies of 9 MiB leaves about 200 MiB behind; with
//! `MIMALLOC_ARENA_EAGER_COMMIT=0 MIMALLOC_PURGE_DELAY=0`, near 42 MiB and 41 MiB. They cost some
//! CPU per call, so an operator who prefers speed sets the variables to other values.

use std::ffi::OsString;

/// The settings, as mimalloc's environment variables.
const SETTINGS: [(&str, &str); 2] = [
    ("MIMALLOC_ARENA_EAGER_COMMIT", "0"),
    ("MIMALLOC_PURGE_DELAY", "0"),
];

/// Restarts this program with the low-memory settings added to its environment, unless the
/// environment already has them (whatever their values: the operator's choice wins).
///
/// Why a restart: mimalloc reads its options when the process first allocates, before `main`,
/// and sets up its first arena with them; setting an option later (`mi_option_set`) leaves that
/// arena as it was, and measured no better than the defaults. A fresh image of the same program
/// (`exec`: same process id, same open files) reads them from the start. Returns only when the
/// restart is not needed or failed; the program then goes on with what it has.
pub fn restart_with_low_memory_settings() {
    let missing: Vec<(&str, &str)> = SETTINGS
        .into_iter()
        .filter(|(name, _)| std::env::var_os(name).is_none())
        .collect();
    if missing.is_empty() {
        return;
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        let mut args = std::env::args_os();
        let argv0 = args.next().unwrap_or_else(|| OsString::from("ponte"));
        // `exec` replaces this process and does not return on success.
        let _failed = std::process::Command::new(exe)
            .arg0(argv0)
            .args(args)
            .envs(missing)
            .exec();
    }
}
