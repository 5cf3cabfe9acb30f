//! Binary log and relay log files: event headers, finding a master position in relay logs, cutting diffs.
