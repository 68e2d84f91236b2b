//! The parser's only window on the filesystem: reading files (imported Corefiles, the
//! `resolv.conf` a `forward` names) and listing directories for `import` globs. It is a trait so
//! tests can hand the parser a fake filesystem and never depend on the machine's files.
//!
//! Globs follow what CoreDNS's `import` accepts (Go's `filepath.Glob`, limited by CoreDNS to one
//! `*` and one `?` and no `[...]`): `*` matches any run of characters within one path component,
//! `?` one character; matches are sorted.

use std::collections::BTreeSet;
use std::io;
use std::path::{Component, Path, PathBuf};

#[cfg(test)]
mod tests;

/// Reads files and directories for the parser.
pub trait Files {
    /// The whole file as UTF-8 text.
    fn read_to_string(&self, path: &Path) -> io::Result<String>;
    /// The names of the entries of directory `dir` (any order).
    fn read_dir(&self, dir: &Path) -> io::Result<Vec<String>>;
    /// True when something exists at `path`.
    fn exists(&self, path: &Path) -> bool;
}

/// The real filesystem.
#[derive(Clone, Copy, Debug, Default)]
pub struct RealFiles;

impl Files for RealFiles {
    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        std::fs::read_to_string(path)
    }

    fn read_dir(&self, dir: &Path) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            names.push(entry?.file_name().to_string_lossy().into_owned());
        }
        Ok(names)
    }

    fn exists(&self, path: &Path) -> bool {
        path.exists()
    }
}

/// True when `text` has a glob metacharacter.
pub fn is_glob(text: &str) -> bool {
    text.contains(['*', '?', '['])
}

/// The paths matching `pattern`, sorted. Unreadable directories match nothing (as in Go).
pub fn glob(files: &dyn Files, pattern: &Path) -> Vec<PathBuf> {
    let mut candidates = vec![PathBuf::new()];
    for comp in pattern.components() {
        let name = match comp {
            Component::Normal(name) => name.to_string_lossy(),
            other => {
                for c in &mut candidates {
                    c.push(other.as_os_str());
                }
                continue;
            }
        };
        if !is_glob(&name) {
            for c in &mut candidates {
                c.push(name.as_ref());
            }
            continue;
        }
        let mut next = Vec::new();
        for dir in &candidates {
            let listed = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir.as_path()
            };
            let Ok(mut entries) = files.read_dir(listed) else {
                continue;
            };
            entries.sort();
            next.extend(
                entries
                    .iter()
                    .filter(|e| matches(&name, e))
                    .map(|e| dir.join(e)),
            );
        }
        candidates = next;
    }
    let found: BTreeSet<PathBuf> = candidates.into_iter().filter(|p| files.exists(p)).collect();
    found.into_iter().collect()
}

/// Matches one path component against a pattern of literal characters, `*` and `?`.
fn matches(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// `path` with `.` removed and `..` applied lexically (for telling files apart in cycles).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for comp in path.components() {
        match comp {
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(out.components().next_back(), Some(Component::Normal(_))) {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// An in-memory filesystem for tests: file path -> contents; directories are implied.
#[cfg(test)]
#[derive(Clone, Debug, Default)]
pub struct FakeFiles {
    pub files: std::collections::BTreeMap<PathBuf, String>,
}

#[cfg(test)]
impl FakeFiles {
    pub fn with(entries: &[(&str, &str)]) -> Self {
        FakeFiles {
            files: entries
                .iter()
                .map(|(p, t)| (PathBuf::from(p), t.to_string()))
                .collect(),
        }
    }
}

#[cfg(test)]
impl Files for FakeFiles {
    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        self.files
            .get(&normalize(path))
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "No such file or directory"))
    }

    fn read_dir(&self, dir: &Path) -> io::Result<Vec<String>> {
        let dir = normalize(dir);
        let names: BTreeSet<String> = self
            .files
            .keys()
            .filter_map(|p| p.strip_prefix(&dir).ok())
            .filter_map(|rest| rest.components().next())
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if names.is_empty() {
            return Err(io::Error::new(io::ErrorKind::NotFound, "no such directory"));
        }
        Ok(names.into_iter().collect())
    }

    fn exists(&self, path: &Path) -> bool {
        let path = normalize(path);
        self.files.keys().any(|p| p.starts_with(&path))
    }
}
