//! The container image's root filesystem, as `deploy/image/build.sh` assembles it, run the way a
//! container runtime runs it: chrooted into exactly those files, read-only, as uid/gid 65532,
//! with the bundled example mounted read-only as a volume would be. It must hold nothing but the
//! binary, the CA bundle and the user database, and it must answer DNS over loopback.
//!
//! The binary is `cargo test`'s own (dynamically linked), so build.sh copies in the shared
//! libraries it needs; the release image's binary is static and has none. Assembling takes about
//! a second (no compiling). Without root, or where `unshare`/`chroot` cannot work, the binary is
//! run from the root filesystem without isolation, and the test says so.

use std::collections::BTreeSet;
use std::net::{SocketAddr, UdpSocket};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use hickory_proto::op::{Message, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};

mod served;

const BIN: &str = env!("CARGO_BIN_EXE_cairn");
/// The uid and gid the image runs as (distroless's `nonroot`).
const NONROOT: u32 = 65532;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs build.sh on the test binary; returns the root filesystem and the tarball.
fn assemble(out: &Path) -> (PathBuf, PathBuf) {
    let result = Command::new(repo().join("deploy/image/build.sh"))
        .args(["--no-image", "--binary", BIN, "--out"])
        .arg(out)
        .output()
        .expect("build.sh runs");
    let stdout = String::from_utf8_lossy(&result.stdout);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        result.status.success(),
        "build.sh failed:\n{stdout}\n{stderr}"
    );
    // It says what it made, and warns loudly when the binary is not static.
    assert!(stdout.contains("contents:\n  -rwxr-xr-x"), "{stdout}");
    assert!(
        stdout.contains("image:   not built (--no-image)"),
        "{stdout}"
    );
    if !is_static(Path::new(BIN)) {
        assert!(stderr.contains("WARNING:"), "{stderr}");
    }
    (out.join("rootfs"), out.join("cairn-rootfs.tar"))
}

/// The shared libraries `ldd` lists for `binary` (with the loader), none for a static one.
fn shared_libraries(binary: &Path) -> Vec<String> {
    let Ok(out) = Command::new("ldd").arg(binary).output() else {
        return Vec::new();
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                [_, "=>", path, ..] if path.starts_with('/') => Some(path.to_string()),
                [path, ..] if path.starts_with('/') => Some(path.to_string()),
                _ => None,
            }
        })
        .collect()
}

fn is_static(binary: &Path) -> bool {
    shared_libraries(binary).is_empty()
}

/// What the image holds: the binary, the CA bundle, the user database, and the directories
/// above them; plus, for a dynamic binary, its libraries.
fn expected_entries() -> BTreeSet<String> {
    let mut files: Vec<String> = [
        "/cairn",
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/passwd",
        "/etc/group",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    files.extend(shared_libraries(Path::new(BIN)));
    let mut entries = BTreeSet::new();
    for file in files {
        let mut p = Path::new(&file);
        entries.insert(file.clone());
        while let Some(parent) = p.parent().filter(|p| *p != Path::new("/")) {
            entries.insert(parent.display().to_string());
            p = parent;
        }
    }
    entries
}

/// Every path under `root` (not following symlinks), as absolute paths inside it.
fn walk(root: &Path) -> BTreeSet<String> {
    fn go(root: &Path, dir: &Path, into: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).expect("readable directory") {
            let path = entry.expect("directory entry").path();
            let inside = path.strip_prefix(root).expect("below root");
            into.insert(format!("/{}", inside.display()));
            if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
                go(root, &path, into);
            }
        }
    }
    let mut all = BTreeSet::new();
    go(root, root, &mut all);
    all
}

#[test]
fn the_root_filesystem_holds_only_the_binary_certificates_and_users() {
    let out = tempfile::tempdir().unwrap();
    let (rootfs, tarball) = assemble(out.path());
    let want = expected_entries();
    assert_eq!(walk(&rootfs), want);

    // Nothing in it is writable by anyone but its owner, root; the binary is executable.
    for entry in &want {
        let meta = std::fs::symlink_metadata(rootfs.join(&entry[1..])).unwrap();
        assert_eq!(meta.permissions().mode() & 0o022, 0, "{entry} is writable");
    }
    let cairn = std::fs::metadata(rootfs.join("cairn")).unwrap();
    assert_eq!(cairn.permissions().mode() & 0o777, 0o755);
    let passwd = std::fs::read_to_string(rootfs.join("etc/passwd")).unwrap();
    assert!(passwd.contains("nonroot:x:65532:65532:"), "{passwd}");
    let group = std::fs::read_to_string(rootfs.join("etc/group")).unwrap();
    assert!(group.contains("nonroot:x:65532:"), "{group}");
    assert_eq!(
        std::fs::read(rootfs.join("etc/ssl/certs/ca-certificates.crt")).unwrap(),
        std::fs::read("/etc/ssl/certs/ca-certificates.crt").unwrap()
    );

    // The tarball (what `docker import` gets) holds the same entries, all owned by 0:0.
    let listing = Command::new("tar")
        .args(["--numeric-owner", "-tvf"])
        .arg(&tarball)
        .output()
        .unwrap();
    assert!(listing.status.success());
    let listing = String::from_utf8_lossy(&listing.stdout);
    let mut in_tar = BTreeSet::new();
    for line in listing.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(fields.get(1), Some(&"0/0"), "{line}");
        let name = fields.last().unwrap().trim_start_matches('.');
        let name = name.trim_end_matches('/');
        if !name.is_empty() {
            in_tar.insert(name.to_string());
        }
    }
    assert_eq!(in_tar, want);
}

