#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| envsync_fuzz::record_targets::age_blob(data));
