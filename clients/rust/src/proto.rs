//! Code generated from `proto/` by `build.rs`: the messages and the tonic
//! clients.

#[allow(clippy::all, missing_docs)]
pub mod support {
    pub mod v1 {
        tonic::include_proto!("support.v1");
    }
}

pub use support::v1 as pb;

/// The encoded descriptor set of every proto file (with imports and
/// comments), served by ticketd's reflection service.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/support_descriptor.bin"));
