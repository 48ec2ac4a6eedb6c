//! The storage contract, tested against the `Store` trait itself (the API
//! tests cover the same ground end to end). Runs on both backends.

use chrono::Duration;
use ticketd::domain::intake::receive;
use ticketd::domain::policy::{Channel, Plan, Policy, Priority, Region};
use ticketd::domain::priority::{Impact, ImpactScope, RequestKind, Workaround};
use ticketd::domain::ticket::{
    Account, AccountUpdate, EventKind, Origin, Ticket, TicketEvent, TicketRequest,
};
use ticketd::error::Error;
use ticketd::store::{Inserted, TicketFilter, TicketKey};

use crate::helpers::*;

fn account(id: &str, plan: Plan) -> Account {
    let at = start_time();
    Account {
        id: id.into(),
        display_name: format!("{id} Ltd"),
        plan,
        create_time: at,
        update_time: at,
    }
}

fn origins() -> [Origin; 3] {
    [
        Origin::WebForm {
            contact_email: "ana@example.com".into(),
            contact_name: Some("Ana".into()),
        },
        Origin::Chat {
            session_id: "chat-1".into(),
            transcript_uri: None,
            first_message: Some("help".into()),
        },
        Origin::Phone {
            call_id: "call-1".into(),
            caller_number: "+14155550123".into(),
            dialed_number: "+18887999666".into(),
            region: Region::Us,
        },
    ]
}

fn ticket(owner: &Account, origin: Origin, request_id: Option<&str>) -> Ticket {
    let request = TicketRequest {
        account_id: owner.id.clone(),
        origin,
        subject: "Subject".into(),
        description: "Description".into(),
        impact: Impact::new(
            RequestKind::Problem,
            Some(ImpactScope::Degraded),
            Some(Workaround::None),
        )
        .unwrap(),
        request_id: request_id.map(str::to_owned),
    };
    // Sub-microsecond digits are cut at receipt, so the round trip is exact.
    let now = start_time() + Duration::nanoseconds(123_456_789);
    receive(&Policy::standard(), 1, owner, request, now).unwrap()
}

fn new(inserted: Inserted) -> Ticket {
    match inserted {
        Inserted::New(ticket) => ticket,
        Inserted::Existing(ticket) => panic!("expected a new row, got existing #{}", ticket.number),
    }
}

async fn accounts_round_trip_and_report_conflicts_and_absence(app: TestApp) {
    let store = app.store();
    let acme = account("acme", Plan::Pro);
    assert_eq!(store.create_account(&acme).await.unwrap(), acme);
    assert!(matches!(
        store.create_account(&acme).await,
        Err(Error::AlreadyExists {
            resource: "account",
            ..
        })
    ));
    assert_eq!(store.get_account("acme").await.unwrap(), acme);
    assert!(matches!(
        store.get_account("ghost").await,
        Err(Error::NotFound {
            resource: "account",
            ..
        })
    ));

    let later = start_time() + Duration::hours(2);
    let updated = store
        .update_account(
            "acme",
            &AccountUpdate {
                display_name: None,
                plan: Some(Plan::Business),
            },
            later,
        )
        .await
        .unwrap();
    assert_eq!(
        updated,
        Account {
            plan: Plan::Business,
            update_time: later,
            ..acme
        }
    );
    assert!(matches!(
        store
            .update_account("ghost", &AccountUpdate::default(), later)
            .await,
        Err(Error::NotFound { .. })
    ));

    for id in ["charlie", "bravo"] {
        store
            .create_account(&account(id, Plan::Free))
            .await
            .unwrap();
    }
    let ids = |accounts: Vec<Account>| accounts.into_iter().map(|a| a.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.list_accounts(None, 2).await.unwrap()),
        ["acme", "bravo"]
    );
    assert_eq!(
        ids(store.list_accounts(Some("bravo"), 2).await.unwrap()),
        ["charlie"]
    );
}

