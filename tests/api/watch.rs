//! WatchSlaStatus: snapshot then live events, exact resume from a cursor,
//! time-driven events, replicas, slow consumers, limits and shutdown.

use std::collections::HashSet;
use std::time::Duration as StdDuration;

use chrono::Duration;
use ticketd::client::{AuthedChannel, ticket_client};
use ticketd::proto::pb;
use ticketd::proto::pb::ticket_service_client::TicketServiceClient;
use ticketd::proto::pb::watch_sla_status_response::Update;
use ticketd::proto::pb::{SlaState, TicketEventKind as Kind};
use tonic::Code;
use tonic::Streaming;
use tonic::transport::{Channel, Endpoint};

use crate::helpers::{
    TestApp, account, chat_ticket, error_info, impact_for, phone_ticket, spawn_app_with,
    start_time, ts, violated_fields,
};

type Watch = Streaming<pb::WatchSlaStatusResponse>;

/// How long a test waits for an update that must come. Delivery itself is
/// asserted against tighter bounds where the contract sets one.
const PATIENCE: StdDuration = StdDuration::from_secs(10);

async fn watch(app: &TestApp, request: pb::WatchSlaStatusRequest) -> Watch {
    watch_on(&mut app.tickets.clone(), request).await
}

async fn watch_on(
    client: &mut TicketServiceClient<AuthedChannel>,
    request: pb::WatchSlaStatusRequest,
) -> Watch {
    tokio::time::timeout(PATIENCE, client.watch_sla_status(request))
        .await
        .expect("the watch opens within the patience")
        .expect("the watch opens")
        .into_inner()
}

fn resume_from(cursor: &str) -> pb::WatchSlaStatusRequest {
    pb::WatchSlaStatusRequest {
        resume_cursor: cursor.to_owned(),
        ..Default::default()
    }
}

async fn next(stream: &mut Watch) -> pb::WatchSlaStatusResponse {
    tokio::time::timeout(PATIENCE, stream.message())
        .await
        .expect("an update within the patience")
        .expect("an update, not an error")
        .expect("the stream is still open")
}

/// The snapshot's tickets and the cursor that ends it.
async fn snapshot(stream: &mut Watch) -> (Vec<pb::TicketSlaStatus>, String) {
    let mut tickets = Vec::new();
    loop {
        let update = next(stream).await;
        match update.update {
            Some(Update::Ticket(ticket)) => {
                assert!(update.cursor.is_empty(), "snapshot tickets carry no cursor");
                tickets.push(ticket);
            }
            Some(Update::SnapshotEnd(end)) => {
                assert_eq!(end.ticket_count as usize, tickets.len());
                assert!(!update.cursor.is_empty());
                return (tickets, update.cursor);
            }
            other => panic!("expected the snapshot, got {other:?}"),
        }
    }
}

/// The next event, passing over heartbeats; with its cursor.
async fn next_event(stream: &mut Watch) -> (pb::SlaEvent, String) {
    loop {
        let update = next(stream).await;
        match update.update {
            Some(Update::Event(event)) => return (event, update.cursor),
            Some(Update::Heartbeat(_)) => continue,
            other => panic!("expected an event, got {other:?}"),
        }
    }
}

fn kind(event: &pb::SlaEvent) -> Kind {
    Kind::try_from(event.event.as_ref().unwrap().kind).unwrap()
}

fn ticket_of(event: &pb::SlaEvent) -> &str {
    &event.event.as_ref().unwrap().ticket
}

async fn acknowledge(app: &TestApp, name: &str) {
    app.acknowledge(name, "ana@support", pb::NotificationMethod::Email)
        .await
        .expect("acknowledge");
}

