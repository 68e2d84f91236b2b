//! Every ```corefile block in `docs/*.md` and `README.md` parses, so documented configuration
//! cannot rot (CoreDNS runs the `corefile` blocks of its plugin READMEs the same way).
//!
//! Blocks are parsed with `cairn::config::parse_corefile_with` over an in-memory filesystem that
//! holds `/etc/resolv.conf` and the files the examples import: the test never reads the
//! machine's files. A failure names the markdown file, the block's line, and the parse error.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use cairn::config::{parse_corefile_with, Files};

/// The path each block is parsed as: relative imports resolve next to it, as for a real
/// Corefile mounted at `/etc/coredns/Corefile`.
const COREFILE: &str = "/etc/coredns/Corefile";

/// The files the documented examples name. Keep in step with the docs (import.md shows the
/// imported files' contents).
const FAKE_FILES: &[(&str, &str)] = &[
    ("/etc/resolv.conf", "nameserver 127.0.0.1\n"),
    (
        "/etc/coredns/upstream.conf",
        "# stub resolvers for forward\nnameserver 10.0.0.53\nnameserver 10.0.1.53\n",
    ),
    (
        "/etc/coredns/common.conf",
        "errors\nlog . {\n    class error\n}\n",
    ),
    (
        "/etc/coredns/custom/corp.server",
        "corp.example:53 {\n    errors\n    forward . 10.0.0.53\n}\n",
    ),
    (
        "/etc/coredns/custom/lab.override",
        "hosts /etc/coredns/lab.hosts lab.example\n",
    ),
];

/// The environment the examples may use.
fn env(name: &str) -> Option<String> {
    match name {
        "CLUSTER_DOMAIN" => Some("cluster.local".to_string()),
        "UPSTREAM" => Some("10.0.0.53".to_string()),
        _ => None,
    }
}

/// An in-memory filesystem: file path -> contents; directories are implied by the paths.
struct FakeFiles(BTreeMap<PathBuf, String>);

impl FakeFiles {
    fn new() -> Self {
        FakeFiles(
            FAKE_FILES
                .iter()
                .map(|(p, t)| (PathBuf::from(p), t.to_string()))
                .collect(),
        )
    }
}

impl Files for FakeFiles {
    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        self.0.get(path).cloned().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("{} is not among the test's fake files", path.display()),
            )
        })
    }

    fn read_dir(&self, dir: &Path) -> io::Result<Vec<String>> {
        let mut names: Vec<String> = self
            .0
            .keys()
            .filter_map(|p| p.strip_prefix(dir).ok())
            .filter_map(|rest| rest.components().next())
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        names.dedup();
        if names.is_empty() {
            return Err(io::Error::new(io::ErrorKind::NotFound, "no such directory"));
        }
        Ok(names)
    }

    fn exists(&self, path: &Path) -> bool {
        self.0.keys().any(|p| p.starts_with(path))
    }
}

/// A fenced code block tagged `corefile`: its text and the 1-based line of its opening fence.
#[derive(Debug)]
struct Block {
    line: usize,
    text: String,
}

/// The ```corefile blocks of a markdown text. Fences of either kind (```, ~~~) are tracked so a
/// block of another language never ends or starts one; an unclosed fence is an error.
fn corefile_blocks(markdown: &str) -> Result<Vec<Block>, String> {
    let mut blocks = Vec::new();
    // (fence characters, line of the opening fence, the block when it is a corefile block)
    let mut open: Option<(String, usize, Option<Block>)> = None;
    for (i, line) in markdown.lines().enumerate() {
        let n = i + 1;
        let trimmed = line.trim_start();
        let fence: String = trimmed
            .chars()
            .take_while(|&c| c == '`' || c == '~')
            .collect();
        let is_fence = fence.len() >= 3 && fence.chars().all(|c| c == fence.as_bytes()[0] as char);
        match &mut open {
            None if is_fence => {
                let info = trimmed[fence.len()..].trim();
                let block = (info.split_whitespace().next() == Some("corefile")).then(|| Block {
                    line: n,
                    text: String::new(),
                });
                open = Some((fence, n, block));
            }
            None => {}
            Some((opening, _, block)) => {
                let closes = is_fence
                    && fence.starts_with(opening.as_str())
                    && trimmed[fence.len()..].trim().is_empty();
                if closes {
                    if let Some(b) = block.take() {
                        blocks.push(b);
                    }
                    open = None;
                } else if let Some(b) = block {
                    b.text.push_str(line);
                    b.text.push('\n');
                }
            }
        }
    }
    match open {
        Some((_, line, _)) => Err(format!(
            "the code fence opened on line {line} is never closed"
        )),
        None => Ok(blocks),
    }
}

