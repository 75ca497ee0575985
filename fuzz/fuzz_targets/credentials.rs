#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| envsync_fuzz::file_targets::credentials(data));