async fn history(app: &TestApp, name: &str) -> Vec<pb::TicketEvent> {
    app.tickets
        .clone()
        .list_ticket_events(pb::ListTicketEventsRequest {
            name: name.to_owned(),
            page_size: 100,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .events
}

/// A Business P2 chat ticket: 4 h target, at risk after 3 h.
async fn business_p2(app: &TestApp, account_id: &str) -> pb::Ticket {
    let mut request = chat_ticket(account_id);
    request.impact = impact_for(pb::Priority::P2High);
    app.create_ticket(request).await.unwrap()
}

async fn the_stream_starts_with_a_snapshot_then_sends_live_events(app: TestApp) {
    app.create_account("acme", pb::Plan::Business).await;
    app.create_account("globex", pb::Plan::Business).await;
    let first = business_p2(&app, "acme").await;
    let second = app.create_ticket(phone_ticket("acme")).await.unwrap();
    business_p2(&app, "globex").await;
    app.clock.advance(Duration::minutes(30));

    let mut stream = watch(
        &app,
        pb::WatchSlaStatusRequest {
            account: account("acme"),
            ..Default::default()
        },
    )
    .await;
    let (tickets, _) = snapshot(&mut stream).await;
    // Earliest deadline first: the P1 phone ticket (1 h) before the P2 (4 h).
    let names: Vec<_> = tickets.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, [second.name.as_str(), first.name.as_str()]);
    let p2 = &tickets[1];
    assert_eq!(p2.sla_state, SlaState::OnTrack as i32);
    assert_eq!(p2.priority, pb::Priority::P2High as i32);
    assert_eq!(
        p2.response_due_at,
        Some(ts(start_time() + Duration::hours(4)))
    );
    assert_eq!(
        p2.time_remaining,
        Some(prost_types::Duration {
            seconds: 3 * 3600 + 30 * 60,
            nanos: 0
        })
    );
    assert_eq!(
        p2.observe_time,
        Some(ts(start_time() + Duration::minutes(30)))
    );

    // Live: another account's ticket is not sent; this account's are.
    business_p2(&app, "globex").await;
    let third = business_p2(&app, "acme").await;
    let (event, cursor) = next_event(&mut stream).await;
    assert_eq!(kind(&event), Kind::Received);
    assert_eq!(ticket_of(&event), third.name);
    assert!(!cursor.is_empty());
    let ticket = event.ticket.unwrap();
    assert_eq!(ticket.number, third.number);
    assert_eq!(ticket.sla_state, SlaState::OnTrack as i32);

    acknowledge(&app, &first.name).await;
    let recorded: Vec<Kind> = history(&app, &first.name)
        .await
        .iter()
        .skip(1) // RECEIVED, before the watch began
        .map(|e| Kind::try_from(e.kind).unwrap())
        .collect();
    let mut sent = Vec::new();
    for _ in 0..recorded.len() {
        let (event, _) = next_event(&mut stream).await;
        assert_eq!(ticket_of(&event), first.name);
        sent.push(kind(&event));
    }
    assert_eq!(sent, recorded);
    assert!(sent.contains(&Kind::FirstResponse), "{sent:?}");
}

async fn a_resumed_stream_gets_exactly_the_events_after_its_cursor(app: TestApp) {
    app.create_account("acme", pb::Plan::Business).await;
    let mut stream = watch(&app, Default::default()).await;
    snapshot(&mut stream).await;
    let a = business_p2(&app, "acme").await;
    let (event, cursor) = next_event(&mut stream).await;
    assert_eq!(ticket_of(&event), a.name);
    let seen = event.event.unwrap().event_id;
    // A forced disconnect; the world moves on meanwhile.
    drop(stream);
    let b = app.create_ticket(phone_ticket("acme")).await.unwrap();
    acknowledge(&app, &a.name).await;
    let c = business_p2(&app, "acme").await;

    let mut expected = HashSet::new();
    for name in [&a.name, &b.name, &c.name] {
        for event in history(&app, name).await {
            if !(event.ticket == a.name && event.event_id <= seen) {
                expected.insert(event.event_id);
            }
        }
    }
    let mut resumed = watch(&app, resume_from(&cursor)).await;
    let mut got = Vec::new();
    while got.len() < expected.len() {
        let (event, _) = next_event(&mut resumed).await;
        got.push(event.event.unwrap().event_id);
    }
    let unique: HashSet<_> = got.iter().copied().collect();
    assert_eq!(unique.len(), got.len(), "no event twice: {got:?}");
    assert_eq!(unique, expected, "exactly the events after the cursor");

    // And nothing more: the next update after a new ticket is that ticket.
    let d = business_p2(&app, "acme").await;
    let (event, _) = next_event(&mut resumed).await;
    assert_eq!(ticket_of(&event), d.name);
}

async fn a_breach_is_delivered_by_time_alone(app: TestApp) {
    app.create_account("acme", pb::Plan::Business).await;
    let ticket = business_p2(&app, "acme").await;
    let mut stream = watch(
        &app,
        pb::WatchSlaStatusRequest {
            sla_states: vec![SlaState::AtRisk as i32, SlaState::Breached as i32],
            ..Default::default()
        },
    )
    .await;
    let (tickets, _) = snapshot(&mut stream).await;
    assert!(tickets.is_empty(), "on track, so not on this wall");

    // Nobody calls: the injected clock passes the thresholds.
    for (advance, want, moment) in [
        (Duration::hours(3), Kind::AtRisk, Duration::hours(3)),
        (Duration::hours(2), Kind::Breached, Duration::hours(4)),
    ] {
        app.clock.advance(advance);
        let (event, _) = tokio::time::timeout(StdDuration::from_secs(1), next_event(&mut stream))
            .await
            .unwrap_or_else(|_| panic!("{want:?} was not delivered within 1 s"));
        assert_eq!(kind(&event), want);
        assert_eq!(ticket_of(&event), ticket.name);
        let recorded = event.event.unwrap();
        assert_eq!(recorded.actor, "system");
        assert_eq!(recorded.occur_time, Some(ts(start_time() + moment)));
    }
}

/// The server's poll is set to ten minutes, so only the doorbell that every
/// ticket write rings (intake, an agent's action, the sweeper's threshold)
/// can bring these events within a second.
async fn this_replicas_writes_reach_its_watchers_without_waiting_for_the_poll(app: TestApp) {
    app.create_account("acme", pb::Plan::Business).await;
    let mut stream = watch(&app, pb::WatchSlaStatusRequest::default()).await;
    snapshot(&mut stream).await;
    let within = |what: &'static str| {
        move |_| panic!("{what} was not delivered within 1 s: nothing rang the doorbell")
    };

    let ticket = business_p2(&app, "acme").await;
    let (event, _) = tokio::time::timeout(StdDuration::from_secs(1), next_event(&mut stream))
        .await
        .unwrap_or_else(within("the received ticket"));
    assert_eq!(
        (kind(&event), ticket_of(&event)),
        (Kind::Received, &*ticket.name)
    );

    app.clock.advance(Duration::hours(3));
    let (event, _) = tokio::time::timeout(StdDuration::from_secs(1), next_event(&mut stream))
        .await
        .unwrap_or_else(within("the sweeper's AT_RISK"));
    assert_eq!(
        (kind(&event), ticket_of(&event)),
        (Kind::AtRisk, &*ticket.name)
    );

    acknowledge(&app, &ticket.name).await;
    let (event, _) = tokio::time::timeout(StdDuration::from_secs(1), next_event(&mut stream))
        .await
        .unwrap_or_else(within("the acknowledgement"));
    assert_eq!(
        (kind(&event), ticket_of(&event)),
        (Kind::FirstResponse, &*ticket.name)
    );
}

