//! `import` (files and globs, top level and inside blocks) and snippets.

use std::path::Path;

use crate::config::model::Config;
use crate::config::{parse_corefile_with, ConfigError};
use crate::corefile::files::{FakeFiles, RealFiles};
use crate::plugin::cache::CacheConfig;
use crate::plugin::forward::ForwardConfig;
use crate::plugin::log::LogConfig;
use crate::plugin::Kind;

fn parse_in(text: &str, fs: &FakeFiles) -> Result<Config, ConfigError> {
    parse_corefile_with(text, Path::new("/etc/coredns/Corefile"), &|_| None, fs)
}

fn tree() -> FakeFiles {
    FakeFiles::with(&[
        (
            "/etc/coredns/custom/b.server",
            "b.org {\n  forward . 10.0.0.2\n}\n",
        ),
        ("/etc/coredns/custom/a.server", "a.org {\n  errors\n}\n"),
        ("/etc/coredns/custom/x.override", "loop\nlog\n"),
        ("/etc/coredns/plugins.conf", "\n\nloop\n"),
        ("/etc/coredns/bad.override", "# bad\netcd\n"),
        ("/etc/coredns/self.conf", "import self.conf\n"),
        ("/etc/coredns/ping.conf", "import /etc/coredns/pong.conf\n"),
        ("/etc/coredns/pong.conf", "import ping.conf\n"),
        ("/etc/coredns/root.conf", "import Corefile\n"),
        (
            "/etc/coredns/Corefile",
            "# the file under test is passed as text\n",
        ),
        ("/etc/coredns/errline.conf", "errors"),
        ("/etc/coredns/twice.conf", "cache\n"),
    ])
}

#[test]
fn imports_splice_files_in() {
    type Check = fn(&Config);
    let cases: Vec<(&str, Check)> = vec![
        // No match: nothing imported, not an error, at the top level and inside a block.
        ("import /nowhere/*.server\n.:53 {\n  import custom/*.none\n  import /nowhere/*\n}", |c| {
            assert_eq!(c.servers.len(), 1);
        }),
        // Top-level glob: blocks in sorted order, relative to the Corefile's directory.
        ("import custom/*.server\n.:53 {\n}", |c| {
            let zones: Vec<&str> = c.servers.iter().map(|s| s.zones[0].zone.as_str()).collect();
            assert_eq!(zones, ["a.org.", "b.org.", "."]);
            assert!(c.servers[0].has(Kind::Errors));
            assert_eq!(c.servers[1].location.file, Path::new("/etc/coredns/custom/b.server"));
            assert_eq!(c.servers[1].get::<ForwardConfig>().map(|f| f.location.line), Some(2));
        }),
        // Inside a block, with lines after it on the same line numbers as the imported ones.
        (".:53 {\n  import /etc/coredns/custom/*.override\n  errors\n}", |c| {
            let s = &c.servers[0];
            assert!(s.has(Kind::Loop) && s.has(Kind::Errors));
            let log = s.get::<LogConfig>().expect("log");
            assert_eq!(log.location.file, Path::new("/etc/coredns/custom/x.override"));
            assert_eq!(log.location.line, 2);
        }),
        // A plain file, and the same file imported into two blocks.
        (".:53 {\n  import plugins.conf\n}\n.:54 {\n  import ./plugins.conf\n}", |c| {
            assert!(c.servers[0].has(Kind::Loop) && c.servers[1].has(Kind::Loop));
        }),
        // Snippets.
        ("(common) {\n  errors\n  cache 30\n}\n.:53 {\n  import common\n}\n.:54 {\n  import common\n  loop\n}", |c| {
            assert_eq!(c.servers.len(), 2);
            for s in &c.servers {
                assert!(s.has(Kind::Errors));
                assert_eq!(s.get::<CacheConfig>().map(|c| c.success.max_ttl), Some(30));
                assert_eq!(s.get::<CacheConfig>().map(|c| c.location.line), Some(3));
            }
            assert!(c.servers[1].has(Kind::Loop));
        }),
        ("(inner) {\n  loop\n}\n(outer) {\n  import inner\n  errors\n}\n.:53 {\n  import outer\n}", |c| {
            assert!(c.servers[0].has(Kind::Loop) && c.servers[0].has(Kind::Errors));
        }),
    ];
    for (text, check) in cases {
        match parse_in(text, &tree()) {
            Ok(config) => check(&config),
            Err(err) => panic!("{text:?}: unexpected error {err}"),
        }
    }
}

