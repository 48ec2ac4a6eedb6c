//! The one builder of ticket inserts: CreateTicket's statement on
//! PostgreSQL for one ticket and for a group (`intake_batch`), and the
//! SQLite insert. All of them insert the ticket only while its account is
//! on the ticket's plan, and do nothing when the account already has a
//! ticket with its request id; they differ in where the values come from
//! and in whether the events ride in the same statement. The insert of a
//! lone event is here too, so the parameter counts live in one place.

use std::borrow::Cow;
use std::sync::LazyLock;

use super::rows::{event_insert_columns, ticket_insert_columns};

/// Parameters a ticket binds: one per column `bind_ticket_insert!` writes.
pub const TICKET_PARAMETERS: usize = count_columns(ticket_insert_columns!());
/// Parameters an event binds after its ticket id (`bind_event_insert!`).
pub const EVENT_PARAMETERS: usize = count_columns(event_insert_columns!());

/// Parameters a ticket with `events` events takes in a group statement,
/// where each event also binds its ticket's id.
pub const fn grouped_parameters(events: usize) -> usize {
    TICKET_PARAMETERS + events * (EVENT_PARAMETERS + 1)
}

/// Counted from the column lists, so a column added there moves the
/// counts (and so every placeholder) with it.
const fn count_columns(list: &str) -> usize {
    let bytes = list.as_bytes();
    let (mut count, mut i) = (1, 0);
    while i < bytes.len() {
        if bytes[i] == b',' {
            count += 1;
        }
        i += 1;
    }
    count
}

/// `$N` placeholders numbered in binding order.
struct Placeholders {
    next: usize,
}

impl Placeholders {
    fn new() -> Self {
        Self { next: 1 }
    }

    fn take(&mut self, count: usize) -> String {
        let list = (self.next..self.next + count)
            .map(|n| format!("${n}"))
            .collect::<Vec<_>>()
            .join(", ");
        self.next += count;
        list
    }
}

/// The insert of the tickets `source` selects, skipping a taken request
/// id. The accounts check lives in `source`, where it can see the values.
fn insert_tickets(source: &str, returning: &str) -> String {
    format!(
        concat!(
            "INSERT INTO tickets (",
            ticket_insert_columns!(),
            ") {} ON CONFLICT (account_id, request_id) DO NOTHING RETURNING {}"
        ),
        source, returning
    )
}

/// One ticket's values, selected only while its account is on its plan.
fn one_ticket(placeholders: &mut Placeholders) -> String {
    format!(
        "SELECT {} WHERE EXISTS (SELECT 1 FROM accounts WHERE id = $2 AND plan = $3)",
        placeholders.take(TICKET_PARAMETERS)
    )
}

/// The events CTE: inserts the events of the tickets the `ticket` CTE
/// inserted (none for a ticket it skipped), `values` joined to it by
/// `join`. The VALUES carry their position so that ORDER BY gives the
/// events ids in the order given.
fn insert_events(values: &str) -> String {
    format!(
        concat!(
            ", events AS (INSERT INTO ticket_events (ticket_id, ",
            event_insert_columns!(),
            ") SELECT ticket.id, ",
            event_insert_columns!(),
            " FROM ticket{} ORDER BY position)"
        ),
        values
    )
}

/// The insert of one event, its ticket id first: how a change's events
/// are written, and a received ticket's on SQLite.
pub fn insert_event_sql() -> &'static str {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            concat!(
                "INSERT INTO ticket_events (ticket_id, ",
                event_insert_columns!(),
                ") VALUES ({})"
            ),
            Placeholders::new().take(1 + EVENT_PARAMETERS)
        )
    });
    SQL.as_str()
}

/// SQLite's insert of one ticket, returning its number; its events follow
/// in the same transaction (SQLite has no data-modifying CTEs; its
/// statements do not cross a network anyway). The WHERE also keeps SQLite
/// from reading ON CONFLICT as a join's ON.
pub fn sqlite_insert_ticket_sql() -> &'static str {
    static SQL: LazyLock<String> =
        LazyLock::new(|| insert_tickets(&one_ticket(&mut Placeholders::new()), "number"));
    SQL.as_str()
}

/// PostgreSQL's insert of one ticket and `events` events in one statement,
/// so in one round trip and one implicit transaction, returning the
/// ticket's number. bench/create_ticket.pgbench holds the one-event
/// statement: change both together.
pub fn insert_ticket_sql(events: usize) -> Cow<'static, str> {
    static ONE_EVENT: LazyLock<String> = LazyLock::new(|| build_insert_ticket_sql(1));
    if events == 1 {
        Cow::Borrowed(ONE_EVENT.as_str())
    } else {
        Cow::Owned(build_insert_ticket_sql(events))
    }
}

