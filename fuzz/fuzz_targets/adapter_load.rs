#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ponte::fuzzing::load_adapter(data));
