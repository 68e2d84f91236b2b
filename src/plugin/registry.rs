//! What a plugin's folder provides to be listed in the `plugin` module's order list, and the
//! macro that turns that list into the plugin types: [`super::Kind`] (which plugin, in order), [`super::Setup`]
//! (its typed options), the dispatch from a Corefile directive to the right parser, and from a
//! setup to the plugin in a block's chain.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use hickory_proto::rr::Name;

use super::Plugin;
use crate::corefile::{ConfigError, Directive, Files};
use crate::metrics::Metrics;
use crate::plugin::kubernetes::publish::IndexCell;

/// The typed options of one plugin: how they are read from its Corefile directive, checked
/// against the rest of the block, and turned into the plugin a chain runs.
pub trait Configure: Sized + Clone + std::fmt::Debug + PartialEq + Eq + 'static {
    /// The plugin's name in a Corefile (and in the `plugin` metric label).
    const NAME: &'static str;

    /// Reads the plugin's directive (its arguments and `{ }` block).
    fn parse(d: &Directive, block: &BlockContext<'_>) -> Result<Self, ConfigError>;

    /// Whether a block may name the plugin more than once (`acl`, `template`, `rewrite`): each
    /// later directive's options are added to the first's with [`Configure::join`], in the
    /// order written. Otherwise a second one is "only one `NAME` per server block".
    const REPEATABLE: bool = false;

    /// Adds the options of a later directive of a [`Configure::REPEATABLE`] plugin to these.
    fn join(&mut self, later: Self) {
        *self = later;
    }

    /// Checks the options against the whole block, once every directive is read.
    fn check(&self, block: &BlockContext<'_>) -> Result<(), ConfigError> {
        let _ = block;
        Ok(())
    }

    /// What the options say, for people (`cairn validate`'s summary): zones, addresses, files;
    /// empty when the name says it all.
    fn summary(&self) -> String {
        String::new()
    }

    /// The plugin in a block's chain; `None` for plugins that act outside the query path
    /// (listeners, reload, node-local setup).
    fn build(&self, env: &mut BuildEnv<'_>) -> Result<Option<Arc<dyn Plugin>>, String>;
}

/// What a plugin's options may depend on in their server block.
pub struct BlockContext<'a> {
    /// The block's zones (lower-case FQDNs), each once, in key order.
    pub zones: &'a [String],
    /// `bind` addresses; empty means the wildcard addresses.
    pub bind: &'a [IpAddr],
    /// Reads the files a directive names (`forward`'s resolv.conf).
    pub files: &'a dyn Files,
    /// The names of the plugins the block has read so far (every one, in [`Configure::check`]).
    pub plugins: &'a [String],
}

/// Where each `kubernetes` block's index cell comes from: given the block's options and the
/// server's own addresses, a cell, or why none can be had (fresh cells at start, the running
/// ones on reload).
pub type CellSource<'a> = dyn FnMut(&super::kubernetes::KubernetesConfig, Vec<IpAddr>) -> Result<Arc<IndexCell>, String>
    + 'a;

/// What building one block's plugins may use. Plugins are built from the last in the order to
/// the first, so one can use what a plugin after it [`provide`](BuildEnv::provide)s (the
/// `forward` that `kubernetes` chases CNAMEs through, that `loop` guards).
pub struct BuildEnv<'a> {
    /// The block's zones.
    pub zones: &'a [Name],
    /// The same, as written in the configuration (lower-case FQDNs).
    pub zone_names: &'a [String],
    /// `dns://ADDR:PORT`, the metrics' `server` label.
    pub server_label: &'a str,
    /// The addresses the server answers on (for the apex NS glue).
    pub own_ips: Vec<IpAddr>,
    pub metrics: &'a Arc<Metrics>,
    pub index_cells: &'a mut CellSource<'a>,
    provided: HashMap<TypeId, Box<dyn Any>>,
}

impl<'a> BuildEnv<'a> {
    pub fn new(
        zones: &'a [Name],
        zone_names: &'a [String],
        server_label: &'a str,
        own_ips: Vec<IpAddr>,
        metrics: &'a Arc<Metrics>,
        index_cells: &'a mut CellSource<'a>,
    ) -> Self {
        BuildEnv {
            zones,
            zone_names,
            server_label,
            own_ips,
            metrics,
            index_cells,
            provided: HashMap::new(),
        }
    }

    /// Offers `value` to the plugins before this one in the order.
    pub fn provide<T: Any + Clone>(&mut self, value: T) {
        self.provided.insert(TypeId::of::<T>(), Box::new(value));
    }

