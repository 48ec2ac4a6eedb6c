//! The messages and clients of `ticketd-client`, generated from `proto/`, and
//! the tonic servers `build.rs` generates over them.

#[allow(clippy::all, missing_docs)]
pub mod support {
    pub mod v1 {
        pub use ticketd_client::proto::pb::*;
        tonic::include_proto!("support.v1");
    }
}

pub use support::v1 as pb;

/// The encoded descriptor set of every proto file (with imports and
/// comments), served by the reflection service.
pub use ticketd_client::proto::FILE_DESCRIPTOR_SET;