async fn a_quiet_stream_gets_heartbeats_that_carry_a_cursor(app: TestApp) {
    app.create_account("acme", pb::Plan::Business).await;
    let mut stream = watch(
        &app,
        pb::WatchSlaStatusRequest {
            plans: vec![pb::Plan::Pro as i32],
            ..Default::default()
        },
    )
    .await;
    snapshot(&mut stream).await;
    // Events this stream filters out still move its heartbeat's cursor.
    business_p2(&app, "acme").await;
    let mut beats = Vec::new();
    while beats.len() < 3 {
        let update = next(&mut stream).await;
        match update.update {
            Some(Update::Heartbeat(beat)) => {
                assert!(beat.server_time.is_some());
                beats.push(update.cursor);
            }
            other => panic!("only heartbeats on this filter, got {other:?}"),
        }
    }
    // Resuming after the last heartbeat replays nothing old.
    let mut resumed = watch(&app, resume_from(beats.last().unwrap())).await;
    let newer = business_p2(&app, "acme").await;
    let (event, _) = next_event(&mut resumed).await;
    assert_eq!(ticket_of(&event), newer.name);
}

async fn a_slow_consumer_is_cut_off_while_a_normal_one_keeps_receiving(app: TestApp) {
    // The HTTP/2 layer holds up to 400 KiB per stream before the server's
    // own buffer backs up; this many long-subject events (~700 KiB) fill both.
    const TICKETS: usize = 1_500;
    app.create_account("acme", pb::Plan::Business).await;
    // Tiny HTTP/2 windows, so the client takes next to nothing itself.
    let narrow = Endpoint::from_shared(format!("http://{}", app.addr))
        .unwrap()
        .initial_stream_window_size(Some(1024))
        .initial_connection_window_size(Some(1024))
        .connect()
        .await
        .unwrap();
    let mut slow = watch_on(&mut ticket_client(narrow, app.bearer()), Default::default()).await;
    snapshot(&mut slow).await;
    let mut normal = watch(&app, Default::default()).await;
    snapshot(&mut normal).await;
    let reader = tokio::spawn(async move {
        let mut received = Vec::new();
        while received.len() < TICKETS {
            let (event, _) = next_event(&mut normal).await;
            received.push(ticket_of(&event).to_owned());
        }
        received
    });
    let mut created = Vec::new();
    for i in 0..TICKETS {
        let mut request = chat_ticket("acme");
        request.subject = format!("{i:>4} {}", "x".repeat(195));
        let ticket = tokio::time::timeout(PATIENCE, app.create_ticket(request))
            .await
            .unwrap_or_else(|_| panic!("create {i} hung"))
            .unwrap();
        created.push(ticket.name);
    }
    let normal = tokio::time::timeout(PATIENCE, reader)
        .await
        .expect("reader hung")
        .unwrap();
    assert_eq!(normal, created, "the normal stream got every ticket");

    // The slow one gets what was queued, then a status naming its cursor.
    let mut delivered = Vec::new();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let status = loop {
        match tokio::time::timeout_at(deadline, slow.message())
            .await
            .expect("the slow stream was ended")
        {
            Ok(Some(update)) => {
                if let Some(Update::Event(event)) = update.update {
                    delivered.push(ticket_of(&event).to_owned());
                }
            }
            Ok(None) => panic!("the slow stream ended without a status"),
            Err(status) => break status,
        }
    };
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    let info = error_info(&status);
    assert_eq!(info.reason, "WATCH_CONSUMER_TOO_SLOW");
    assert!(delivered.len() < TICKETS, "it was cut off before the end");
    // Resuming from the cursor it was given loses nothing and repeats nothing.
    let mut resumed = watch(&app, resume_from(&info.metadata["resume_cursor"])).await;
    while delivered.len() < TICKETS {
        let (event, _) = next_event(&mut resumed).await;
        delivered.push(ticket_of(&event).to_owned());
    }
    assert_eq!(delivered, created);
}

