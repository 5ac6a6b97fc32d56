//! Embeds every `rules/*.toml` rule file and every `data/*.tsv` table in the binary,
//! sorted by name.

// A build script reports failure by panicking: expect is its error channel.
#![allow(clippy::expect_used)]

use std::fmt::Write;
use std::path::Path;

fn main() {
    embed("rules", "toml", "embedded_rules.rs");
    embed("data", "tsv", "embedded_tables.rs");
}

/// Writes `OUT_DIR/out` as a slice of `(path, include_str!(...))` for `folder/*.ext`.
fn embed(folder: &str, ext: &str, out: &str) {
    let root = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&root).join(folder);
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == ext))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut code = String::from("&[\n");
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        writeln!(
            code,
            "    (\"{folder}/{name}\", include_str!({:?})),",
            path.display().to_string()
        )
        .expect("writing to a String");
    }
    code.push(']');
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join(out);
    std::fs::write(out, code).expect("OUT_DIR is writable");
}
