//! SSH transport adapter: the `Remote` trait and its openssh implementation.