async fn every_origin_reads_back_exactly_as_it_was_stored(app: TestApp) {
    let store = app.store();
    let owner = account("acme", Plan::Business);
    store.create_account(&owner).await.unwrap();
    for origin in origins() {
        let stored = new(store
            .insert_ticket(&ticket(&owner, origin, None), &[])
            .await
            .unwrap());
        assert!(stored.number > 0);
        assert_eq!(
            store.get_ticket(TicketKey::Id(stored.id)).await.unwrap(),
            stored
        );
        assert_eq!(
            store
                .get_ticket(TicketKey::Number(stored.number))
                .await
                .unwrap(),
            stored
        );
    }
    assert!(matches!(
        store.get_ticket(TicketKey::Number(999)).await,
        Err(Error::NotFound {
            resource: "ticket",
            ..
        })
    ));
}

async fn a_request_id_yields_one_row_per_account(app: TestApp) {
    let store = app.store();
    let acme = account("acme", Plan::Pro);
    let globex = account("globex", Plan::Pro);
    store.create_account(&acme).await.unwrap();
    store.create_account(&globex).await.unwrap();
    let [_, chat, _] = origins();

    let first = new(store
        .insert_ticket(&ticket(&acme, chat.clone(), Some("r-1")), &[])
        .await
        .unwrap());
    match store
        .insert_ticket(&ticket(&acme, chat.clone(), Some("r-1")), &[])
        .await
        .unwrap()
    {
        Inserted::Existing(existing) => assert_eq!(existing, first),
        Inserted::New(_) => panic!("a second row for the same request id"),
    }
    assert_eq!(
        store
            .find_ticket_by_request_id("acme", "r-1")
            .await
            .unwrap(),
        Some(first)
    );
    assert_eq!(
        store
            .find_ticket_by_request_id("globex", "r-1")
            .await
            .unwrap(),
        None
    );
    new(store
        .insert_ticket(&ticket(&globex, chat.clone(), Some("r-1")), &[])
        .await
        .unwrap());
    // Without a request id nothing is deduplicated.
    new(store
        .insert_ticket(&ticket(&acme, chat.clone(), None), &[])
        .await
        .unwrap());
    new(store
        .insert_ticket(&ticket(&acme, chat, None), &[])
        .await
        .unwrap());
    assert_eq!(app.ticket_count().await, 4);
}

