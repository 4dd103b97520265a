//! Embeds the catalog files of `data/catalog/*.toml` into the library.
//!
//! The generated file lists every catalog file, sorted by name, as `(file name,
//! include_str!(…))`, so `Catalog::builtin()` needs no file system at run time and a
//! catalog edit rebuilds the crate.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    );
    let dir = manifest.join("../../data/catalog");
    println!("cargo:rerun-if-changed={}", dir.display());

    let mut files: Vec<(String, PathBuf)> = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            let is_toml = path.extension().is_some_and(|e| e == "toml");
            if !is_toml || !path.is_file() {
                continue;
            }
            if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
                files.push((name.to_string(), path.clone()));
            }
        }
    }
    files.sort();

    let mut out = String::from(
        "/// Catalog files embedded at build time: (file name, contents), sorted by name.\n",
    );
    out.push_str("pub(crate) static BUILTIN_FILES: &[(&str, &str)] = &[\n");
    for (name, path) in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let abs = path.canonicalize().unwrap_or_else(|_| path.clone());
        let _ = writeln!(
            out,
            "    ({name:?}, include_str!({:?})),",
            abs.display().to_string()
        );
    }
    out.push_str("];\n");

    let target = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("builtin_catalog.rs");
    std::fs::write(&target, out).expect("write the generated catalog list");
}