fn build_insert_ticket_sql(events: usize) -> String {
    let mut placeholders = Placeholders::new();
    let mut sql = format!(
        "WITH ticket AS ({})",
        insert_tickets(&one_ticket(&mut placeholders), "id, number")
    );
    if events > 0 {
        let rows = (0..events)
            .map(|i| format!("({i}, {})", placeholders.take(EVENT_PARAMETERS)))
            .collect::<Vec<_>>()
            .join(", ");
        sql.push_str(&insert_events(&format!(
            concat!(
                ", (VALUES {}) AS event (position, ",
                event_insert_columns!(),
                ")"
            ),
            rows
        )));
    }
    sql.push_str(" SELECT number FROM ticket");
    sql
}

/// PostgreSQL's insert of tickets with `shape[i]` events each in one
/// statement, returning each inserted ticket's id and number; the common
/// shapes (one event per ticket) are built once.
pub fn group_sql(shape: &[usize]) -> Cow<'static, str> {
    static ONE_EVENT_EACH: LazyLock<Vec<String>> =
        LazyLock::new(|| (0..=64).map(|n| build_group_sql(&vec![1; n])).collect());
    if shape.iter().all(|&events| events == 1) && shape.len() < ONE_EVENT_EACH.len() {
        Cow::Borrowed(ONE_EVENT_EACH[shape.len()].as_str())
    } else {
        Cow::Owned(build_group_sql(shape))
    }
}

fn build_group_sql(shape: &[usize]) -> String {
    let mut placeholders = Placeholders::new();
    let tickets = shape
        .iter()
        .map(|_| format!("({})", placeholders.take(TICKET_PARAMETERS)))
        .collect::<Vec<_>>()
        .join(", ");
    let source = format!(
        concat!(
            "SELECT * FROM (VALUES {}) AS new (",
            ticket_insert_columns!(),
            ") WHERE EXISTS (SELECT 1 FROM accounts ",
            "WHERE accounts.id = new.account_id AND accounts.plan = new.plan)"
        ),
        tickets
    );
    let mut sql = format!("WITH ticket AS ({})", insert_tickets(&source, "id, number"));
    let events = (0..shape.iter().sum::<usize>())
        .map(|position| {
            let ticket = placeholders.take(1);
            format!(
                "({position}, {ticket}::uuid, {})",
                placeholders.take(EVENT_PARAMETERS)
            )
        })
        .collect::<Vec<_>>();
    if !events.is_empty() {
        sql.push_str(&insert_events(&format!(
            concat!(
                " JOIN (VALUES {}) AS event (position, ticket_id, ",
                event_insert_columns!(),
                ") ON event.ticket_id = ticket.id"
            ),
            events.join(", ")
        )));
    }
    sql.push_str(" SELECT id, number FROM ticket");
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parameter_counts_follow_the_column_lists() {
        assert_eq!(TICKET_PARAMETERS, 35);
        assert_eq!(EVENT_PARAMETERS, 11);
        let sql = sqlite_insert_ticket_sql();
        assert!(sql.contains("$35 WHERE EXISTS"), "{sql}");
        assert!(!sql.contains("$36"), "{sql}");
        assert!(sql.ends_with("DO NOTHING RETURNING number"), "{sql}");
        assert!(
            insert_event_sql()
                .ends_with("VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")
        );
    }

    #[test]
    fn without_events_only_the_ticket_is_inserted() {
        let sql = insert_ticket_sql(0);
        assert!(!sql.contains("ticket_events"));
        assert!(sql.ends_with("RETURNING id, number) SELECT number FROM ticket"));
    }

    #[test]
    fn each_event_has_its_own_parameters_in_order() {
        let sql = insert_ticket_sql(2);
        assert!(sql.contains("(0, $36, "));
        assert!(sql.contains("$46), (1, $47, "));
        assert!(sql.contains("$57)) AS event"));
    }

    #[test]
    fn a_group_statement_numbers_its_parameters_in_binding_order() {
        let sql = build_group_sql(&[1, 2]);
        // Two tickets (1..=70), then three events of 1 + 11 parameters.
        assert!(sql.contains("($1, "), "{sql}");
        assert!(sql.contains("$70)"), "{sql}");
        assert!(sql.contains("(0, $71::uuid, $72, "), "{sql}");
        assert!(sql.contains("(1, $83::uuid, $84, "), "{sql}");
        assert!(sql.contains("(2, $95::uuid, $96, "), "{sql}");
        assert!(sql.contains("$106)"), "{sql}");
        assert!(!sql.contains("$107"), "{sql}");
        assert!(sql.ends_with("SELECT id, number FROM ticket"));
    }

    #[test]
    fn common_shapes_are_built_once() {
        assert!(matches!(group_sql(&[1, 1, 1]), Cow::Borrowed(_)));
        assert!(matches!(group_sql(&[1, 2]), Cow::Owned(_)));
        assert_eq!(group_sql(&[1, 1]), build_group_sql(&[1, 1]));
    }
}
