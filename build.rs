//! Generates the tonic servers from the descriptor set of `proto/` that
//! `ticketd-client` (clients/rust) compiles; the messages and clients are
//! that crate's, so they are generated once.

use std::env;

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `links` metadata of ticketd-client: the path of its descriptor set.
    let descriptor = env::var("DEP_TICKETD_PROTO_DESCRIPTOR")?;
    println!("cargo::rerun-if-env-changed=DEP_TICKETD_PROTO_DESCRIPTOR");
    println!("cargo::rerun-if-changed={descriptor}");
    let set = prost_types::FileDescriptorSet::decode(&*std::fs::read(&descriptor)?)?;

    tonic_prost_build::configure()
        .build_client(false)
        .build_server(true)
        .extern_path(".support.v1", "::ticketd_client::proto::pb")
        // prost's codec, but a request that does not decode is INVALID_ARGUMENT.
        .codec_path("crate::api::codec::Codec")
        .compile_fds(set)?;
    Ok(())
}
