//! Real-kernel tests of the Linux applier.
