use std::path::{Path, PathBuf};

use super::{glob, matches, normalize, FakeFiles, Files, RealFiles};

#[test]
fn component_patterns() {
    let cases = [
        ("*.server", "a.server", true),
        ("*.server", ".server", true),
        ("*.server", "a.server.bak", false),
        ("a?c", "abc", true),
        ("a?c", "ac", false),
        ("*", "", true),
        ("x*y*z", "xaaybbz", true),
        ("x*y", "xyz", false),
        ("plain", "plain", true),
        ("plain", "plain2", false),
    ];
    for (p, n, want) in cases {
        assert_eq!(matches(p, n), want, "{p} ~ {n}");
    }
}

#[test]
fn globs_over_a_fake_tree_are_sorted() {
    let fs = FakeFiles::with(&[
        ("/etc/coredns/custom/b.server", ""),
        ("/etc/coredns/custom/a.server", ""),
        ("/etc/coredns/custom/a.override", ""),
        ("/etc/coredns/other/c.server", ""),
    ]);
    let got = glob(&fs, Path::new("/etc/coredns/custom/*.server"));
    assert_eq!(
        got,
        [
            PathBuf::from("/etc/coredns/custom/a.server"),
            PathBuf::from("/etc/coredns/custom/b.server")
        ]
    );
    let got = glob(&fs, Path::new("/etc/coredns/*/c.server"));
    assert_eq!(got, [PathBuf::from("/etc/coredns/other/c.server")]);
    assert!(glob(&fs, Path::new("/etc/coredns/custom/*.none")).is_empty());
    assert!(glob(&fs, Path::new("/nowhere/*")).is_empty());
    assert_eq!(
        glob(&fs, Path::new("/etc/coredns/custom/a.server")),
        [PathBuf::from("/etc/coredns/custom/a.server")]
    );
}

#[test]
fn globs_over_the_real_filesystem() {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in ["2.conf", "1.conf", "x.txt"] {
        std::fs::write(dir.path().join(name), "").expect("write");
    }
    let got = glob(&RealFiles, &dir.path().join("*.conf"));
    assert_eq!(got, [dir.path().join("1.conf"), dir.path().join("2.conf")]);
    assert!(RealFiles.exists(&dir.path().join("x.txt")));
    assert!(RealFiles
        .read_to_string(&dir.path().join("missing"))
        .is_err());
}

#[test]
fn normalizes_lexically() {
    assert_eq!(normalize(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
    assert_eq!(normalize(Path::new("../x")), PathBuf::from("../x"));
    assert_eq!(normalize(Path::new("a/b/../../c")), PathBuf::from("c"));
}
