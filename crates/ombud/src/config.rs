use std::net::SocketAddr;
use std::path::Path;

use anyhow::Context;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use ombud_server::Settings;

/// Top-level settings sections; other `OMBUD_*` variables (such as OMBUD_LOG) are not settings.
const SECTIONS: [&str; 7] = [
    "listen", "data_dir", "auth", "graphql", "database", "metrics", "jobs",
];

/// Merges defaults, the TOML file, `OMBUD_*` variables and flags, later ones winning.
pub fn load(
    file: Option<&Path>,
    data_dir: Option<&Path>,
    listen: Option<SocketAddr>,
) -> anyhow::Result<Settings> {
    let mut figment = Figment::from(Serialized::defaults(Settings::default()));
    if let Some(file) = file {
        if !file.exists() {
            anyhow::bail!("the settings file {} does not exist", file.display());
        }
        figment = figment.merge(Toml::file(file));
    }
    figment = figment.merge(Env::prefixed("OMBUD_").split("__").filter(|key| {
        // Keys keep the variable's case here, so compare without it.
        let section = key.as_str().split('.').next().unwrap_or_default();
        SECTIONS
            .iter()
            .any(|known| known.eq_ignore_ascii_case(section))
    }));
    if let Some(data_dir) = data_dir {
        figment = figment.merge(Serialized::default("data_dir", data_dir));
    }
    if let Some(listen) = listen {
        figment = figment.merge(Serialized::default("listen", listen.to_string()));
    }
    figment.extract().context("invalid settings")
}
