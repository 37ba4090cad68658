//! Any bytes fed to the job-file reader: parse, decode, validate, format, and print the
//! diagnostics. Never a panic, and `weir fmt` never changes what a file means:
//! - every diagnostic has a line and a column;
//! - fmt accepts exactly the files whose syntax validate accepts, and refuses the others
//!   with validate's own diagnostic;
//! - for a file fmt accepts: parse(fmt(x)) means what parse(x) means, fmt(fmt(x)) ==
//!   fmt(x), and validate finds the same job and the same problems in both;
//! - a decoded job printed and read back is the same job.
#![no_main]

use libfuzzer_sys::fuzz_target;
use weir_model::jobfile::{self, meaning::same_meaning, syntax};

fn codes(checked: &jobfile::Checked) -> Vec<&'static str> {
    let mut codes: Vec<_> = checked.diagnostics.iter().map(|d| d.code).collect();
    codes.sort_unstable();
    codes
}

fuzz_target!(|data: &[u8]| {
    let checked = jobfile::check_bytes("fuzz.ron", data);
    for d in &checked.diagnostics {
        let _ = d.render();
        assert!(d.line >= 1 && d.column >= 1, "diagnostic without a place: {d:?}");
    }
    if let Ok(src) = std::str::from_utf8(data) {
        let parsed = syntax::parse(src);
        match (jobfile::format_source("fuzz.ron", src), &parsed) {
            (Ok(formatted), Ok(doc)) => {
                let again = syntax::parse(&formatted).expect("formatted text parses");
                assert!(same_meaning(&doc.value, &again.value), "fmt changed the meaning:\n{formatted}");
                let twice = jobfile::format_source("fuzz.ron", &formatted).expect("formatted text formats");
                assert_eq!(twice, formatted, "fmt is not idempotent");
                let after = jobfile::check_source("fuzz.ron", &formatted);
                assert_eq!(after.job, checked.job, "fmt changed the decoded job");
                assert_eq!(codes(&after), codes(&checked), "fmt changed what validate finds");
            }
            (Ok(_), Err(e)) => panic!("fmt accepted what validate refuses as syntax: {e:?}"),
            (Err(d), Ok(_)) => panic!("fmt refused a file whose syntax is valid: {}", d.render()),
            (Err(d), Err(_)) => {
                // the same refusal, word for word, as validate's
                assert_eq!(Some(&*d), checked.diagnostics.first(), "fmt and validate disagree");
            }
        }
    }
    if let Some(job) = &checked.job {
        let printed = jobfile::to_ron(job);
        let back = jobfile::check_source("printed.ron", &printed);
        assert_eq!(back.job.as_ref(), Some(job), "print -> parse changed the job");
    }
});
