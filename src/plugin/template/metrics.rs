//! The `template` plugin's metrics, under CoreDNS's names:
//! `coredns_template_matches_total{server,zone,view,class,type}`, and
//! `coredns_template_template_failures_total` (a template that could not be run) and
//! `coredns_template_rr_failures_total` (a rendered record that could not be read), both
//! `{server,zone,view,class,type,section,template}`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use crate::metrics::{view, PluginMetrics, Value};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Matched {
    server: Value,
    zone: Value,
    view: Value,
    class: Value,
    r#type: Value,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Failed {
    server: Value,
    zone: Value,
    view: Value,
    class: Value,
    r#type: Value,
    section: &'static str,
    template: Value,
}

/// The registered families.
#[derive(Debug, Default)]
pub struct TemplateMetrics {
    matches: Family<Matched, Counter>,
    template_failures: Family<Failed, Counter>,
    rr_failures: Family<Failed, Counter>,
}

impl PluginMetrics for TemplateMetrics {
    fn register(registry: &mut Registry) -> Self {
        let m = TemplateMetrics::default();
        // Counters are registered without `_total`: the encoder appends it.
        registry.register(
            "coredns_template_matches",
            "Counter of template regex matches.",
            m.matches.clone(),
        );
        registry.register(
            "coredns_template_template_failures",
            "Counter of go template failures.",
            m.template_failures.clone(),
        );
        registry.register(
            "coredns_template_rr_failures",
            "Counter of mis-templated RRs.",
            m.rr_failures.clone(),
        );
        m
    }
}

/// The labels one matched query is counted under.
pub struct Labels<'a> {
    pub server: &'a str,
    pub zone: &'a str,
    pub class: &'a str,
    pub rtype: &'a str,
}

/// Which failure to count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Running the template failed.
    Template,
    /// What it rendered is not a record.
    Record,
}

impl TemplateMetrics {
    pub fn matched(&self, l: &Labels<'_>) {
        self.matches
            .get_or_create(&Matched {
                server: l.server.into(),
                zone: l.zone.into(),
                view: view(),
                class: l.class.into(),
                r#type: l.rtype.into(),
            })
            .inc();
    }

    pub fn failed(&self, what: Failure, l: &Labels<'_>, section: &'static str, template: &str) {
        let family = match what {
            Failure::Template => &self.template_failures,
            Failure::Record => &self.rr_failures,
        };
        family
            .get_or_create(&Failed {
                server: l.server.into(),
                zone: l.zone.into(),
                view: view(),
                class: l.class.into(),
                r#type: l.rtype.into(),
                section,
                template: template.into(),
            })
            .inc();
    }
}
