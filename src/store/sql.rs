//! The SQL both backends run. PostgreSQL and SQLite share the schema shape,
//! the `$N` placeholders and every statement here, so the [`Store`]
//! implementation is written once and stamped out per backend. A macro
//! rather than a generic impl: sqlx's executor and codec traits make a
//! backend-generic async impl a wall of higher-ranked bounds.
//!
//! [`Store`]: crate::store::Store

macro_rules! impl_store_with_shared_sql {
    ($store:ty, $db:ty) => {
        // A const block so the expansion can have its own imports.
        const _: () = {
            use async_trait::async_trait;
            use chrono::{DateTime, Utc};

            use $crate::domain::access::Credential;
            use $crate::domain::compliance::{ResponseRecord, SurveyTally};
            use $crate::domain::policy::Plan;
            use $crate::domain::service_request::ServiceRequest;
            use $crate::domain::survey::Survey;
            use $crate::domain::ticket::{Account, AccountUpdate, Ticket, TicketEvent};
            use $crate::error::{Error, Result};
            use $crate::store::rows::{
                AccountRow, CredentialRow, EventRow, credential_columns, ServiceRequestRow, SurveyRow, TicketRow, account_columns, group,
                bind_event_insert, event_columns, event_insert_columns, service_request_columns,
                survey_columns, ticket_columns,
            };

            type Connection = <$db as sqlx::Database>::Connection;

            impl $store {
                /// `SELECT <ticket columns> FROM tickets`, for the caller to finish.
                fn tickets_query() -> sqlx::QueryBuilder<'static, $db> {
                    sqlx::QueryBuilder::<$db>::new(concat!(
                        "SELECT ",
                        ticket_columns!(),
                        " FROM tickets"
                    ))
                }

                /// Runs `SELECT <ticket columns> FROM tickets` with the rest of
                /// the query appended by `finish`, and reads the tickets.
                async fn select_tickets(
                    &self,
                    finish: impl FnOnce(&mut sqlx::QueryBuilder<'static, $db>),
                ) -> Result<Vec<Ticket>> {
                    let mut query = Self::tickets_query();
                    finish(&mut query);
                    let rows = query
                        .build_query_as::<TicketRow>()
                        .fetch_all(&mut *self.acquire().await?)
                        .await?;
                    rows.into_iter().map(TryInto::try_into).collect()
                }

                async fn insert_events(conn: &mut Connection, events: &[EventRow]) -> Result<()> {
                    for row in events {
                        let query = sqlx::query(concat!(
                            "INSERT INTO ticket_events (ticket_id, ",
                            event_insert_columns!(),
                            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
                        ))
                        .bind(row.ticket_id);
                        bind_event_insert!(query, row).execute(&mut *conn).await?;
                    }
                    Ok(())
                }

                async fn find_ticket_by_request_id_on(
                    conn: &mut Connection,
                    account_id: &str,
                    request_id: &str,
                ) -> Result<Option<Ticket>> {
                    sqlx::query_as::<_, TicketRow>(concat!(
                        "SELECT ",
                        ticket_columns!(),
                        " FROM tickets WHERE account_id = $1 AND request_id = $2"
                    ))
                    .bind(account_id)
                    .bind(request_id)
                    .fetch_optional(conn)
                    .await?
                    .map(TryInto::try_into)
                    .transpose()
                }

            }

            use $crate::domain::watch::WatchFilter;
            use $crate::store::{
                DeadlineCursor, DeadlineFilter, Inserted, LogPage, LogPosition, LoggedEvent,
                ServiceRequestFilter, Store, TicketFilter, TicketKey, WatchSnapshot,
                account_not_found, push_deadline_query, push_ticket_filters, ticket_not_found,
            };

            #[async_trait]
            impl Store for $store {
                async fn ping(&self) -> Result<()> {
                    self.ping_database().await
                }

                async fn create_account(&self, account: &Account) -> Result<Account> {
                    let result = sqlx::query_as::<_, AccountRow>(concat!(
                        "INSERT INTO accounts (",
                        account_columns!(),
                        ") VALUES ($1, $2, $3, $4, $5) RETURNING ",
                        account_columns!()
                    ))
                    .bind(&account.id)
                    .bind(&account.display_name)
                    .bind(account.plan.as_str())
                    .bind(account.create_time)
                    .bind(account.update_time)
                    .fetch_one(&mut *self.acquire().await?)
                    .await;
                    match result {
                        Ok(row) => row.try_into(),
                        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                            Err(Error::AlreadyExists {
                                resource: "account",
                                name: format!("accounts/{}", account.id),
                            })
                        }
                        Err(err) => Err(err.into()),
                    }
                }

                async fn insert_ticket(
                    &self,
                    ticket: &Ticket,
                    events: &[TicketEvent],
                ) -> Result<Inserted> {
                    let row = TicketRow::from(ticket);
                    let events = events.iter().map(EventRow::from).collect();
                    // Concurrent retries with one request id produce one row
                    // (ON CONFLICT); only the winner writes events.
                    let number = self.write_received(row, events).await?;
                    if let Some(number) = number {
                        let mut stored = ticket.clone();
                        stored.number = number;
                        return Ok(Inserted::New(stored));
                    }
                    // Nothing written: the request id is taken, or else the
                    // account's plan is no longer the one the ticket was
                    // received under.
                    let Some(request_id) = ticket.request_id.as_deref() else {
                        return Err(Error::Conflict);
                    };
                    self.find_ticket_by_request_id(&ticket.account_id, request_id)
                        .await?
                        .map(Inserted::Existing)
                        .ok_or(Error::Conflict)
                }

                async fn get_account(&self, id: &str) -> Result<Account> {
                    self.read_account(id).await
                }

                async fn update_account(
                    &self,
                    id: &str,
                    update: &AccountUpdate,
                    now: DateTime<Utc>,
                ) -> Result<Account> {
                    sqlx::query_as::<_, AccountRow>(concat!(
                        "UPDATE accounts SET display_name = COALESCE($2, display_name), ",
                        "plan = COALESCE($3, plan), update_time = $4 WHERE id = $1 RETURNING ",
                        account_columns!()
                    ))
                    .bind(id)
                    .bind(update.display_name.as_deref())
                    .bind(update.plan.map(Plan::as_str))
                    .bind(now)
                    .fetch_optional(&mut *self.acquire().await?)
                    .await?
                    .ok_or_else(|| account_not_found(id))?
                    .try_into()
                }

                async fn list_accounts(
                    &self,
                    after_id: Option<&str>,
                    limit: i64,
                ) -> Result<Vec<Account>> {
                    let rows = sqlx::query_as::<_, AccountRow>(concat!(
                        "SELECT ",
                        account_columns!(),
                        " FROM accounts WHERE id > $1 ORDER BY id LIMIT $2"
                    ))
                    .bind(after_id.unwrap_or(""))
                    .bind(limit)
                    .fetch_all(&mut *self.acquire().await?)
                    .await?;
                    rows.into_iter().map(TryInto::try_into).collect()
                }

                async fn update_ticket(
                    &self,
                    ticket: &Ticket,
                    expected_version: i64,
                    events: &[TicketEvent],
                    survey: Option<&Survey>,
                ) -> Result<Ticket> {
                    let row = TicketRow::from(ticket);
                    let mut tx = $crate::store::begin(self.acquire().await?).await?;
                    let version = sqlx::query_scalar::<_, i64>(concat!(
                        "UPDATE tickets SET status = $3, priority = $4, priority_rule_id = $5, ",
                        "priority_rule_description = $6, response_target_seconds = $7, ",
                        "response_due_at = $8, at_risk_at = $9, first_response_at = $10, ",
                        "first_responder = $11, first_response_method = $12, sla_state = $13, ",
                        "next_sla_check_at = $14, version = version + 1 ",
                        "WHERE id = $1 AND version = $2 RETURNING version"
                    ))
                    .bind(row.id)
                    .bind(expected_version)
                    .bind(&row.status)
                    .bind(&row.priority)
                    .bind(&row.priority_rule_id)
                    .bind(&row.priority_rule_description)
                    .bind(row.response_target_seconds)
                    .bind(row.response_due_at)
                    .bind(row.at_risk_at)
                    .bind(row.first_response_at)
                    .bind(&row.first_responder)
                    .bind(&row.first_response_method)
                    .bind(&row.sla_state)
                    .bind(row.next_sla_check_at)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(Error::Conflict)?;
                    let events: Vec<EventRow> = events.iter().map(EventRow::from).collect();
                    Self::insert_events(&mut tx, &events).await?;
                    if let Some(survey) = survey {
                        sqlx::query(
                            "INSERT INTO surveys (token, ticket_id, issued_at) VALUES ($1, $2, $3)",
                        )
                        .bind(&survey.token)
                        .bind(survey.ticket_id)
                        .bind(survey.issued_at)
                        .execute(&mut *tx)
                        .await?;
                    }
                    tx.commit().await?;
                    let mut stored = ticket.clone();
                    stored.version = version;
                    Ok(stored)
                }

                async fn find_survey(&self, token: &str) -> Result<Option<Survey>> {
                    sqlx::query_as::<_, SurveyRow>(concat!(
                        "SELECT ",
                        survey_columns!(),
                        " FROM surveys WHERE token = $1"
                    ))
                    .bind(token)
                    .fetch_optional(&mut *self.acquire().await?)
                    .await?
                    .map(TryInto::try_into)
                    .transpose()
                }

                async fn answer_survey(&self, survey: &Survey) -> Result<bool> {
                    let Some(answer) = &survey.answer else {
                        return Err(Error::Internal("answer_survey without an answer".into()));
                    };
                    // Conditional, so two racing answers cannot both land.
                    let updated = sqlx::query(
                        "UPDATE surveys SET rating = $2, comment = $3, answered_at = $4 \
                         WHERE token = $1 AND answered_at IS NULL",
                    )
                    .bind(&survey.token)
                    .bind(answer.rating.as_str())
                    .bind(answer.comment.as_deref())
                    .bind(answer.answered_at)
                    .execute(&mut *self.acquire().await?)
                    .await?;
                    Ok(updated.rows_affected() == 1)
                }

                async fn list_surveys(
                    &self,
                    ticket_id: Option<uuid::Uuid>,
                    answered_only: bool,
                    after_id: Option<i64>,
                    limit: i64,
                ) -> Result<Vec<Survey>> {
                    let mut query = sqlx::QueryBuilder::<$db>::new(concat!(
                        "SELECT ",
                        survey_columns!(),
                        " FROM surveys WHERE id > "
                    ));
                    query.push_bind(after_id.unwrap_or(0));
                    if let Some(ticket_id) = ticket_id {
                        query.push(" AND ticket_id = ").push_bind(ticket_id);
                    }
                    if answered_only {
                        query.push(" AND answered_at IS NOT NULL");
                    }
                    query.push(" ORDER BY id LIMIT ").push_bind(limit);
                    let rows = query
                        .build_query_as::<SurveyRow>()
                        .fetch_all(&mut *self.acquire().await?)
                        .await?;
                    rows.into_iter().map(TryInto::try_into).collect()
                }

                async fn list_ticket_events(
                    &self,
                    ticket_id: uuid::Uuid,
                    after_id: Option<i64>,
                    limit: i64,
                ) -> Result<Vec<TicketEvent>> {
                    let rows = sqlx::query_as::<_, EventRow>(concat!(
                        "SELECT ",
                        event_columns!(),
                        " FROM ticket_events WHERE ticket_id = $1 AND id > $2 ORDER BY id LIMIT $3"
                    ))
                    .bind(ticket_id)
                    .bind(after_id.unwrap_or(0))
                    .bind(limit)
                    .fetch_all(&mut *self.acquire().await?)
                    .await?;
                    rows.into_iter().map(TryInto::try_into).collect()
                }

                async fn tickets_due_for_sla_check(
                    &self,
                    now: DateTime<Utc>,
                    limit: i64,
                ) -> Result<Vec<Ticket>> {
                    let rows = sqlx::query_as::<_, TicketRow>(concat!(
                        "SELECT ",
                        ticket_columns!(),
                        " FROM tickets WHERE next_sla_check_at <= $1 ",
                        "ORDER BY next_sla_check_at LIMIT $2"
                    ))
                    .bind(now)
                    .bind(limit)
                    .fetch_all(&mut *self.acquire().await?)
                    .await?;
                    rows.into_iter().map(TryInto::try_into).collect()
                }

                async fn insert_service_request(
                    &self,
                    request: &ServiceRequest,
                ) -> Result<Inserted<ServiceRequest>> {
                    let inserted = sqlx::query_scalar::<_, i64>(concat!(
                        "INSERT INTO service_requests (id, account_id, kind, summary, details, ",
                        "contact_email, status, created_at, updated_at, request_id, version) ",
                        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ",
                        "ON CONFLICT (account_id, request_id) DO NOTHING RETURNING number"
                    ))
                    .bind(request.id)
                    .bind(&request.account_id)
                    .bind(request.kind.as_str())
                    .bind(&request.summary)
                    .bind(&request.details)
                    .bind(&request.contact_email)
                    .bind(request.status.as_str())
                    .bind(request.created_at)
                    .bind(request.updated_at)
                    .bind(request.request_id.as_deref())
                    .bind(request.version)
                    .fetch_optional(&mut *self.acquire().await?)
                    .await?;
                    if let Some(number) = inserted {
                        let mut stored = request.clone();
                        stored.number = number;
                        return Ok(Inserted::New(stored));
                    }
                    sqlx::query_as::<_, ServiceRequestRow>(concat!(
                        "SELECT ",
                        service_request_columns!(),
                        " FROM service_requests WHERE account_id = $1 AND request_id = $2"
                    ))
                    .bind(&request.account_id)
                    .bind(request.request_id.as_deref())
                    .fetch_optional(&mut *self.acquire().await?)
                    .await?
                    .ok_or_else(|| Error::Internal("conflicting request id vanished".into()))?
                    .try_into()
                    .map(Inserted::Existing)
                }

                async fn get_service_request(&self, number: i64) -> Result<ServiceRequest> {
                    sqlx::query_as::<_, ServiceRequestRow>(concat!(
                        "SELECT ",
                        service_request_columns!(),
                        " FROM service_requests WHERE number = $1"
                    ))
                    .bind(number)
                    .fetch_optional(&mut *self.acquire().await?)
                    .await?
                    .ok_or_else(|| Error::NotFound {
                        resource: "service request",
                        name: format!("serviceRequests/{number}"),
                    })?
                    .try_into()
                }

                async fn list_service_requests(
                    &self,
                    filter: &ServiceRequestFilter,
                    before_number: Option<i64>,
                    limit: i64,
                ) -> Result<Vec<ServiceRequest>> {
                    let mut query = sqlx::QueryBuilder::<$db>::new(concat!(
                        "SELECT ",
                        service_request_columns!(),
                        " FROM service_requests WHERE TRUE"
                    ));
                    if let Some(account_id) = &filter.account_id {
                        query.push(" AND account_id = ").push_bind(account_id.clone());
                    }
                    if let Some(kind) = filter.kind {
                        query.push(" AND kind = ").push_bind(kind.as_str());
                    }
                    if let Some(status) = filter.status {
                        query.push(" AND status = ").push_bind(status.as_str());
                    }
                    if let Some(before) = before_number {
                        query.push(" AND number < ").push_bind(before);
                    }
                    query.push(" ORDER BY number DESC LIMIT ").push_bind(limit);
                    let rows = query
                        .build_query_as::<ServiceRequestRow>()
                        .fetch_all(&mut *self.acquire().await?)
                        .await?;
                    rows.into_iter().map(TryInto::try_into).collect()
                }

                async fn update_service_request(
                    &self,
                    request: &ServiceRequest,
                    expected_version: i64,
                ) -> Result<ServiceRequest> {
                    let version = sqlx::query_scalar::<_, i64>(
                        "UPDATE service_requests SET status = $3, updated_at = $4, \
                         version = version + 1 WHERE id = $1 AND version = $2 RETURNING version",
                    )
                    .bind(request.id)
                    .bind(expected_version)
                    .bind(request.status.as_str())
                    .bind(request.updated_at)
                    .fetch_optional(&mut *self.acquire().await?)
                    .await?
                    .ok_or(Error::Conflict)?;
                    Ok(ServiceRequest {
                        version,
                        ..request.clone()
                    })
                }

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

                async fn list_tickets_by_deadline(
                    &self,
                    filter: &DeadlineFilter,
                    after: Option<DeadlineCursor>,
                    limit: i64,
                ) -> Result<Vec<Ticket>> {
                    self.select_tickets(|query| push_deadline_query(query, filter, after, limit))
                        .await
                }

                async fn next_sla_check_at(&self) -> Result<Option<DateTime<Utc>>> {
                    // ORDER BY … LIMIT 1 rather than min(): it reads the
                    // partial index, and both backends decode the column type.
                    Ok(sqlx::query_scalar::<_, DateTime<Utc>>(
                        "SELECT next_sla_check_at FROM tickets WHERE next_sla_check_at IS NOT NULL \
                         ORDER BY next_sla_check_at LIMIT 1",
                    )
                    .fetch_optional(&mut *self.acquire().await?)
                    .await?)
                }

                async fn find_ticket_by_request_id(
                    &self,
                    account_id: &str,
                    request_id: &str,
                ) -> Result<Option<Ticket>> {
                    let mut conn = self.acquire().await?;
                    Self::find_ticket_by_request_id_on(&mut conn, account_id, request_id).await
                }

                async fn get_ticket(&self, key: TicketKey) -> Result<Ticket> {
                    let row = match key {
                        TicketKey::Id(id) => {
                            sqlx::query_as::<_, TicketRow>(concat!(
                                "SELECT ",
                                ticket_columns!(),
                                " FROM tickets WHERE id = $1"
                            ))
                            .bind(id)
                            .fetch_optional(&mut *self.acquire().await?)
                            .await?
                        }
                        TicketKey::Number(number) => {
                            sqlx::query_as::<_, TicketRow>(concat!(
                                "SELECT ",
                                ticket_columns!(),
                                " FROM tickets WHERE number = $1"
                            ))
                            .bind(number)
                            .fetch_optional(&mut *self.acquire().await?)
                            .await?
                        }
                    };
                    row.ok_or_else(|| ticket_not_found(key))?.try_into()
                }

                async fn insert_credential(&self, credential: &Credential) -> Result<()> {
                    let row = CredentialRow::from(credential);
                    let result = sqlx::query(concat!(
                        "INSERT INTO credentials (",
                        credential_columns!(),
                        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                    ))
                    .bind(&row.id)
                    .bind(&row.name)
                    .bind(&row.role)
                    .bind(&row.channels)
                    .bind(&row.secret_hash)
                    .bind(row.create_time)
                    .bind(row.revoke_time)
                    .bind(row.last_use_time)
                    .execute(&mut *self.acquire().await?)
                    .await;
                    match result {
                        Ok(_) => Ok(()),
                        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                            Err(Error::AlreadyExists {
                                resource: "credential",
                                name: credential.name.clone(),
                            })
                        }
                        Err(err) => Err(err.into()),
                    }
                }

                async fn get_credential(&self, id: &str) -> Result<Option<Credential>> {
                    sqlx::query_as::<_, CredentialRow>(concat!(
                        "SELECT ",
                        credential_columns!(),
                        " FROM credentials WHERE id = $1"
                    ))
                    .bind(id)
                    .fetch_optional(&mut *self.acquire().await?)
                    .await?
                    .map(TryInto::try_into)
                    .transpose()
                }

                async fn list_credentials(&self) -> Result<Vec<Credential>> {
                    sqlx::query_as::<_, CredentialRow>(concat!(
                        "SELECT ",
                        credential_columns!(),
                        " FROM credentials ORDER BY create_time, id"
                    ))
                    .fetch_all(&mut *self.acquire().await?)
                    .await?
                    .into_iter()
                    .map(TryInto::try_into)
                    .collect()
                }

                async fn revoke_credential(
                    &self,
                    id_or_name: &str,
                    at: DateTime<Utc>,
                ) -> Result<Credential> {
                    // By id first, so a name that happens to look like an id
                    // cannot revoke someone else's credential.
                    for column in ["id", "name"] {
                        let sql = format!(
                            "UPDATE credentials SET revoke_time = $2 \
                             WHERE {column} = $1 AND revoke_time IS NULL RETURNING {}",
                            credential_columns!()
                        );
                        let row = sqlx::query_as::<_, CredentialRow>(&sql)
                            .bind(id_or_name)
                            .bind(at)
                            .fetch_optional(&mut *self.acquire().await?)
                            .await?;
                        if let Some(row) = row {
                            return row.try_into();
                        }
                    }
                    Err(Error::NotFound {
                        resource: "credential",
                        name: id_or_name.to_owned(),
                    })
                }

                async fn record_credential_use(
                    &self,
                    uses: &[(String, DateTime<Utc>)],
                ) -> Result<()> {
                    let mut conn = self.acquire().await?;
                    for (id, at) in uses {
                        sqlx::query(
                            "UPDATE credentials SET last_use_time = $2 \
                             WHERE id = $1 AND (last_use_time IS NULL OR last_use_time < $2)",
                        )
                        .bind(id)
                        .bind(*at)
                        .execute(&mut *conn)
                        .await?;
                    }
                    Ok(())
                }

                async fn list_tickets(
                    &self,
                    filter: &TicketFilter,
                    before_number: Option<i64>,
                    limit: i64,
                ) -> Result<Vec<Ticket>> {
                    // Built per filter combination (rather than `$1 IS NULL OR
                    // ...`) so each shape gets its own prepared statement and a
                    // plan that can use the matching index.
                    self.select_tickets(|query| {
                        push_ticket_filters(query, filter, before_number, limit)
                    })
                    .await
                }

                async fn read_event_log(
                    &self,
                    after: LogPosition,
                    upto: Option<LogPosition>,
                    limit: i64,
                ) -> Result<LogPage> {
                    let upto = match upto {
                        Some(upto) => upto,
                        None => self.log_head().await?,
                    };
                    if upto <= after {
                        return Ok(LogPage { events: Vec::new(), reached: after });
                    }
                    let rows = self.log_rows(after, upto, limit).await?;
                    let full = rows.len() as i64 >= limit;
                    let mut ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.event.ticket_id).collect();
                    ids.sort_unstable();
                    ids.dedup();
                    let tickets: std::collections::HashMap<uuid::Uuid, Ticket> = if ids.is_empty() {
                        Default::default()
                    } else {
                        self.select_tickets(|query| {
                            query.push(" WHERE id IN (");
                            let mut list = query.separated(", ");
                            for id in ids {
                                list.push_bind(id);
                            }
                            list.push_unseparated(")");
                        })
                        .await?
                        .into_iter()
                        .map(|ticket| (ticket.id, ticket))
                        .collect()
                    };
                    let mut events = Vec::with_capacity(rows.len());
                    for row in rows {
                        let position = LogPosition { txid: row.txid, id: row.event.id };
                        let event = TicketEvent::try_from(row.event)?;
                        let ticket = tickets.get(&event.ticket_id).cloned().ok_or_else(|| {
                            Error::Internal("an event's ticket is missing".into())
                        })?;
                        events.push(LoggedEvent { position, event, ticket });
                    }
                    let reached = match events.last() {
                        Some(last) if full => last.position,
                        _ => upto,
                    };
                    Ok(LogPage { events, reached })
                }

                async fn event_log_head(&self) -> Result<LogPosition> {
                    self.log_head().await
                }

                async fn watch_snapshot(
                    &self,
                    filter: &WatchFilter,
                    now: DateTime<Utc>,
                    limit: i64,
                ) -> Result<WatchSnapshot> {
                    self.snapshot(filter, now, limit).await
                }
            }
        };
    };
}
pub(crate) use impl_store_with_shared_sql;