async fn shutdown_ends_streams_with_unavailable_and_a_cursor(mut app: TestApp) {
    app.create_account("acme", pb::Plan::Business).await;
    let mut stream = watch(&app, Default::default()).await;
    snapshot(&mut stream).await;
    let ticket = business_p2(&app, "acme").await;
    let (_, cursor) = next_event(&mut stream).await;
    let started = std::time::Instant::now();
    // The drain deadline is 2 s in tests; an open stream must not hold it up.
    app.stop()
        .await
        .expect("the server stops within its drain deadline");
    assert!(started.elapsed() < StdDuration::from_secs(2));
    let status = tokio::time::timeout(PATIENCE, stream.message())
        .await
        .unwrap()
        .expect_err("the stream ends with a status");
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    let info = error_info(&status);
    assert_eq!(info.reason, "SERVER_SHUTTING_DOWN");
    let resume_cursor = info.metadata["resume_cursor"].clone();
    assert!(resume_cursor.starts_with("v1."), "{info:?}");

    // After the restart, resuming from that cursor repeats nothing.
    app.restart().await;
    let mut resumed = watch(&app, resume_from(&resume_cursor)).await;
    let newer = business_p2(&app, "acme").await;
    let (event, _) = next_event(&mut resumed).await;
    assert_eq!(ticket_of(&event), newer.name, "not {} again", ticket.name);
    // The event's own cursor resumes exactly as well.
    let mut again = watch(&app, resume_from(&cursor)).await;
    let (event, _) = next_event(&mut again).await;
    assert_eq!(ticket_of(&event), newer.name);
}

