#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| envsync_fuzz::api_targets::api_body(data));
