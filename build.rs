//! Build script: records which commit the binary was built from, for `cairn --version` and the
//! `revision` label of `coredns_build_info`.
//!
//! Sets `CAIRN_REVISION` (the short commit hash) and `CAIRN_VERSION_LINE`, what `--version`
//! prints after the name: `0.1.0 (commit abc1234, 2026-11-26)`, the date being the commit's (so
//! the same commit always builds the same string). `CAIRN_REVISION` and `CAIRN_COMMIT_DATE`
//! already in the environment win (for builds from a source tree without `.git`, such as a
//! container build context). Without git or a repository the commit is `unknown`: this script
//! never fails the build.
//!
//! It reruns only when the checked-out commit can have changed: `HEAD`, the branch it points to,
//! `packed-refs` (paths asked from git, so worktrees work), or those two variables.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=CAIRN_REVISION");
    println!("cargo:rerun-if-env-changed=CAIRN_COMMIT_DATE");

    for path in watched_git_files() {
        println!("cargo:rerun-if-changed={}", path.display());
    }

    let revision = non_empty_env("CAIRN_REVISION")
        .or_else(|| git(&["rev-parse", "--short", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_string());
    // The date of that commit (when git knows it), so an override never gets HEAD's date.
    let date = non_empty_env("CAIRN_COMMIT_DATE")
        .or_else(|| git(&["log", "-1", "--format=%cs", &revision, "--"]))
        .unwrap_or_else(|| "unknown".to_string());
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let line = if date == "unknown" {
        format!("{version} (commit {revision})")
    } else {
        format!("{version} (commit {revision}, {date})")
    };
    println!("cargo:rustc-env=CAIRN_REVISION={revision}");
    println!("cargo:rustc-env=CAIRN_VERSION_LINE={line}");
}

fn non_empty_env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The trimmed stdout of a successful `git ARGS`, if any.
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!text.is_empty()).then_some(text)
}

/// The git files whose change means a new commit is checked out. Only existing files are
/// returned: cargo reruns a script on every build when a watched path is missing.
fn watched_git_files() -> Vec<PathBuf> {
    let mut names = vec!["HEAD".to_string(), "packed-refs".to_string()];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        names.push(branch);
    }
    names
        .iter()
        .filter_map(|name| git(&["rev-parse", "--git-path", name]))
        .map(PathBuf::from)
        .filter(|p| p.exists())
        .collect()
}
