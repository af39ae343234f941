//! `presently roster ...` (being written).
