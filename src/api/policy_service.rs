//! `support.v1.PolicyService`: read-only answers from the policy in force,
//! and the check of a policy document that is not (yet) in force.

use tonic::{Request, Response, Status};

use super::convert::{channel_to_proto, duration, plan_to_proto, timestamp};
use super::validate::{self, PlanOrAccount};
use crate::proto::pb;
use crate::proto::pb::policy_service_server::PolicyService;
use crate::service::Service;

pub struct PolicyApi {
    service: Service,
}

impl PolicyApi {
    pub fn new(service: Service) -> Self {
        Self { service }
    }
}

#[tonic::async_trait]
impl PolicyService for PolicyApi {
    async fn get_policy(
        &self,
        _request: Request<pb::GetPolicyRequest>,
    ) -> Result<Response<pb::GetPolicyResponse>, Status> {
        Ok(Response::new(pb::GetPolicyResponse {
            policy: Some(pb::Policy::from(&*self.service.policy())),
        }))
    }

    async fn check_channel(
        &self,
        request: Request<pb::CheckChannelRequest>,
    ) -> Result<Response<pb::CheckChannelResponse>, Status> {
        let question = validate::check_channel(request.into_inner())?;
        let plan = match question.subject {
            PlanOrAccount::Plan(plan) => plan,
            PlanOrAccount::Account(id) => self.service.get_account(&id).await?.plan,
        };
        let policy = self.service.policy();
        Ok(Response::new(pb::CheckChannelResponse {
            allowed: policy.check_channel(plan, question.channel).is_ok(),
            plan: plan_to_proto(plan).into(),
            allowed_channels: policy
                .channels_for(plan)
                .iter()
                .map(|c| channel_to_proto(*c).into())
                .collect(),
        }))
    }

    async fn classify_priority(
        &self,
        request: Request<pb::ClassifyPriorityRequest>,
    ) -> Result<Response<pb::ClassifyPriorityResponse>, Status> {
        let impact = validate::classify_priority(request.into_inner())?;
        let decision = self.service.policy().classify(&impact);
        Ok(Response::new(pb::ClassifyPriorityResponse {
            decision: Some(decision.into()),
        }))
    }

    async fn compute_deadline(
        &self,
        request: Request<pb::ComputeDeadlineRequest>,
    ) -> Result<Response<pb::ComputeDeadlineResponse>, Status> {
        let policy = self.service.policy();
        let q = validate::compute_deadline(request.into_inner(), &policy)?;
        Ok(Response::new(pb::ComputeDeadlineResponse {
            response_target: Some(duration(policy.response_target(q.plan, q.priority))),
            response_due_at: Some(timestamp(policy.response_due_at(
                q.plan,
                q.priority,
                q.received_at,
            ))),
        }))
    }

    async fn validate_policy_document(
        &self,
        request: Request<pb::ValidatePolicyDocumentRequest>,
    ) -> Result<Response<pb::ValidatePolicyDocumentResponse>, Status> {
        let policy = validate::policy_document(request.get_ref())?;
        Ok(Response::new(pb::ValidatePolicyDocumentResponse {
            policy: Some((&policy).into()),
        }))
    }
}
