use std::process::ExitCode;

use clap::Parser;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    tillit::logging::init();
    tillit::cli::run(tillit::cli::Cli::parse())
}
