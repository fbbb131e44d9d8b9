//! Where rapport keeps things (XDG base directories), in one place.
use std::path::PathBuf;

/// `$RAPPORT_CACHE`, else `$XDG_CACHE_HOME/rapport`, else `~/.cache/rapport`.
pub fn cache_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("RAPPORT_CACHE").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    xdg("XDG_CACHE_HOME", ".cache").join("rapport")
}

/// `$XDG_STATE_HOME/rapport`, else `~/.local/state/rapport`.
pub fn state_dir() -> PathBuf {
    xdg("XDG_STATE_HOME", ".local/state").join("rapport")
}

/// The default audit state: `state_dir()/state.sqlite3`.
pub fn default_state() -> PathBuf {
    state_dir().join("state.sqlite3")
}

/// `$XDG_CONFIG_HOME/rapport`, else `~/.config/rapport`.
pub fn config_dir() -> PathBuf {
    xdg("XDG_CONFIG_HOME", ".config").join("rapport")
}

/// The resident scorer's socket: `$RAPPORT_SOCKET`, else `$XDG_RUNTIME_DIR/rapport/scorer.sock`,
/// else `/tmp/rapport-$UID/scorer.sock`.
pub fn scorer_socket() -> PathBuf {
    if let Some(p) = std::env::var_os("RAPPORT_SOCKET").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    match std::env::var_os("XDG_RUNTIME_DIR").filter(|p| !p.is_empty()) {
        Some(dir) => PathBuf::from(dir).join("rapport/scorer.sock"),
        // SAFETY: getuid has no preconditions and cannot fail.
        None => PathBuf::from(format!("/tmp/rapport-{}", unsafe { libc::getuid() })).join("scorer.sock"),
    }
}

fn xdg(var: &str, fallback: &str) -> PathBuf {
    std::env::var_os(var)
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(fallback)))
        .unwrap_or_else(|| PathBuf::from(fallback))
}