async fn listing_filters_and_pages_newest_first(app: TestApp) {
    let store = app.store();
    let acme = account("acme", Plan::Business);
    let other = account("other", Plan::Business);
    store.create_account(&acme).await.unwrap();
    store.create_account(&other).await.unwrap();
    let mut numbers = Vec::new();
    for origin in origins() {
        numbers.push(
            new(store
                .insert_ticket(&ticket(&acme, origin, None), &[])
                .await
                .unwrap())
            .number,
        );
    }
    let [web, chat, phone] = [numbers[0], numbers[1], numbers[2]];
    let elsewhere = new(store
        .insert_ticket(&ticket(&other, origins()[1].clone(), None), &[])
        .await
        .unwrap())
    .number;

    let list = |filter: TicketFilter, before: Option<i64>, limit: i64| {
        let store = store.clone();
        async move {
            store
                .list_tickets(&filter, before, limit)
                .await
                .unwrap()
                .into_iter()
                .map(|t| t.number)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        list(TicketFilter::default(), None, 10).await,
        [elsewhere, phone, chat, web]
    );
    assert_eq!(
        list(TicketFilter::default(), Some(phone), 2).await,
        [chat, web]
    );
    let by_account = TicketFilter {
        account_id: Some("acme".into()),
        ..Default::default()
    };
    assert_eq!(list(by_account, None, 10).await, [phone, chat, web]);
    let by_channel = TicketFilter {
        channel: Some(Channel::Chat),
        ..Default::default()
    };
    assert_eq!(list(by_channel, None, 10).await, [elsewhere, chat]);
    let by_priority = TicketFilter {
        priority: Some(Priority::P1),
        ..Default::default()
    };
    assert!(list(by_priority, None, 10).await.is_empty());
}

async fn a_stale_version_writes_nothing(app: TestApp) {
    let store = app.store();
    let owner = account("acme", Plan::Business);
    store.create_account(&owner).await.unwrap();
    let received = ticket(&owner, origins()[1].clone(), None);
    let received_event =
        TicketEvent::new(&received, EventKind::Received, "acme", received.received_at);
    let stored = new(store
        .insert_ticket(&received, &[received_event])
        .await
        .unwrap());
    let later = start_time() + Duration::hours(9);
    let swept = ticketd::domain::lifecycle::sweep(&stored, later);
    assert_eq!(swept.events.len(), 2, "at risk and breached");
    // Two writers start from the same version; only the first lands.
    store
        .update_ticket(&swept.ticket, stored.version, &swept.events, None)
        .await
        .unwrap();
    let second = store
        .update_ticket(&swept.ticket, stored.version, &swept.events, None)
        .await;
    assert!(matches!(second, Err(Error::Conflict)), "{second:?}");
    let events = store
        .list_ticket_events(stored.id, None, 100)
        .await
        .unwrap();
    let kinds: Vec<EventKind> = events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [EventKind::Received, EventKind::AtRisk, EventKind::Breached]
    );
    let now = store.get_ticket(TicketKey::Id(stored.id)).await.unwrap();
    assert_eq!(now.version, stored.version + 1);
}

/// The service may decide a ticket from a cached plan; the store is what
/// keeps a stale one from being written, alone or among concurrent inserts
/// (grouped into one statement on PostgreSQL).
async fn a_ticket_decided_under_a_plan_the_account_left_is_not_written(app: TestApp) {
    let store = app.store();
    let acme = account("acme", Plan::Pro);
    store.create_account(&acme).await.unwrap();
    let as_business = Account {
        plan: Plan::Business,
        ..acme.clone()
    };
    let [web, chat, _] = origins();
    let with_event = |ticket: &Ticket| {
        let event = TicketEvent::new(ticket, EventKind::Received, "acme", ticket.received_at);
        (ticket.clone(), vec![event])
    };

    for request_id in [None, Some("r-stale")] {
        let (stale, events) = with_event(&ticket(&as_business, chat.clone(), request_id));
        assert!(matches!(
            store.insert_ticket(&stale, &events).await,
            Err(Error::Conflict)
        ));
    }
    assert_eq!(app.ticket_count().await, 0);

    let inserts: Vec<_> = (0..12)
        .map(|n| {
            let owner = if n % 2 == 0 { &acme } else { &as_business };
            let origin = if n % 3 == 0 {
                web.clone()
            } else {
                chat.clone()
            };
            let (ticket, events) = with_event(&ticket(owner, origin, Some(&format!("r-{n}"))));
            let store = store.clone();
            tokio::spawn(async move { (ticket.plan, store.insert_ticket(&ticket, &events).await) })
        })
        .collect();
    for insert in inserts {
        match insert.await.unwrap() {
            (Plan::Pro, Ok(inserted)) => assert_eq!(new(inserted).plan, Plan::Pro),
            (Plan::Business, result) => assert!(
                matches!(result, Err(Error::Conflict)),
                "a stale plan is refused: {result:?}"
            ),
            (plan, result) => panic!("{plan:?}: {result:?}"),
        }
    }
    assert_eq!(app.ticket_count().await, 6);
    assert_eq!(
        app.count("ticket_events").await,
        6,
        "no event without its ticket"
    );
}

async fn ping_answers_when_the_store_is_up(app: TestApp) {
    app.store().ping().await.unwrap();
}