async fn bad_filters_and_cursors_are_refused_naming_the_field(app: TestApp) {
    let cases = [
        (
            pb::WatchSlaStatusRequest {
                plans: vec![pb::Plan::Unspecified as i32],
                ..Default::default()
            },
            "plans[0]",
        ),
        (
            pb::WatchSlaStatusRequest {
                sla_states: vec![SlaState::AtRisk as i32, 99],
                ..Default::default()
            },
            "sla_states[1]",
        ),
        (
            pb::WatchSlaStatusRequest {
                priorities: vec![pb::Priority::P1Urgent as i32, pb::Priority::P1Urgent as i32],
                ..Default::default()
            },
            "priorities[1]",
        ),
        (
            pb::WatchSlaStatusRequest {
                channels: vec![pb::Channel::Chat as i32; 9],
                ..Default::default()
            },
            "channels",
        ),
        (
            pb::WatchSlaStatusRequest {
                account: "acme".into(),
                ..Default::default()
            },
            "account",
        ),
        (resume_from("v1.12"), "resume_cursor"),
        (resume_from("not a cursor"), "resume_cursor"),
    ];
    for (request, field) in cases {
        let status = app
            .tickets
            .clone()
            .watch_sla_status(request.clone())
            .await
            .expect_err(field);
        assert_eq!(violated_fields(&status), [field], "{request:?}");
    }
}

/// A cursor as the tests forge it: `v1.<txid>.<id>`.
fn position_of(cursor: &str) -> (i64, i64) {
    let (txid, id) = cursor.strip_prefix("v1.").unwrap().split_once('.').unwrap();
    (txid.parse().unwrap(), id.parse().unwrap())
}

async fn a_cursor_ahead_of_the_log_is_refused_and_silences_no_one(app: TestApp) {
    app.create_account("acme", pb::Plan::Business).await;
    let mut honest = watch(&app, Default::default()).await;
    snapshot(&mut honest).await;
    business_p2(&app, "acme").await;
    let (_, given) = next_event(&mut honest).await;
    let (txid, id) = position_of(&given);
    let mut forged = vec![
        format!("v1.{}.{}", txid + 1_000, id + 1_000),
        format!("v1.{}.{}", i64::MAX, i64::MAX),
    ];
    if txid == 0 {
        // SQLite's positions are event ids alone: five ahead is ahead.
        forged.push(format!("v1.0.{}", id + 5));
    }
    for cursor in &forged {
        let status = app
            .tickets
            .clone()
            .watch_sla_status(resume_from(cursor))
            .await
            .expect_err(cursor);
        assert_eq!(violated_fields(&status), ["resume_cursor"], "{cursor}");
    }
    // A cursor the service gave out still resumes.
    let mut resumed = watch(&app, resume_from(&given)).await;
    // Every watcher, old and new, still gets what is written next.
    let mut late = watch(&app, Default::default()).await;
    snapshot(&mut late).await;
    let next = business_p2(&app, "acme").await;
    for stream in [&mut honest, &mut resumed, &mut late] {
        let (event, cursor) = next_event(stream).await;
        assert_eq!(ticket_of(&event), next.name);
        assert!(position_of(&cursor) > (txid, id), "{cursor} after {given}");
    }
}

