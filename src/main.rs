fn main() -> std::process::ExitCode {
    ponte::cli::main()
}
