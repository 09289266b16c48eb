//! The `pack` command: parses the command line and hands over to the library.

/// mimalloc: pack allocates many small values (YAML trees, JSON for validation, template
/// output), where it is markedly faster than glibc's allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    pack::cli::run()
}
