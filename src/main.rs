use std::process::ExitCode;

fn main() -> ExitCode {
    warroom::app::main()
}
