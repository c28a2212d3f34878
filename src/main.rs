use std::process::ExitCode;

fn main() -> ExitCode {
    warroom::cli::main()
}