/// The A records the server at `addr` answers for `name`, as text.
fn resolve_a(addr: SocketAddr, name: &str) -> Vec<String> {
    let mut m = Message::query();
    m.metadata.id = 7;
    m.add_query(Query::query(Name::from_ascii(name).unwrap(), RecordType::A));
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    socket.send_to(&m.to_vec().unwrap(), addr).unwrap();
    let mut buf = [0u8; 4096];
    let (n, _) = socket.recv_from(&mut buf).expect("an answer over UDP");
    let answer = Message::from_vec(&buf[..n]).unwrap();
    assert_eq!(answer.metadata.response_code, ResponseCode::NoError);
    answer.answers.iter().map(|r| r.data.to_string()).collect()
}

/// Why the isolated run is not possible here, if it is not.
fn cannot_isolate() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1).map(str::to_string));
    if uid.as_deref() != Some("0") {
        return Some(format!(
            "not running as root (effective uid {})",
            uid.unwrap_or_default()
        ));
    }
    let probe = Command::new("unshare")
        .args([
            "--mount",
            "--propagation",
            "private",
            "--",
            "chroot",
            "--help",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    match probe {
        Ok(out) if out.status.success() => None,
        Ok(out) => Some(format!(
            "`unshare --mount` fails: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => Some(format!("cannot run unshare: {e}")),
    }
}

#[test]
fn the_image_answers_dns_as_65532_from_a_read_only_root() {
    let out = tempfile::tempdir().unwrap();
    let (rootfs, _) = assemble(out.path());
    // The example cluster, as a volume: its own directory, mounted read-only at /example.
    let volume = out.path().join("volume");
    std::fs::create_dir(&volume).unwrap();
    std::fs::copy(
        repo().join("examples/cluster.yaml"),
        volume.join("cluster.yaml"),
    )
    .unwrap();

    if let Some(why) = cannot_isolate() {
        eprintln!(
            "NOTE: {why}: running {}/cairn without chroot, read-only mounts or uid 65532; \
             only the DNS answer is checked",
            rootfs.display()
        );
        let mut command = Command::new(rootfs.join("cairn"));
        command.args(["serve", "--listen", "127.0.0.1:0", "--from"]);
        command.arg(volume.join("cluster.yaml"));
        let served = served::start(command, "image");
        assert_eq!(
            resolve_a(served.addr, "kubernetes.default.svc.cluster.local."),
            ["10.96.0.1"]
        );
        return;
    }

    // As a runtime does: the volume's mount point is made, the root is bind-mounted read-only
    // in a private mount namespace, the volume over it read-only, then chroot and drop to 65532.
    std::fs::create_dir(rootfs.join("example")).unwrap();
    let script = r#"set -e
root="$1"; volume="$2"; shift 2
mount --bind "$root" "$root"
mount -o remount,bind,ro "$root"
mount --bind "$volume" "$root/example"
mount -o remount,bind,ro "$root/example"
exec chroot --userspec=65532:65532 "$root" "$@""#;
    let mut command = Command::new("unshare");
    command
        .args(["--mount", "--propagation", "private", "--", "/bin/sh", "-c"])
        .arg(script)
        .arg("sh")
        .arg(&rootfs)
        .arg(&volume)
        .args([
            "/cairn",
            "serve",
            "--from",
            "/example/cluster.yaml",
            "--listen",
            "127.0.0.1:0",
        ]);
    let served = served::start(command, "image");

    // It answers over loopback.
    assert_eq!(
        resolve_a(served.addr, "kubernetes.default.svc.cluster.local."),
        ["10.96.0.1"]
    );

    // unshare, sh and chroot each exec the next: the child is cairn itself.
    let proc_dir = PathBuf::from(format!("/proc/{}", served.child.id()));
    let status = std::fs::read_to_string(proc_dir.join("status")).unwrap();
    let field = |name: &str| -> Vec<String> {
        let line = status
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .unwrap_or_else(|| panic!("{name} in {status}"));
        line.split_whitespace().map(str::to_string).collect()
    };
    assert_eq!(field("Name"), ["cairn"]);
    let nonroot = NONROOT.to_string();
    assert_eq!(
        field("Uid"),
        vec![nonroot.clone(); 4],
        "real, effective, saved, fs"
    );
    assert_eq!(
        field("Gid"),
        vec![nonroot.clone(); 4],
        "real, effective, saved, fs"
    );
    assert!(
        field("Groups").iter().all(|g| *g == nonroot),
        "no supplementary group but 65532: {:?}",
        field("Groups")
    );

    // What it sees is the image and the volume, nothing more.
    let seen_root = proc_dir.join("root");
    let mut want = expected_entries();
    want.insert("/example".to_string());
    want.insert("/example/cluster.yaml".to_string());
    assert_eq!(walk(&seen_root), want);
    for entry in &want {
        let meta = std::fs::symlink_metadata(seen_root.join(&entry[1..])).unwrap();
        assert_ne!(
            meta.uid(),
            NONROOT,
            "{entry} belongs to the user cairn runs as"
        );
    }

    // Its root is mounted read-only: not even root can write there through it.
    let mountinfo = std::fs::read_to_string(proc_dir.join("mountinfo")).unwrap();
    let root_mount = mountinfo
        .lines()
        .find(|l| l.split_whitespace().nth(4) == Some("/"))
        .expect("a mount at / in its namespace");
    let options = root_mount.split_whitespace().nth(5).unwrap_or("");
    assert!(
        options.split(',').any(|o| o == "ro"),
        "root mounted {options}: {root_mount}"
    );
    for target in ["probe", "etc/probe", "example/probe"] {
        let err = std::fs::write(seen_root.join(target), b"x").expect_err("read-only");
        assert_eq!(
            err.raw_os_error(),
            Some(30),
            "/{target}: {err} (want EROFS)"
        );
    }
}