async fn policy_versions_are_appended_and_read_back(app: TestApp) {
    let store = app.store();
    // The server may have inserted the published policy already.
    let base = store.active_policy_number().await.unwrap();
    let at = start_time();
    let document = Policy::published_document();
    let first = store
        .activate_policy(base, document, "label-a", "ana", "first", at)
        .await
        .unwrap();
    assert_eq!(first.number, base + 1);
    assert_eq!(
        (
            first.document.as_str(),
            first.label.as_str(),
            first.activated_by.as_str(),
            first.note.as_str(),
            first.activated_at
        ),
        (document, "label-a", "ana", "first", at)
    );
    assert_eq!(store.active_policy().await.unwrap(), Some(first.clone()));
    assert_eq!(store.active_policy_number().await.unwrap(), base + 1);
    assert_eq!(store.get_policy_version(base + 1).await.unwrap(), first);

    // From a version that is no longer active, or one that never was:
    // refused, naming the active one, and nothing written.
    for stale in [base, base + 7] {
        let refused = store
            .activate_policy(stale, document, "label-b", "bo", "late", at)
            .await;
        assert!(
            matches!(
                refused,
                Err(Error::PolicyVersionRaced { expected, active })
                    if expected == stale && active == base + 1
            ),
            "{refused:?}"
        );
    }

    // Going back is activating the old document again, as a new number.
    let second = store
        .activate_policy(
            base + 1,
            document,
            "label-a",
            "bo",
            "back",
            at + Duration::hours(1),
        )
        .await
        .unwrap();
    assert_eq!(second.number, base + 2);
    assert_eq!(store.active_policy().await.unwrap(), Some(second.clone()));
    assert_eq!(store.get_policy_version(base + 1).await.unwrap(), first);

    assert_eq!(
        store.list_policy_versions(Some(base), 10).await.unwrap(),
        vec![first.clone(), second.clone()]
    );
    assert_eq!(
        store.list_policy_versions(Some(base), 1).await.unwrap(),
        vec![first]
    );
    assert_eq!(
        store.list_policy_versions(None, 100).await.unwrap().len() as i64,
        base + 2
    );
    assert!(matches!(
        store.get_policy_version(base + 3).await,
        Err(Error::NotFound {
            resource: "policy version",
            ..
        })
    ));
    assert_eq!(app.count("policy_versions").await, base + 2);
}

async fn of_two_activations_from_one_version_exactly_one_wins(app: TestApp) {
    for round in 0..5 {
        let base = app.store().active_policy_number().await.unwrap();
        let racers = ["left", "right"].map(|who| {
            let store = app.store().clone();
            tokio::spawn(async move {
                store
                    .activate_policy(
                        base,
                        Policy::published_document(),
                        "2026-11-standard",
                        who,
                        &format!("round {round}"),
                        start_time(),
                    )
                    .await
            })
        });
        let mut won = Vec::new();
        for racer in racers {
            match racer.await.unwrap() {
                Ok(version) => won.push(version),
                Err(Error::PolicyVersionRaced { expected, active }) => {
                    assert_eq!((expected, active), (base, base + 1));
                }
                Err(other) => panic!("{other:?}"),
            }
        }
        assert_eq!(won.len(), 1, "round {round}: {won:?}");
        assert_eq!(won[0].number, base + 1);
        assert_eq!(
            app.store().active_policy().await.unwrap(),
            Some(won[0].clone())
        );
        assert_eq!(app.count("policy_versions").await, base + 1);
    }
}

on_every_store!(
    policy_versions_are_appended_and_read_back,
    of_two_activations_from_one_version_exactly_one_wins,
    accounts_round_trip_and_report_conflicts_and_absence,
    every_origin_reads_back_exactly_as_it_was_stored,
    a_request_id_yields_one_row_per_account,
    listing_filters_and_pages_newest_first,
    a_stale_version_writes_nothing,
    a_ticket_decided_under_a_plan_the_account_left_is_not_written,
    ping_answers_when_the_store_is_up,
);
