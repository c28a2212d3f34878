//! Every entry of the wrong shape in a config file, not only the first.
//!
//! serde stops at the first value it cannot read, so a config with a mistyped field in three
//! checks would take three runs of `warroom validate` to clear, at the worst moment to be
//! editing a config. Here the document is parsed once, keeping the spans of the original text,
//! then read again and again, each time without the entry the last error was about, until it
//! reads or [`MOST`] errors are found. The spans stay those of the text, so each error still
//! points at its own line.

use std::ops::Range;

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeArray, DeTable, DeValue, Deserializer, Error};

/// Enough to fix in one sitting; a file worse than this is better read from the top again.
const MOST: usize = 50;

/// `T` read from `text`, or why not: a syntax error alone (nothing after it can be trusted),
/// else each entry that has the wrong shape, in file order.
pub(super) fn read<T: DeserializeOwned>(text: &str) -> Result<T, Vec<Error>> {
    let mut document = DeTable::parse(text).map_err(|e| vec![e])?;
    let mut errors = Vec::new();
    // Tables we took an entry out of, and its key: their "missing field" is our own doing.
    let mut taken: Vec<(Range<usize>, String)> = Vec::new();
    loop {
        let error = match T::deserialize(Deserializer::from(document.clone())) {
            Ok(value) if errors.is_empty() => return Ok(value),
            Ok(_) => return Err(in_file_order(errors)),
            Err(error) => error,
        };
        let Some(span) = error.span() else {
            errors.push(error);
            return Err(in_file_order(errors));
        };
        let ours = missing_field(error.message())
            .is_some_and(|field| taken.iter().any(|(table, key)| *table == span && key == field));
        if !ours {
            errors.push(error);
        }
        let (root_span, root) = (document.span(), document.get_mut());
        match take_from_table(root, root_span, &span) {
            Some(removed) if errors.len() < MOST => taken.push(removed),
            _ => return Err(in_file_order(errors)),
        }
    }
}

/// The reads meet a table's keys in the parser's order, not the file's.
fn in_file_order(mut errors: Vec<Error>) -> Vec<Error> {
    errors.sort_by_key(|e| e.span().map(|s| s.start));
    errors
}

/// The field a serde "missing field `x`" error names.
fn missing_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.split('`').next()
}

/// Takes out of `table` (written at `table_span`) the innermost entry or array element that
/// `span` falls in. Returns the table the entry was taken from and its key (an array element
/// gives its array's key), or None when nothing in `table` holds `span`.
fn take_from_table(
    table: &mut DeTable,
    table_span: Range<usize>,
    span: &Range<usize>,
) -> Option<(Range<usize>, String)> {
    // Deeper first: a table's own span may cover only its header, so a value inside it is
    // looked for in every child, not only in children whose span holds it.
    for (key, value) in table.iter_mut() {
        if let Some(taken) = take_inside(value, key, span) {
            return Some(taken);
        }
    }
    let key = table
        .iter()
        .find(|(key, value)| holds(&key.span(), span) || holds(&value.span(), span))
        .map(|(key, _)| key.get_ref().to_string())?;
    table.remove(key.as_str());
    Some((table_span, key))
}

/// Takes `span`'s entry from inside `value` (the value of `key`), never `value` itself.
fn take_inside(
    value: &mut Spanned<DeValue>,
    key: &Spanned<toml::de::DeString>,
    span: &Range<usize>,
) -> Option<(Range<usize>, String)> {
    let value_span = value.span();
    match value.get_mut() {
        DeValue::Table(table) => take_from_table(table, value_span, span),
        DeValue::Array(array) => take_from_array(array, value_span, key.get_ref(), span),
        _ => None,
    }
}

/// As [`take_from_table`], for the elements of an array (an array of tables, most often).
fn take_from_array(
    array: &mut DeArray,
    array_span: Range<usize>,
    key: &str,
    span: &Range<usize>,
) -> Option<(Range<usize>, String)> {
    for element in array.iter_mut() {
        let element_span = element.span();
        let inner = match element.get_mut() {
            DeValue::Table(table) => take_from_table(table, element_span, span),
            DeValue::Array(inner) => take_from_array(inner, element_span, key, span),
            _ => None,
        };
        if inner.is_some() {
            return inner;
        }
    }
    let at = array.iter().position(|element| holds(&element.span(), span))?;
    *array = std::mem::replace(array, DeArray::new())
        .into_iter()
        .enumerate()
        .filter(|(n, _)| *n != at)
        .map(|(_, e)| e)
        .collect();
    Some((array_span, key.to_string()))
}

/// Whether `outer` holds all of `inner`.
fn holds(outer: &Range<usize>, inner: &Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Doc {
        title: Option<String>,
        #[serde(default)]
        check: Vec<Check>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Check {
        name: String,
        port: Option<u16>,
        tags: Option<Vec<String>>,
    }

    fn lines(text: &str, errors: &[Error]) -> Vec<(usize, String)> {
        errors
            .iter()
            .map(|e| {
                let at = e.span().expect("a span").start;
                (text[..at].matches('\n').count() + 1, e.message().to_string())
            })
            .collect()
    }

    #[test]
    fn a_sound_document_reads() {
        let doc: Doc = read("title = \"t\"\n[[check]]\nname = \"a\"\nport = 80\ntags = [\"x\"]\n").unwrap();
        assert_eq!(doc.title.as_deref(), Some("t"));
        let check = &doc.check[0];
        assert_eq!(
            (check.name.as_str(), check.port, check.tags.as_deref()),
            ("a", Some(80), Some(&["x".to_string()][..]))
        );
    }

    #[test]
    fn every_wrong_entry_is_named_at_its_own_line() {
        let text = "title = 3\n\
                    [[check]]\nname = \"a\"\nport = \"eighty\"\ntags = [\"x\", 4]\n\
                    [[check]]\nname = \"b\"\ncolour = \"red\"\n\
                    [[check]]\nname = \"c\"\nport = 70000\n";
        let errors = read::<Doc>(text).unwrap_err();
        let found = lines(text, &errors);
        let at: Vec<usize> = found.iter().map(|(line, _)| *line).collect();
        assert_eq!(at, [1, 4, 5, 8, 11], "{found:#?}");
        assert!(found[3].1.contains("unknown field `colour`"), "{found:#?}");
    }

    #[test]
    fn a_wrong_required_field_is_not_reported_again_as_missing() {
        let text = "[[check]]\nname = 5\n[[check]]\nport = 1\n";
        let found = lines(text, &read::<Doc>(text).unwrap_err());
        // The first check's name is of the wrong type (said once); the second has none.
        assert_eq!(found.len(), 2, "{found:#?}");
        assert_eq!(found[0].0, 2);
        assert!(found[0].1.contains("invalid type"), "{found:#?}");
        assert!(found[1].1.contains("missing field `name`"), "{found:#?}");
    }

    #[test]
    fn a_syntax_error_is_the_only_one_given() {
        let errors = read::<Doc>("title = \"t\"\n[[check]\nname = 5\n").unwrap_err();
        assert_eq!(errors.len(), 1);
    }

    #[test]
    fn the_count_is_bounded() {
        let text: String = (0..200).map(|n| format!("[[check]]\nname = \"c{n}\"\nport = \"x\"\n")).collect();
        assert_eq!(read::<Doc>(&text).unwrap_err().len(), MOST);
    }
}
