//! Data tables: facts the rules test against, taken from the upstream tools' own tables.
//!
//! A table is a tab-separated file under `data/`, embedded in the binary like the rules.
//! Its header names where the facts come from, so that a reader can check them:
//!
//! ```text
//! # table: ece_errors
//! # source: magento/ece-tools 2002.1.17 (commit 579df766), src/App/Error.php
//! # key: code
//! code<TAB>constant<TAB>stage<TAB>step<TAB>type<TAB>category<TAB>meaning
//! 12<TAB>BUILD_PATCH_APPLYING_FAILED<TAB>build<TAB>apply-patches<TAB>...
//! ```
//!
//! Rules read a table two ways: as a set (`field in @ece_errors`, the key column's
//! values), and as a lookup from a signal (`lookup = ["ece_errors"]`): an event whose
//! field named like the key column holds a key gets the row's other columns as fields.

use std::collections::HashMap;
use std::fmt;

/// The shipped tables, embedded at build time: (path, contents).
pub const EMBEDDED: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/embedded_tables.rs"));

/// One parsed table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The name rules use (`@name`, `lookup = ["name"]`).
    pub name: String,
    /// Where the facts come from: repository, version or commit, file.
    pub source: String,
    /// Other header lines (`# note: ...`), in order, for `rules doc`.
    pub notes: Vec<String>,
    /// Column names; the key column is one of them.
    pub columns: Vec<String>,
    /// Index of the key column.
    pub key: usize,
    /// Rows, each with one value per column.
    pub rows: Vec<Vec<String>>,
    /// Key value to row index.
    by_key: HashMap<String, usize>,
    /// The file it came from.
    pub path: String,
}

/// A mistake in a table file, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableError {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for TableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.path, self.line, self.column, self.message
        )
    }
}

impl Table {
    /// Parses a table file; every mistake is reported, located.
    pub fn parse(path: &str, text: &str) -> Result<Table, Vec<TableError>> {
        let mut errors = Vec::new();
        let error = |line: usize, column: usize, message: String| TableError {
            path: path.to_owned(),
            line,
            column,
            message,
        };
        let mut header: HashMap<&str, (usize, &str)> = HashMap::new();
        let mut notes = Vec::new();
        let mut columns: Option<(usize, Vec<String>)> = None;
        let mut rows = Vec::new();
        let mut by_key = HashMap::new();
        let mut key = 0;
        for (index, line) in text.lines().enumerate() {
            let number = index + 1;
            let line = line.strip_suffix('\r').unwrap_or(line);
            if let Some(comment) = line.strip_prefix('#') {
                if columns.is_none()
                    && let Some((name, value)) = comment.trim().split_once(':')
                {
                    let (name, value) = (name.trim(), value.trim());
                    if name == "note" {
                        notes.push(value.to_owned());
                    } else {
                        header.insert(name, (number, value));
                    }
                }
                continue;
            }
            if line.trim().is_empty() {
                continue;
            }
            let cells: Vec<String> = line.split('\t').map(|c| c.trim().to_owned()).collect();
            match &columns {
                None => {
                    let wanted = header.get("key").map_or("", |(_, v)| *v);
                    match cells.iter().position(|c| c == wanted) {
                        Some(i) => key = i,
                        None => errors.push(error(
                            number,
                            1,
                            format!(
                                "the `# key:` header names `{wanted}`, which is not a column: expected one of {}",
                                cells.join(", ")
                            ),
                        )),
                    }
                    if let Some(bad) = cells.iter().find(|c| !is_name(c)) {
                        errors.push(error(number, 1, format!(
                            "invalid column name `{bad}`: expected lowercase letters, digits and `_`"
                        )));
                    }
                    columns = Some((number, cells));
                }
                Some((_, names)) => {
                    if cells.len() != names.len() {
                        errors.push(error(
                            number,
                            1,
                            format!(
                                "{} cells where the header has {} columns",
                                cells.len(),
                                names.len()
                            ),
                        ));
                        continue;
                    }
                    let value = cells[key].clone();
                    let column = line
                        .split('\t')
                        .take(key)
                        .map(|c| c.len() + 1)
                        .sum::<usize>()
                        + 1;
                    if by_key.insert(value.clone(), rows.len()).is_some() {
                        errors.push(error(number, column, format!("duplicate key `{value}`")));
                    }
                    rows.push(cells);
                }
            }
        }
        for required in ["table", "source", "key"] {
            if !header.contains_key(required) {
                errors.push(error(
                    1,
                    1,
                    format!("missing header line `# {required}: ...`"),
                ));
            }
        }
        let name = header.get("table").map_or("", |(_, v)| *v).to_owned();
        if let Some((number, _)) = header.get("table")
            && !is_name(&name)
        {
            errors.push(error(
                *number,
                1,
                format!("invalid table name `{name}`: expected lowercase letters, digits and `_`"),
            ));
        }
        let Some((_, columns)) = columns else {
            errors.push(error(
                1,
                1,
                "no column line: expected the column names, tab-separated, after the header".into(),
            ));
            return Err(errors);
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Table {
            name,
            source: header.get("source").map_or("", |(_, v)| *v).to_owned(),
            notes,
            columns,
            key,
            rows,
            by_key,
            path: path.to_owned(),
        })
    }

