fn main() -> std::process::ExitCode {
    kotae::cli::run()
}
