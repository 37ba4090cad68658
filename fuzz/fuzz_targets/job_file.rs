//! Any bytes fed to the job-file reader: parse, decode, validate, format, and print the
//! diagnostics. The only acceptable outcome is a result — never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let checked = weir_model::jobfile::check_bytes("fuzz.ron", data);
    for d in &checked.diagnostics {
        let _ = d.render();
    }
    if let Ok(src) = std::str::from_utf8(data)
        && let Ok(formatted) = weir_model::jobfile::format_source("fuzz.ron", src)
    {
        // formatting is idempotent and keeps the meaning
        let again = weir_model::jobfile::format_source("fuzz.ron", &formatted).expect("formatted text parses");
        assert_eq!(again, formatted, "fmt is not idempotent");
    }
    if let Some(job) = &checked.job {
        let printed = weir_model::jobfile::to_ron(job);
        let back = weir_model::jobfile::check_source("printed.ron", &printed);
        assert_eq!(back.job.as_ref(), Some(job), "print -> parse changed the job");
    }
});
