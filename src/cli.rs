//! Command line: clap definitions, with MHA underscore spellings as aliases.
