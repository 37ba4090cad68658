//! The text checks every write runs on what people type, before it is stored: names hold
//! no control or bidirectional characters, free text (reasons, opinions, descriptions,
//! notes) only line breaks and tabs among them (`weir_model::text`, issue 15 item 4).
//! Each name's own rule (letters, length) stays where the name is checked; an
//! endpoint's ports follow the job files' rule (`weir_model::values::port_problem`).

use weir_model::text::{self, FREE_TEXT_FIX, NAME_FIX, printable};

use crate::datasources::Endpoint;
use crate::error::{Result, StoreError};

/// `value` of `field` is a name: no control characters at all.
pub(crate) fn name(field: &'static str, value: &str) -> Result<()> {
    text::check_name(value).map_err(|bad| {
        StoreError::invalid(field, format!("`{}` {bad}", printable(value)), NAME_FIX)
    })
}

/// Every name of `values` (columns, fields).
pub(crate) fn names<'a>(
    field: &'static str,
    values: impl IntoIterator<Item = &'a String>,
) -> Result<()> {
    values.into_iter().try_for_each(|v| name(field, v))
}

/// `value` of `field` is free text: line breaks and tabs allowed.
pub(crate) fn free_text(field: &'static str, value: &str) -> Result<()> {
    text::check_free_text(value)
        .map_err(|bad| StoreError::invalid(field, format!("the text {bad}"), FREE_TEXT_FIX))
}

/// An endpoint's address and option keys hold no control characters, its option values
/// only line breaks and tabs (a PEM certificate), and every port in the address is 1 to
/// 65535 (the job files' rule, `weir_model::values::port_problem`).
pub(crate) fn endpoint(field: &'static str, e: &Endpoint) -> Result<()> {
    name(field, &e.address)?;
    if let Some(problem) = weir_model::values::port_problem(&e.address) {
        return Err(StoreError::invalid(
            field,
            problem,
            "write host:port with a port from 1 to 65535, or leave the port out for the default",
        ));
    }
    if let Some(options) = e.options.as_object() {
        for (key, value) in options {
            name("option", key)?;
            if let Some(text) = value.as_str() {
                free_text("option", text)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn errors_say_which_field_what_and_where_without_the_raw_character() {
        let e = super::name("table", "ord\x1b[2Jers")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "table: `ord\\e[2Jers` holds an escape character (\\e) at character 4; \
             names hold no control characters, line breaks or bidirectional controls; retype it"
        );
        assert!(!e.contains('\x1b'));
        assert!(super::free_text("reason", "two\nlines").is_ok());
        let e = super::free_text("reason", "x\r\nforged")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("reason: the text holds a carriage return (\\r) at character 2;"));
    }
}
