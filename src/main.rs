/// mimalloc instead of the system allocator: a translated call allocates in small pieces on one
/// thread and frees on another, which glibc's malloc serves slowly (about 15% of a small call's
/// CPU under load; see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    ponte::memory::restart_with_low_memory_settings();
    ponte::cli::main()
}
