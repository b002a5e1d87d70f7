#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ponte::fuzzing::decode_caller_input(data));
