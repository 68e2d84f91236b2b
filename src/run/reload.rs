//! The `reload` plugin's loop: the Corefile is read again every interval and, when it changed
//! and parses, applied to the running server without dropping a query.

use std::path::PathBuf;

/// The `reload` plugin: checks the Corefile every interval (plus up to `jitter`); a changed file
/// that parses is applied at once, one that does not (or that changes what needs a restart) is
/// logged and counted, and the running configuration stays.
pub async fn watch_corefile(
    path: PathBuf,
    loaded_text: Option<String>,
    reload: crate::plugin::reload::ReloadConfig,
    running: std::sync::Arc<super::Running>,
    node_local: Option<std::sync::Arc<crate::plugin::nodelocal::NodeLocal>>,
) {
    let server = &running.server;
    let digest = |text: &str| {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        text.hash(&mut h);
        h.finish()
    };
    let mut applied = loaded_text.as_deref().map(digest);
    loop {
        let jitter = reload.jitter.mul_f64(fastrand::f64());
        tokio::time::sleep(reload.interval + jitter).await;
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let now = Some(digest(&text));
        if now == applied {
            continue;
        }
        applied = now;
        // Parse the text just compared, not a second read of the file.
        let outcome = crate::config::parse_corefile(&text, &path, &|k| std::env::var(k).ok())
            .map_err(|e| e.to_string())
            .and_then(|config| {
                // The node's interface and rules are set up once; changing them needs a restart.
                let wanted = super::nodelocal::from_config(&config);
                let same = match (&node_local, &wanted) {
                    (None, None) => true,
                    (Some(running), Some(wanted)) => running.same_setup(wanted),
                    _ => false,
                };
                if !same {
                    return Err("the nodelocal block changed; restart Cairn to apply".to_string());
                }
                server.reload(config)
            });
        match outcome {
            Ok(()) => {
                tracing::info!(corefile = %path.display(), "plugin/reload: running the new configuration")
            }
            Err(err) => {
                server
                    .metrics()
                    .plugin::<crate::plugin::reload::ReloadMetrics>()
                    .failed();
                tracing::error!(corefile = %path.display(), "plugin/reload: keeping the running configuration: {err}");
            }
        }
    }
}
