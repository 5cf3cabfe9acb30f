//! Topology snapshot: every configured server with what was observed of it.
