//! The `cairn-apisim` binary: loads a multi-document file, writes a kubeconfig, serves.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn binary_loads_documents_and_serves() {
    let dir = tempfile::tempdir().unwrap();
    let load = dir.path().join("objects.yaml");
    std::fs::write(
        &load,
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: a, namespace: x}\n  spec: {ports: [{port: 80}]}\n\
         ---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: skipped, namespace: x}\n\
         ---\napiVersion: v1\nkind: Service\nmetadata: {name: b, namespace: y}\nspec: {ports: [{port: 80}]}\n",
    )
    .unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let mut child = Command::new(env!("CARGO_BIN_EXE_cairn-apisim"))
        .args(["--listen", "127.0.0.1:0", "--load"])
        .arg(&load)
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut url = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut url)
        .unwrap();
    let result = std::panic::catch_unwind(|| {
        let addr = url.trim().strip_prefix("http://").expect("URL on stdout");
        let (code, list) = common::get(addr.parse().unwrap(), "/api/v1/services");
        assert_eq!(code, 200);
        assert_eq!(common::names(&list), ["x/a", "y/b"]);
        let config = std::fs::read_to_string(&kubeconfig).unwrap();
        assert!(
            config.contains(&format!("server: {}", url.trim())),
            "{config}"
        );
    });
    child.kill().unwrap();
    let _ = child.wait();
    result.unwrap();

    let status = Command::new(env!("CARGO_BIN_EXE_cairn-apisim"))
        .args(["--listen", "nonsense"])
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(2));
}