#[test]
fn import_errors_name_the_file_and_line() {
    let cases: Vec<(&str, &str)> = vec![
        (".:53 {\n  import\n}", "/etc/coredns/Corefile:2: `import` takes exactly 1 argument (`import FILE|GLOB|SNIPPET`), got 0"),
        (".:53 {\n  import a b\n}", "/etc/coredns/Corefile:2: `import` takes exactly 1 argument (`import FILE|GLOB|SNIPPET`), got 2"),
        (".:53 {\n  import missing.conf\n}", "/etc/coredns/Corefile:2: file to import not found: `/etc/coredns/missing.conf`"),
        ("import /etc/*/*.server", "/etc/coredns/Corefile:1: import pattern `/etc/*/*.server` may hold at most one `*` and one `?`, and no `[`"),
        ("import /etc/[ab].server", "/etc/coredns/Corefile:1: import pattern `/etc/[ab].server` may hold at most one `*` and one `?`, and no `[`"),
        // Errors inside an imported file name that file and its line.
        (".:53 {\n  import bad.override\n}", "/etc/coredns/bad.override:2: plugin `etcd` is not supported yet"),
        (".:53 {\n  errors\n  import errline.conf\n}", "/etc/coredns/errline.conf:1: only one `errors` per server block; the first is on /etc/coredns/Corefile:2"),
        (".:53 {\n  import twice.conf\n  import twice.conf\n}", "/etc/coredns/twice.conf:1: only one `cache` per server block; the first is on line 1"),
        // Cycles.
        ("import self.conf", "/etc/coredns/self.conf:1: import cycle: `/etc/coredns/self.conf` is already being imported (/etc/coredns/Corefile -> /etc/coredns/self.conf -> /etc/coredns/self.conf)"),
        (".:53 {\n  import ping.conf\n}", "/etc/coredns/pong.conf:1: import cycle: `/etc/coredns/ping.conf` is already being imported (/etc/coredns/Corefile -> /etc/coredns/ping.conf -> /etc/coredns/pong.conf -> /etc/coredns/ping.conf)"),
        ("import root.conf", "/etc/coredns/root.conf:1: import cycle: `/etc/coredns/Corefile` is already being imported (/etc/coredns/Corefile -> /etc/coredns/root.conf -> /etc/coredns/Corefile)"),
        ("(a) {\n  import b\n}\n(b) {\n  import a\n}\n.:53 {\n  import a\n}", "/etc/coredns/Corefile:5: import cycle: `(a)` is already being imported (/etc/coredns/Corefile -> (a) -> (b) -> (a))"),
        ("(a) {\n  loop\n}\n(a) {\n  errors\n}", "/etc/coredns/Corefile:4: snippet `a` is defined twice"),
        ("(a) {\n  loop\n", "/etc/coredns/Corefile:1: unclosed `{` opened on line 1: expected `}` before end of file"),
        // Nested deeper than a server block's directives, `import` is an option like any other.
        (".:53 {\n  forward . 1.1.1.1 {\n    import x\n  }\n}", "/etc/coredns/Corefile:3: unknown property `import` in forward block"),
    ];
    for (text, want) in cases {
        match parse_in(text, &tree()) {
            Ok(config) => panic!("{text:?}: expected error {want:?}, got {config:?}"),
            Err(err) => assert_eq!(err.to_string(), want, "{text:?}"),
        }
    }
}

#[test]
fn imports_from_the_real_filesystem() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("custom")).expect("mkdir");
    std::fs::write(dir.path().join("custom/1.override"), "loop\n").expect("write");
    std::fs::write(dir.path().join("custom/2.override"), "log\n").expect("write");
    std::fs::write(
        dir.path().join("custom/x.server"),
        "x.org {\n  loadbalance\n}\n",
    )
    .expect("write");
    let corefile = dir.path().join("Corefile");
    let text =
        ".:53 {\n  import custom/*.override\n}\nimport custom/*.server\nimport custom/*.none\n";
    std::fs::write(&corefile, text).expect("write");
    let c = crate::config::load_corefile(&corefile).expect("loads");
    assert_eq!(c.servers.len(), 2);
    assert!(c.servers[0].has(Kind::Loop) && c.servers[0].get::<LogConfig>().is_some());
    assert!(c.servers[1].has(Kind::Loadbalance));

    std::fs::write(dir.path().join("custom/3.override"), "\n\nfrobnicate\n").expect("write");
    let err = parse_corefile_with(text, &corefile, &|_| None, &RealFiles).expect_err("bad import");
    assert_eq!(err.file, dir.path().join("custom/3.override"));
    assert_eq!(err.line, 3);
}
