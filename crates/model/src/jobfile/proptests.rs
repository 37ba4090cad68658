//! Property tests: for any job (arbitrary values in every field, including strings with
//! quotes, newlines and control characters), print → parse is the identity and the
//! printed form is already canonical. Collection sizes come from
//! `PROPTEST_MAX_DEFAULT_SIZE_RANGE` in .cargo/config.toml: derived strategies read only
//! that, and proptest's default of 100 per level makes jobs of hundreds of kilobytes.

use proptest::prelude::*;

use super::{check_source, format_source, to_ron};
use crate::model::Job;

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn print_then_parse_is_identity(job in any::<Job>()) {
        let printed = to_ron(&job);
        let checked = check_source("generated.ron", &printed);
        let decode_errors: Vec<_> = checked
            .diagnostics
            .iter()
            .filter(|d| matches!(d.code, "syntax" | "wrong-type" | "unknown-field" | "missing-field" | "unknown-variant" | "invalid-value" | "wrong-length" | "duplicate-field"))
            .map(|d| d.render())
            .collect();
        prop_assert!(decode_errors.is_empty(), "{printed}\n{}", decode_errors.join("\n"));
        prop_assert_eq!(checked.job.as_ref(), Some(&job), "{}", printed);
    }

    #[test]
    fn printed_form_is_canonical(job in any::<Job>()) {
        let printed = to_ron(&job);
        let again = format_source("generated.ron", &printed).unwrap();
        prop_assert_eq!(again, printed);
    }
}
