//! Tests of [`check()`](super::check): on a fake home in a temp directory with fake
//! programs in a private search path ([`fixture::Fixture`]), one file per kind of task,
//! plus the tightened parse layer and paths compared by identity.

mod claude;
mod command;
mod file;
mod fixture;
mod hardening;
mod identity;
