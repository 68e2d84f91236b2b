//! Pure DNS wire helpers on hickory-proto: no sockets, no runtime.
