//! Listeners and the query handler chain.