async fn a_burst_of_watch_opens_queues_for_the_store_instead_of_failing(app: TestApp) {
    const STREAMS: usize = 150;
    app.create_account("acme", pb::Plan::Business).await;
    for _ in 0..20 {
        business_p2(&app, "acme").await;
    }
    let opens: Vec<_> = (0..STREAMS)
        .map(|_| {
            let mut client = app.tickets.clone();
            tokio::spawn(async move {
                let mut stream = client
                    .watch_sla_status(pb::WatchSlaStatusRequest::default())
                    .await?
                    .into_inner();
                loop {
                    match stream.message().await? {
                        Some(pb::WatchSlaStatusResponse {
                            update: Some(Update::SnapshotEnd(end)),
                            ..
                        }) => return Ok::<_, tonic::Status>((end.ticket_count, stream)),
                        Some(_) => {}
                        None => return Err(tonic::Status::unknown("ended early")),
                    }
                }
            })
        })
        .collect();
    // Intake keeps its connections meanwhile.
    for _ in 0..10 {
        business_p2(&app, "acme").await;
    }
    let mut streams = Vec::new();
    for open in opens {
        let (count, stream) = tokio::time::timeout(PATIENCE * 3, open)
            .await
            .expect("every snapshot within the patience")
            .unwrap()
            .expect("no watch is refused");
        assert!(count >= 20, "{count}");
        streams.push(stream);
    }
}

async fn a_snapshot_larger_than_the_limit_is_refused_and_a_narrower_one_is_not(app: TestApp) {
    app.create_account("acme", pb::Plan::Business).await;
    for _ in 0..3 {
        business_p2(&app, "acme").await;
    }
    let phone = app.create_ticket(phone_ticket("acme")).await.unwrap();
    let mut stream = watch(&app, Default::default()).await;
    let status = tokio::time::timeout(PATIENCE, stream.message())
        .await
        .unwrap()
        .expect_err("too many tickets for one snapshot");
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(error_info(&status).reason, "SNAPSHOT_TOO_LARGE");

    let mut narrow = watch(
        &app,
        pb::WatchSlaStatusRequest {
            channels: vec![pb::Channel::Phone as i32],
            ..Default::default()
        },
    )
    .await;
    let (tickets, _) = snapshot(&mut narrow).await;
    assert_eq!(tickets.len(), 1);
    assert_eq!(tickets[0].name, phone.name);
}

async fn streams_beyond_the_limit_are_refused_until_one_closes(app: TestApp) {
    let mut first = watch(&app, Default::default()).await;
    snapshot(&mut first).await;
    let status = app
        .tickets
        .clone()
        .watch_sla_status(pb::WatchSlaStatusRequest::default())
        .await
        .expect_err("over the limit");
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert_eq!(error_info(&status).reason, "WATCH_LIMIT_REACHED");
    drop(first);
    // The slot is given back as soon as the client goes away.
    let mut again = None;
    for _ in 0..100 {
        match app
            .tickets
            .clone()
            .watch_sla_status(pb::WatchSlaStatusRequest::default())
            .await
        {
            Ok(stream) => {
                again = Some(stream.into_inner());
                break;
            }
            Err(_) => tokio::time::sleep(StdDuration::from_millis(20)).await,
        }
    }
    snapshot(&mut again.expect("a slot frees up")).await;
}