    /// The key column's name.
    pub fn key_column(&self) -> &str {
        &self.columns[self.key]
    }

    /// The key column's values, in file order.
    pub fn keys(&self) -> Vec<String> {
        self.rows.iter().map(|r| r[self.key].clone()).collect()
    }

    /// The row whose key is `key`, as (column, value) pairs.
    pub fn lookup(&self, key: &str) -> Option<impl Iterator<Item = (&str, &str)>> {
        let row = &self.rows[*self.by_key.get(key)?];
        Some(
            self.columns
                .iter()
                .map(String::as_str)
                .zip(row.iter().map(String::as_str)),
        )
    }

    /// One column's value in the row whose key is `key`.
    pub fn get(&self, key: &str, column: &str) -> Option<&str> {
        let column = self.columns.iter().position(|c| c == column)?;
        Some(&self.rows[*self.by_key.get(key)?][column])
    }
}

/// Whether a name is lowercase letters, digits and `_`, starting with a letter.
fn is_name(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Every shipped table, parsed; a broken shipped table is a bug the tests catch.
pub fn embedded() -> Result<Vec<Table>, Vec<TableError>> {
    let mut tables = Vec::new();
    let mut errors = Vec::new();
    for (path, text) in EMBEDDED {
        match Table::parse(path, text) {
            Ok(t) => tables.push(t),
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() {
        Ok(tables)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const SMALL: &str = "# table: colours\n# source: a test\n# key: name\n# note: made up\nname\thex\nred\t#f00\nblue\t#00f\n";

    #[test]
    fn a_table_parses_its_header_columns_and_rows() {
        let t = Table::parse("t.tsv", SMALL).unwrap();
        assert_eq!(t.name, "colours");
        assert_eq!(t.source, "a test");
        assert_eq!(t.notes, vec!["made up"]);
        assert_eq!(t.key_column(), "name");
        assert_eq!(t.keys(), vec!["red", "blue"]);
        assert_eq!(t.get("blue", "hex"), Some("#00f"));
        assert_eq!(t.get("green", "hex"), None);
        let row: Vec<_> = t.lookup("red").unwrap().collect();
        assert_eq!(row, vec![("name", "red"), ("hex", "#f00")]);
    }

    #[test]
    fn mistakes_are_located() {
        let text = "# table: colours\n# key: name\nname\thex\nred\t#f00\nred\t#e00\nblue\n";
        let errors = Table::parse("t.tsv", text).unwrap_err();
        let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert!(
            shown.contains(&"t.tsv:5:1: duplicate key `red`".to_owned()),
            "{shown:?}"
        );
        assert!(
            shown.contains(&"t.tsv:6:1: 1 cells where the header has 2 columns".to_owned()),
            "{shown:?}"
        );
        assert!(
            shown.contains(&"t.tsv:1:1: missing header line `# source: ...`".to_owned()),
            "{shown:?}"
        );
    }

    #[test]
    fn a_key_that_is_not_a_column_is_refused() {
        let text = "# table: t\n# source: s\n# key: id\nname\tvalue\n";
        let errors = Table::parse("t.tsv", text).unwrap_err();
        assert!(
            errors[0]
                .message
                .contains("names `id`, which is not a column"),
            "{errors:?}"
        );
        assert_eq!(errors[0].line, 4);
    }

    #[test]
    fn every_shipped_table_parses_and_names_its_source() {
        let tables = embedded().unwrap();
        assert!(!tables.is_empty());
        for t in &tables {
            assert!(t.source.len() > 10, "{} has no real source", t.path);
            assert!(!t.rows.is_empty(), "{} is empty", t.path);
        }
    }
}
