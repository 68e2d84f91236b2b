//! Where cluster state comes from.
