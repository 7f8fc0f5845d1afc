//! macOS: the spec as a Seatbelt profile, applied by running the task through
//! `/usr/bin/sandbox-exec -p <profile> -- program args…`. The kernel then checks every file,
//! process, network and IPC operation of the task and its children against the profile.
//!
//! The profile is rendered by pure code compiled on every platform and pinned by golden
//! files (`golden/*.sb`), so any change to it shows up in review. Only running it needs a
//! Mac; that part (`probe`, `command`, macOS only) is type-checked here
//! (`scripts/check-macos.sh`) but has NOT been run: its real-kernel tests
//! (`macos/tests.rs`) wait for a Mac.
//!
//! # Layout
//! - [`render()`]: the profile for a spec (see `render.rs` for what it allows and why).
//! - [`resolve()`]: the spec's paths as the kernel sees them, just before rendering.
//! - `pattern`: paths and globs as case-insensitive deny regexes.
//! - `sbpl`: string quoting and path filters.
//! - `macos` (macOS only): `command` wraps a task in `sandbox-exec`; `probe` checks at
//!   start that it confines.

mod pattern;
mod render;
mod resolve;
mod sbpl;

#[cfg(target_os = "macos")]
mod macos;

#[cfg(target_os = "macos")]
pub use macos::{command, probe};
pub use render::render;
pub use resolve::resolve;

#[cfg(test)]
mod model;
#[cfg(test)]
mod tests;
