//! The RPCs of the contract, read from the descriptor set the server also
//! serves over reflection, so a list written out in a test can be checked
//! against it.

use std::collections::BTreeSet;

use prost::Message;

/// The services whose methods the tests' RPC lists must cover.
pub const SERVICES: [&str; 2] = ["support.v1.TicketService", "support.v1.PolicyService"];

/// The name of every method of TicketService and PolicyService.
pub fn methods() -> BTreeSet<String> {
    let set = prost_types::FileDescriptorSet::decode(ticketd::proto::FILE_DESCRIPTOR_SET)
        .expect("the descriptor set decodes");
    let methods: BTreeSet<String> = set
        .file
        .iter()
        .flat_map(|file| {
            file.service
                .iter()
                .filter(move |service| {
                    SERVICES.contains(&format!("{}.{}", file.package(), service.name()).as_str())
                })
                .flat_map(|service| service.method.iter().map(|m| m.name().to_owned()))
        })
        .collect();
    assert!(methods.len() > 25, "{methods:?}");
    methods
}
