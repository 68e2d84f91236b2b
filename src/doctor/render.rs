//! The human-readable report: one line per check (✓ works, ✗ fails, – not checked or not
//! available), the target, the result and the latency; Cairn's `/status` summary; then the
//! verdict, wrapped to fit one screen. Formatting only.

use std::fmt::Write;

use super::api::ApiCheck;
use super::dns::DnsCheck;
use super::report::Report;
use super::status::{StatusCheck, StatusOutcome};
use crate::status::Status;

/// Verdict lines are wrapped at this width.
const WIDTH: usize = 100;

fn mark(ok: bool) -> char {
    if ok {
        '✓'
    } else {
        '✗'
    }
}

fn line(out: &mut String, mark: char, what: &str, target: &str, result: &str, ms: Option<f64>) {
    let latency = ms.map_or(String::new(), |ms| format!("  {ms:.0} ms"));
    if target.is_empty() {
        let _ = writeln!(out, "{mark} {what:<9} {result}{latency}");
    } else {
        let _ = writeln!(out, "{mark} {what:<9} {target:<44} {result}{latency}");
    }
}

fn api_line(out: &mut String, what: &str, c: &ApiCheck) {
    let result = match (&c.version, c.ok()) {
        (Some(v), true) => format!("/version 200 ({v})"),
        _ => c.phrase(),
    };
    let target = format!("{} ({})", c.url, c.origin.describe());
    line(
        out,
        mark(c.ok()),
        what,
        &target,
        &result,
        Some(c.latency_ms),
    );
}

fn dns_line(out: &mut String, server: &str, q: &DnsCheck) {
    let target = format!("{} A @{server}", q.name.trim_end_matches('.'));
    let result = match (&q.rcode, q.ok()) {
        (Some(rcode), true) => format!("{rcode} {}", q.answers.join(" ")),
        _ => q.phrase(),
    };
    let via = q
        .transport
        .as_deref()
        .filter(|t| *t == "tcp")
        .map_or(String::new(), |_| " (over TCP)".to_string());
    line(
        out,
        mark(q.ok()),
        "dns",
        &target,
        &format!("{result}{via}"),
        Some(q.latency_ms),
    );
}

fn age(seconds: Option<f64>) -> String {
    seconds.map_or("never".to_string(), |s| format!("{s:.0} s ago"))
}

/// One line about what the document says.
fn status_summary(s: &Status) -> String {
    let mut parts = Vec::new();
    if let Some(api) = &s.api {
        parts.push(match &api.active {
            Some(url) => format!("active API endpoint {url}"),
            None => "no healthy API endpoint".to_string(),
        });
        let learned = api
            .endpoints
            .iter()
            .filter(|e| e.origin == crate::status::EndpointOrigin::Learned)
            .count();
        parts.push(format!(
            "{} candidate(s), {learned} learned, {} failover(s)",
            api.endpoints.len(),
            api.failovers
        ));
    }
    parts.push(format!(
        "data from {}, {:.0} s behind, last sync {}",
        s.data.source,
        s.data.staleness_seconds,
        age(s.data.last_sync_age_seconds)
    ));
    if let Some(snap) = &s.snapshot {
        parts.push(format!("snapshot written {}", age(snap.age_seconds)));
    }
    parts.join("; ")
}

/// The node-local line: interface and addresses, rules, local queries, the last repair.
fn node_local_line(out: &mut String, n: &crate::status::NodeLocalStatus) {
    let addrs: Vec<String> = n
        .addresses
        .iter()
        .map(|a| {
            if a.present {
                a.address.clone()
            } else {
                format!("{} missing", a.address)
            }
        })
        .collect();
    let target = format!(
        "{} ({}) {}",
        n.interface,
        n.kind.as_deref().unwrap_or("absent"),
        addrs.join(" ")
    );
    let rules = if n.rules_present {
        format!("table {} present", n.table)
    } else {
        format!("table {} missing", n.table)
    };
    let repair = match &n.last_repair {
        Some(r) => format!("; last repair: {} {:.0} s ago", r.what, r.age_seconds),
        None => String::new(),
    };
    let result = format!("{rules}; {} local queries{repair}", n.local_queries);
    let ok = super::verdict::node_local_whole(n);
    line(out, mark(ok), "nodelocal", &target, &result, None);
}

fn status_lines(out: &mut String, c: &StatusCheck) {
    match (&c.outcome, &c.status) {
        (StatusOutcome::Ok, Some(s)) => {
            let fresh = s.api.as_ref().is_none_or(|a| a.active.is_some())
                && s.data.staleness_seconds < super::verdict::STALE_AFTER_SECONDS;
            let result = format!("Cairn {}, ready: {}", s.version, s.ready);
            line(
                out,
                mark(fresh),
                "status",
                &c.url,
                &result,
                Some(c.latency_ms),
            );
            let pad = " ".repeat(12);
            let _ = writeln!(out, "{}", wrap(&status_summary(s), &pad, &pad));
            if let Some(n) = &s.node_local {
                node_local_line(out, n);
            }
        }
        _ => {
            let why = c.error.as_deref().unwrap_or("not available");
            let result = match c.outcome {
                StatusOutcome::Error => format!("unreadable: {why}"),
                _ => format!("not available ({why})"),
            };
            line(out, '–', "status", &c.url, &result, None);
        }
    }
}

/// Words of `text` in lines of at most [`WIDTH`] characters (longer words stay whole), the
/// first line starting with `first`, the others with `indent`.
pub fn wrap(text: &str, first: &str, indent: &str) -> String {
    let mut out = String::new();
    let mut current = first.to_string();
    for word in text.split_whitespace() {
        let fresh = current == first || current == indent;
        if !fresh && current.chars().count() + 1 + word.chars().count() > WIDTH {
            out.push_str(&current);
            out.push('\n');
            current = indent.to_string();
        } else if !fresh {
            current.push(' ');
        }
        current.push_str(word);
    }
    out.push_str(&current);
    out
}

/// The whole human-readable report.
pub fn human(report: &Report) -> String {
    let mut out = String::new();
    match (&report.api.configured, &report.api.skipped) {
        (Some(c), _) => api_line(&mut out, "api", c),
        (None, why) => line(
            &mut out,
            '–',
            "api",
            "",
            &format!("not checked: {}", why.as_deref().unwrap_or("no address")),
            None,
        ),
    }
    for e in &report.api.endpoints {
        api_line(&mut out, "endpoint", e);
    }
    if let Some(note) = &report.api.endpoints_note {
        line(&mut out, '–', "endpoints", "", note, None);
    }
    match &report.dns.server {
        Some(server) => {
            for q in &report.dns.queries {
                dns_line(&mut out, server, q);
            }
        }
        None => line(
            &mut out,
            '–',
            "dns",
            "",
            &format!(
                "not checked: {}",
                report.dns.skipped.as_deref().unwrap_or("no server")
            ),
            None,
        ),
    }
    if let Some(s) = &report.status {
        status_lines(&mut out, s);
    }
    out.push('\n');
    out.push_str(&wrap(
        &format!("Verdict: {}", report.verdict.text),
        "",
        "  ",
    ));
    out.push('\n');
    out
}

#[cfg(test)]
mod tests;
