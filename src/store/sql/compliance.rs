//! The compliance report's reads, which cut across tickets and surveys:
//! the SQL both backends run for
//! [`ComplianceStore`](crate::store::ComplianceStore).

use super::parse::parse;
use crate::domain::policy::{Channel, Plan, Priority};
use crate::error::Result;

/// A compliance group's three columns, read back into the domain's enums.
pub fn group(plan: &str, priority: &str, channel: &str) -> Result<(Plan, Priority, Channel)> {
    Ok((
        parse("plan", plan, Plan::parse)?,
        parse("priority", priority, Priority::parse)?,
        parse("channel", channel, Channel::parse)?,
    ))
}

/// Implements [`ComplianceStore`] for a backend; see `sql` for why a macro.
///
/// [`ComplianceStore`]: crate::store::ComplianceStore
macro_rules! impl_compliance_store {
    ($store:ty) => {
        // A const block so the expansion can have its own imports.
        const _: () = {
            use async_trait::async_trait;
            use chrono::{DateTime, Utc};

            use $crate::domain::compliance::{ResponseRecord, SurveyTally};
            use $crate::error::Result;
            use $crate::store::sql::compliance::group;
            use $crate::store::sql::backend::SqlBackend;

            #[async_trait]
            impl $crate::store::ComplianceStore for $store {
                async fn response_records(
                    &self,
                    start: DateTime<Utc>,
                    end: DateTime<Utc>,
                ) -> Result<Vec<ResponseRecord>> {
                    type Row = (String, String, String, DateTime<Utc>, DateTime<Utc>, Option<DateTime<Utc>>);
                    let rows = sqlx::query_as::<_, Row>(
                        "SELECT plan, priority, channel, received_at, response_due_at, \
                         first_response_at FROM tickets WHERE received_at >= $1 AND received_at < $2",
                    )
                    .bind(start)
                    .bind(end)
                    .fetch_all(&mut *self.acquire().await?)
                    .await?;
                    rows.into_iter()
                        .map(|(plan, priority, channel, received_at, due_at, first_response_at)| {
                            let (plan, priority, channel) = group(&plan, &priority, &channel)?;
                            Ok(ResponseRecord {
                                plan,
                                priority,
                                channel,
                                received_at,
                                due_at,
                                first_response_at,
                            })
                        })
                        .collect()
                }

                async fn survey_tallies(
                    &self,
                    start: DateTime<Utc>,
                    end: DateTime<Utc>,
                ) -> Result<Vec<SurveyTally>> {
                    type Row = (String, String, String, i64, i64);
                    let rows = sqlx::query_as::<_, Row>(
                        "SELECT t.plan, t.priority, t.channel, count(*), \
                         sum(CASE WHEN s.rating = 'good' THEN 1 ELSE 0 END) \
                         FROM surveys s JOIN tickets t ON t.id = s.ticket_id \
                         WHERE t.received_at >= $1 AND t.received_at < $2 \
                         AND s.answered_at IS NOT NULL \
                         GROUP BY t.plan, t.priority, t.channel",
                    )
                    .bind(start)
                    .bind(end)
                    .fetch_all(&mut *self.acquire().await?)
                    .await?;
                    rows.into_iter()
                        .map(|(plan, priority, channel, answered, good)| {
                            let (plan, priority, channel) = group(&plan, &priority, &channel)?;
                            Ok(SurveyTally {
                                plan,
                                priority,
                                channel,
                                answered,
                                good,
                            })
                        })
                        .collect()
                }
            }
        };
    };
}
pub(crate) use impl_compliance_store;
