#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| envsync_fuzz::core_targets::expand(data));
