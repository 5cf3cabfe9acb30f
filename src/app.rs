//! Composition root: builds the real adapters and runs a command.