    /// What a plugin after this one offered, if the block has it.
    pub fn provided<T: Any + Clone>(&self) -> Option<T> {
        self.provided
            .get(&TypeId::of::<T>())
            .and_then(|v| v.downcast_ref::<T>())
            .cloned()
    }
}

/// Finds one plugin's options among a block's setups (implemented by the order list for every
/// plugin's options type).
pub trait Pick: Sized {
    fn pick(setup: &super::Setup) -> Option<&Self>;
}

/// Declares the plugins, in CoreDNS's order, one `module::OptionsType => Kind,` per line:
/// each line declares the plugin's module (its folder) and its [`super::Kind`] and
/// [`super::Setup`] variants.
macro_rules! plugins {
    ($($module:ident :: $config:ident => $kind:ident,)*) => {
        $(pub mod $module;)*

        /// A plugin Cairn implements. The declaration order is the order plugins run in.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Kind {
            $($kind,)*
        }

        impl Kind {
            /// Every plugin, in order.
            pub const ALL: &'static [Kind] = &[$(Kind::$kind,)*];

            /// Its name in a Corefile and in metrics.
            pub fn name(self) -> &'static str {
                match self {
                    $(Kind::$kind => <$module::$config as $crate::plugin::Configure>::NAME,)*
                }
            }

            /// Its folder under `src/plugin/` (where its `README.md`, the doc page, is).
            pub fn module(self) -> &'static str {
                match self {
                    $(Kind::$kind => stringify!($module),)*
                }
            }

            /// The plugin a directive names.
            pub fn from_name(name: &str) -> Option<Kind> {
                Kind::ALL.iter().copied().find(|k| k.name() == name)
            }
        }

        /// One plugin's typed options, as a server block holds them.
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub enum Setup {
            $($kind($module::$config),)*
        }

        impl Setup {
            pub fn kind(&self) -> Kind {
                match self {
                    $(Setup::$kind(_) => Kind::$kind,)*
                }
            }

            /// [`Configure::REPEATABLE`](crate::plugin::Configure::REPEATABLE).
            pub fn repeatable(kind: Kind) -> bool {
                match kind {
                    $(Kind::$kind => <$module::$config as $crate::plugin::Configure>::REPEATABLE,)*
                }
            }

            /// [`Configure::join`](crate::plugin::Configure::join): `later` must be of the same
            /// kind (else it replaces these options).
            pub fn join(&mut self, later: Setup) {
                #[allow(unreachable_patterns)]
                match (self, later) {
                    $((Setup::$kind(c), Setup::$kind(l)) => $crate::plugin::Configure::join(c, l),)*
                    (this, later) => *this = later,
                }
            }

            /// Reads the directive of plugin `kind`.
            pub fn parse(
                kind: Kind,
                d: &$crate::corefile::Directive,
                block: &$crate::plugin::BlockContext<'_>,
            ) -> Result<Setup, $crate::corefile::ConfigError> {
                match kind {
                    $(Kind::$kind => {
                        <$module::$config as $crate::plugin::Configure>::parse(d, block).map(Setup::$kind)
                    })*
                }
            }

            /// [`Configure::check`](crate::plugin::Configure::check).
            pub fn check(
                &self,
                block: &$crate::plugin::BlockContext<'_>,
            ) -> Result<(), $crate::corefile::ConfigError> {
                match self {
                    $(Setup::$kind(c) => $crate::plugin::Configure::check(c, block),)*
                }
            }

            /// [`Configure::summary`](crate::plugin::Configure::summary).
            pub fn summary(&self) -> String {
                match self {
                    $(Setup::$kind(c) => $crate::plugin::Configure::summary(c),)*
                }
            }

            /// [`Configure::build`](crate::plugin::Configure::build).
            pub fn build(
                &self,
                env: &mut $crate::plugin::BuildEnv<'_>,
            ) -> Result<Option<std::sync::Arc<dyn $crate::plugin::Plugin>>, String> {
                match self {
                    $(Setup::$kind(c) => $crate::plugin::Configure::build(c, env),)*
                }
            }
        }

        $(
            impl $crate::plugin::registry::Pick for $module::$config {
                fn pick(setup: &Setup) -> Option<&Self> {
                    #[allow(unreachable_patterns)]
                    match setup {
                        Setup::$kind(c) => Some(c),
                        _ => None,
                    }
                }
            }
        )*
    };
}

pub(crate) use plugins;