async fn a_change_written_on_one_replica_reaches_watchers_on_another(app: TestApp) {
    let second = app.start_second_server().await.unwrap();
    let second_addr = second.local_addr();
    let (stop_second, stopped) = tokio::sync::oneshot::channel::<()>();
    let second = tokio::spawn(second.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let on_second = Channel::from_shared(format!("http://{second_addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut on_second = ticket_client(on_second, app.bearer());
    app.create_account("acme", pb::Plan::Business).await;
    let mut stream = watch_on(&mut on_second, Default::default()).await;
    snapshot(&mut stream).await;

    // Written through the first replica; the second hears no doorbell.
    let ticket = business_p2(&app, "acme").await;
    let written = std::time::Instant::now();
    let (event, cursor) = next_event(&mut stream).await;
    assert!(
        written.elapsed() < StdDuration::from_secs(1),
        "{:?}",
        written.elapsed()
    );
    assert_eq!(ticket_of(&event), ticket.name);
    assert_eq!(kind(&event), Kind::Received);

    // A cursor from one replica resumes on the other.
    acknowledge(&app, &ticket.name).await;
    drop(stream);
    let mut resumed = watch(&app, resume_from(&cursor)).await;
    let (event, _) = next_event(&mut resumed).await;
    assert_eq!(ticket_of(&event), ticket.name);
    assert_ne!(kind(&event), Kind::Received, "not sent twice");

    let _ = stop_second.send(());
    second.await.unwrap().unwrap();
}

/// An event whose transaction began writing first but commits last must
/// not be passed over: with ids alone, a reader that saw the later id would
/// resume after it and never see the earlier one.
async fn an_event_committed_out_of_order_is_not_passed_over(app: TestApp) {
    app.create_account("acme", pb::Plan::Business).await;
    let first = business_p2(&app, "acme").await;
    let mut stream = watch(&app, Default::default()).await;
    snapshot(&mut stream).await;

    let id = first.name.trim_start_matches("tickets/");
    let mut slow_writer = app.pg().begin().await.unwrap();
    sqlx::query(
        "INSERT INTO ticket_events (ticket_id, kind, actor, occurred_at, sla_state, note) \
         VALUES ($1::uuid, 'status_changed', 'test', now(), 'on_track', 'committed last')",
    )
    .bind(id)
    .execute(&mut *slow_writer)
    .await
    .unwrap();
    // A later id that commits first.
    let second = business_p2(&app, "acme").await;
    tokio::time::sleep(StdDuration::from_millis(100)).await;
    slow_writer.commit().await.unwrap();

    let (a, _) = next_event(&mut stream).await;
    let (b, _) = next_event(&mut stream).await;
    let notes: Vec<_> = [&a, &b]
        .iter()
        .map(|e| {
            (
                ticket_of(e).to_owned(),
                e.event.as_ref().unwrap().note.clone(),
            )
        })
        .collect();
    assert_eq!(
        notes,
        [
            (first.name.clone(), "committed last".to_owned()),
            (second.name.clone(), String::new())
        ],
        "both, in commit-safe order"
    );
}

/// A ticket created while an older writer is still open is in the
/// snapshot but its event is not yet readable in log order; when the older
/// writer commits, the stream sends that writer's event and not the one the
/// snapshot already showed.
async fn a_snapshot_taken_behind_an_open_writer_sends_each_change_once(app: TestApp) {
    app.create_account("acme", pb::Plan::Business).await;
    let first = business_p2(&app, "acme").await;
    let id = first.name.trim_start_matches("tickets/");
    let mut older_writer = app.pg().begin().await.unwrap();
    sqlx::query(
        "INSERT INTO ticket_events (ticket_id, kind, actor, occurred_at, sla_state, note) \
         VALUES ($1::uuid, 'status_changed', 'test', now(), 'on_track', 'older writer')",
    )
    .bind(id)
    .execute(&mut *older_writer)
    .await
    .unwrap();
    let shown = business_p2(&app, "acme").await;
    let mut stream = watch(&app, Default::default()).await;
    let (tickets, _) = snapshot(&mut stream).await;
    assert!(tickets.iter().any(|t| t.name == shown.name));
    older_writer.commit().await.unwrap();
    let later = business_p2(&app, "acme").await;

    let (a, _) = next_event(&mut stream).await;
    assert_eq!(a.event.as_ref().unwrap().note, "older writer");
    let (b, _) = next_event(&mut stream).await;
    assert_eq!(
        ticket_of(&b),
        later.name,
        "{}'s RECEIVED was in the snapshot; not sent again",
        shown.name
    );
}

/// Transaction ids are shared by every database of a cluster; a long
/// transaction in another one must not hold this log back.
async fn a_long_transaction_in_another_database_does_not_stall_delivery(app: TestApp) {
    use sqlx::Connection;
    let mut elsewhere = sqlx::PgConnection::connect(&crate::helpers::admin_url())
        .await
        .unwrap();
    sqlx::query("BEGIN").execute(&mut elsewhere).await.unwrap();
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut elsewhere)
        .await
        .unwrap();
    app.create_account("acme", pb::Plan::Business).await;
    let mut stream = watch(&app, Default::default()).await;
    snapshot(&mut stream).await;
    let ticket = business_p2(&app, "acme").await;
    let (event, _) = tokio::time::timeout(StdDuration::from_secs(1), next_event(&mut stream))
        .await
        .expect("delivered within 1 s while the other transaction runs");
    assert_eq!(ticket_of(&event), ticket.name);
    sqlx::query("ROLLBACK")
        .execute(&mut elsewhere)
        .await
        .unwrap();
}

async fn app_with_small_limits(backend: crate::helpers::Backend) -> TestApp {
    spawn_app_with(backend, |config| {
        config.watch_buffer = 16;
        config.watch_slow_consumer_ms = 500;
        config.watch_heartbeat_ms = 100;
        config.watch_snapshot_limit = 3;
        config.max_watch_streams = 4;
    })
    .await
}

macro_rules! with_small_limits {
    ($($test:ident),+ $(,)?) => {
        mod small_limits_postgres {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$test(super::app_with_small_limits(crate::helpers::Backend::Postgres).await).await
                }
            )+
        }
        mod small_limits_sqlite {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$test(super::app_with_small_limits(crate::helpers::Backend::Sqlite).await).await
                }
            )+
        }
    };
}

