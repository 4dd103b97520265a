//! Integration tests of servedby-report: snapshots of every view and format, the
//! real Parquet/FtM readers, hostile content in a real browser, and changes.

mod changes;
mod fixtures;
mod formats;
mod hostile;
mod readers;
mod util;
mod views;
