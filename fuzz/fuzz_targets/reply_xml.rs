#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ponte::fuzzing::read_reply(data));
