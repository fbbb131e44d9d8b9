//! Snapshot tests (written below).