on_every_store!(
    the_stream_starts_with_a_snapshot_then_sends_live_events,
    a_resumed_stream_gets_exactly_the_events_after_its_cursor,
    a_breach_is_delivered_by_time_alone,
    shutdown_ends_streams_with_unavailable_and_a_cursor,
    bad_filters_and_cursors_are_refused_naming_the_field,
    a_cursor_ahead_of_the_log_is_refused_and_silences_no_one,
);

/// A small pool that gives up on a connection quickly: a burst of watch
/// snapshots that took the pool as it liked would fail here.
async fn app_with_a_small_pool(backend: crate::helpers::Backend) -> TestApp {
    spawn_app_with(backend, |config| {
        config.db_pool_size = Some(3);
        config.db_acquire_timeout_ms = 100;
    })
    .await
}

mod small_pool {
    #[tokio::test]
    async fn a_burst_of_watch_opens_queues_for_the_store_instead_of_failing_postgres() {
        let app = super::app_with_a_small_pool(crate::helpers::Backend::Postgres).await;
        super::a_burst_of_watch_opens_queues_for_the_store_instead_of_failing(app).await
    }

    #[tokio::test]
    async fn a_burst_of_watch_opens_queues_for_the_store_instead_of_failing_sqlite() {
        let app = super::app_with_a_small_pool(crate::helpers::Backend::Sqlite).await;
        super::a_burst_of_watch_opens_queues_for_the_store_instead_of_failing(app).await
    }
}

with_small_limits!(
    a_quiet_stream_gets_heartbeats_that_carry_a_cursor,
    a_slow_consumer_is_cut_off_while_a_normal_one_keeps_receiving,
    a_snapshot_larger_than_the_limit_is_refused_and_a_narrower_one_is_not,
);

on_postgres!(
    a_change_written_on_one_replica_reaches_watchers_on_another,
    an_event_committed_out_of_order_is_not_passed_over,
    a_long_transaction_in_another_database_does_not_stall_delivery,
    a_snapshot_taken_behind_an_open_writer_sends_each_change_once,
);

mod one_stream_limit {
    on_configured_store!(
        streams_beyond_the_limit_are_refused_until_one_closes
            on Sqlite with |config| config.max_watch_streams = 1;
    );
}

// A ten-minute poll: only the writer's doorbell can deliver in time.
mod slow_poll_postgres {
    on_configured_store!(
        this_replicas_writes_reach_its_watchers_without_waiting_for_the_poll
            on Postgres with |config| config.watch_poll_ms = 600_000;
    );
}

mod slow_poll_sqlite {
    on_configured_store!(
        this_replicas_writes_reach_its_watchers_without_waiting_for_the_poll
            on Sqlite with |config| config.watch_poll_ms = 600_000;
    );
}
