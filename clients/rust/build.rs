//! Compiles the repository's `proto/` with protox (no system `protoc`),
//! generates the messages and the tonic clients, and writes the descriptor
//! set: the reflection service serves it, and ticketd's build script
//! generates the servers from it (`links` metadata `descriptor`).

use std::{env, fs, io, path::PathBuf};

const PROTO_ROOT: &str = "../../proto";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = proto_files(PROTO_ROOT)?;
    for proto in &protos {
        println!("cargo::rerun-if-changed={}", proto.display());
    }
    println!("cargo::rerun-if-changed={PROTO_ROOT}");

    let mut compiler = protox::Compiler::new([PROTO_ROOT])?;
    // Source info keeps the proto comments, so reflection clients can show them.
    compiler.include_source_info(true).include_imports(true);
    compiler.open_files(&protos)?;

    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    let descriptor = out_dir.join("support_descriptor.bin");
    fs::write(&descriptor, compiler.encode_file_descriptor_set())?;
    println!("cargo::metadata=descriptor={}", descriptor.display());

    tonic_prost_build::configure()
        .build_client(true)
        .build_server(false)
        .compile_fds(compiler.file_descriptor_set())?;
    Ok(())
}

/// Every `.proto` under `dir`, sorted so the generated code is stable.
fn proto_files(dir: &str) -> io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut stack = vec![PathBuf::from(dir)];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|ext| ext == "proto") {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}