/// Parses one block; the error names the markdown file and line.
fn check(doc: &Path, block: &Block, files: &FakeFiles) -> Result<(), String> {
    parse_corefile_with(&block.text, Path::new(COREFILE), &env, files)
        .map(|_| ())
        .map_err(|e| {
            // An error inside the block itself maps to its markdown line; one inside an imported
            // fake file keeps that file's name.
            let at = if e.file == Path::new(COREFILE) && e.line > 0 {
                format!(", at line {}", block.line + e.line)
            } else {
                String::new()
            };
            format!(
                "{}: the corefile block starting on line {}{at} does not parse: {e}",
                doc.display(),
                block.line
            )
        })
}

/// The markdown files whose blocks are checked: `README.md`, every `docs/*.md` and every
/// plugin's page (`src/plugin/*/README.md`).
fn documents() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut docs = vec![root.join("README.md")];
    let mut pages: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/ exists")
        .map(|e| e.expect("docs/ is readable").path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    pages.extend(
        std::fs::read_dir(root.join("src/plugin"))
            .expect("src/plugin/ exists")
            .map(|e| e.expect("src/plugin/ is readable").path().join("README.md"))
            .filter(|p| p.exists()),
    );
    pages.sort();
    docs.extend(pages);
    docs
}

#[test]
fn every_documented_corefile_parses() {
    let files = FakeFiles::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut failures = Vec::new();
    let mut checked = 0;
    for path in documents() {
        let shown = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
        let text = std::fs::read_to_string(&path).expect("a readable markdown file");
        let blocks = match corefile_blocks(&text) {
            Ok(blocks) => blocks,
            Err(e) => {
                failures.push(format!("{}: {e}", shown.display()));
                continue;
            }
        };
        for block in &blocks {
            checked += 1;
            if let Err(e) = check(&shown, block, &files) {
                failures.push(e);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} documented Corefiles do not parse:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Each plugin page shows at least one configuration, so the test above cannot pass by finding
/// nothing (a page whose fences lost their `corefile` tag, say).
#[test]
fn every_plugin_has_a_page_with_an_example() {
    // Each plugin's page is the README.md in its folder; `bind` and `import` are the server
    // block's and the Corefile syntax's, documented in docs/.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pages: Vec<PathBuf> = cairn::plugin::Kind::ALL
        .iter()
        .map(|k| root.join("src/plugin").join(k.module()).join("README.md"))
        .collect();
    pages.push(root.join("docs/bind.md"));
    pages.push(root.join("docs/import.md"));
    let mut missing = Vec::new();
    for page in pages {
        let shown = page
            .strip_prefix(root)
            .unwrap_or(&page)
            .display()
            .to_string();
        let blocks = std::fs::read_to_string(&page)
            .map_err(|e| e.to_string())
            .and_then(|text| corefile_blocks(&text));
        match blocks {
            Ok(b) if !b.is_empty() => {}
            Ok(_) => missing.push(format!("{shown} has no ```corefile block")),
            Err(e) => missing.push(format!("{shown}: {e}")),
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn the_block_finder_reports_lines_and_skips_other_languages() {
    let md = "# t\n\n```sh\ncargo run\n```\n\n~~~ txt\n```corefile\n~~~\n\n```corefile\n.:53 {\n}\n```\n";
    let blocks = corefile_blocks(md).unwrap();
    assert_eq!(blocks.len(), 1, "{blocks:?}");
    assert_eq!(blocks[0].line, 11);
    assert_eq!(blocks[0].text, ".:53 {\n}\n");
    assert!(corefile_blocks("```corefile\n.:53 {\n}\n").is_err());
}

#[test]
fn a_broken_block_fails_with_the_file_line_and_error() {
    let files = FakeFiles::new();
    let block = Block {
        line: 40,
        text: ".:53 {\n    forward . /etc/resolv.conf\n    nonsense\n}\n".to_string(),
    };
    let err = check(Path::new("docs/x.md"), &block, &files).unwrap_err();
    assert!(
        err.starts_with("docs/x.md: the corefile block starting on line 40, at line 43"),
        "{err}"
    );
    assert!(err.contains("unknown plugin `nonsense`"), "{err}");
    // The fake filesystem is the only one: a file it lacks is not read from the machine.
    let block = Block {
        line: 1,
        text: ".:53 {\n    forward . /etc/hosts\n}\n".to_string(),
    };
    let err = check(Path::new("docs/x.md"), &block, &files).unwrap_err();
    assert!(err.contains("not among the test's fake files"), "{err}");
}
