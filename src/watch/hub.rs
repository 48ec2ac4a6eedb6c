//! One hub per replica: reads the event log and fans it out to the live
//! streams; streams behind it catch up from the log on their own tasks.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::mpsc::{self, OwnedPermit};
use tokio::sync::{Notify, Semaphore, SemaphorePermit, watch};
use tokio_stream::Stream;

use super::cursor;
use crate::domain::clock::Clock;
use crate::domain::ticket::{Origin, Ticket};
use crate::domain::watch::WatchFilter;
use crate::error::Error;
use crate::service::LogWritten;
use crate::store::{EventLogStore, LogPosition, LoggedEvent};

/// Events the hub reads per query; it shares each with every stream.
const BATCH: i64 = 500;
/// Most events a stream catching up reads per query. It reads only what its
/// buffer has room for, so a stalled client holds no page of its own.
const CATCH_UP_BATCH: usize = 64;
/// Most events a snapshot may already reflect beyond its log position; see
/// `send_snapshot`.
const MAX_ALREADY_APPLIED: usize = 10_000;
/// Least time between two reads the doorbell triggers: under heavy intake
/// one read then takes many events, instead of one read per commit.
const MIN_READ_GAP: Duration = Duration::from_millis(5);

#[derive(Debug, Clone)]
pub struct HubConfig {
    /// How often the log is read when no local write rang: the bound on
    /// delivery delay for changes written by other replicas.
    pub poll_interval: Duration,
    pub heartbeat_interval: Duration,
    /// Updates a stream may have queued. A stream whose buffer is full when
    /// the hub has an update for it falls back to reading the log at its
    /// client's pace, and rejoins the hub once caught up.
    pub buffer: usize,
    /// How long a stream behind the hub may wait for buffer room before it
    /// is ended as too slow, to resume from its cursor.
    pub slow_consumer_timeout: Duration,
    pub max_streams: usize,
    /// Most tickets one snapshot sends.
    pub snapshot_limit: usize,
    /// Bytes of updates a stream may have queued (see [`weight`]); past it
    /// the stream lags like one whose buffer is full. One update is always
    /// let in, so the bound is this plus the largest update.
    pub buffer_bytes: usize,
    /// Snapshots and catch-up reads that may use the store at once; the
    /// rest queue, so a burst of opens leaves intake its connections.
    pub read_concurrency: usize,
}

/// One message of a watch stream, before conversion to protobuf.
#[derive(Debug, Clone)]
pub struct Update {
    /// Where to resume after this update; `None` for snapshot tickets, since
    /// a stream that drops during the snapshot starts over.
    pub cursor: Option<LogPosition>,
    /// The time SLA states and time remaining were computed at.
    pub observed_at: DateTime<Utc>,
    pub body: UpdateBody,
}

#[derive(Debug, Clone)]
pub enum UpdateBody {
    Ticket(Box<Ticket>),
    SnapshotEnd {
        ticket_count: usize,
    },
    /// Shared by every stream it is sent to.
    Event(Arc<LoggedEvent>),
    Heartbeat,
}

type Item = Result<Update, Error>;

pub struct Hub {
    store: Arc<dyn EventLogStore>,
    clock: Arc<dyn Clock>,
    config: HubConfig,
    /// Rung by this replica's writes to the log.
    doorbell: LogWritten,
    state: Mutex<State>,
    closing: watch::Sender<bool>,
    streams: Arc<AtomicUsize>,
    /// Streams ended or emptied since freed memory was last handed back.
    ended: Arc<AtomicUsize>,
    reads: Semaphore,
}

struct State {
    /// Every event up to here has been offered to every live subscriber.
    position: LogPosition,
    live: Vec<Subscriber>,
    closed: bool,
}

/// A stream that has caught up and is fed by the hub.
struct Subscriber {
    filter: WatchFilter,
    tx: mpsc::Sender<Item>,
    queue: Arc<Queue>,
    /// A buffer slot kept for the status that ends the stream, so a full
    /// buffer can still be told why it ends.
    last_word: OwnedPermit<Item>,
    /// Every event up to here was queued or passed over by the filter.
    cursor: LogPosition,
    /// Events after the snapshot position that the snapshot already showed,
    /// in log order.
    skip: VecDeque<LogPosition>,
}

enum Outcome {
    Keep,
    /// The client went away.
    Drop,
    /// The buffer is full: catch up from the log at the client's pace.
    Lag,
}

impl Subscriber {
    fn offer(&mut self, update: Update) -> Outcome {
        if !self.queue.has_room() {
            return Outcome::Lag;
        }
        match self.queue.push(&self.tx, update) {
            Ok(()) => Outcome::Keep,
            Err(TrySendError::Full(_)) => Outcome::Lag,
            Err(TrySendError::Closed(_)) => Outcome::Drop,
        }
    }

    fn deliver(&mut self, event: &Arc<LoggedEvent>, now: DateTime<Utc>) -> Outcome {
        if event.position <= self.cursor {
            return Outcome::Keep;
        }
        if already_applied(&mut self.skip, event.position) {
            self.cursor = event.position;
            return Outcome::Keep;
        }
        if matches(&self.filter, event, now) {
            let outcome = self.offer(Update {
                cursor: Some(event.position),
                observed_at: now,
                body: UpdateBody::Event(event.clone()),
            });
            if !matches!(outcome, Outcome::Keep) {
                return outcome;
            }
        }
        self.cursor = event.position;
        Outcome::Keep
    }

    fn end(self, error: Error) {
        self.last_word.send(Err(error));
    }
}

fn matches(filter: &WatchFilter, event: &LoggedEvent, now: DateTime<Utc>) -> bool {
    filter.matches_event(
        event.event.kind,
        event.event.sla_state,
        event.event.from_priority,
        &event.ticket,
        now,
    )
}

/// Applies `outcome` to every live subscriber, removing those that went
/// away and moving those that lag to `lagging`.
fn for_each_subscriber(
    live: &mut Vec<Subscriber>,
    lagging: &mut Vec<Subscriber>,
    mut outcome: impl FnMut(&mut Subscriber) -> Outcome,
) {
    let mut i = 0;
    while i < live.len() {
        match outcome(&mut live[i]) {
            Outcome::Keep => i += 1,
            Outcome::Drop => {
                live.swap_remove(i);
            }
            Outcome::Lag => lagging.push(live.swap_remove(i)),
        }
    }
}

impl Hub {
    pub fn new(
        store: Arc<dyn EventLogStore>,
        clock: Arc<dyn Clock>,
        doorbell: LogWritten,
        config: HubConfig,
    ) -> Arc<Self> {
        Arc::new(Self {
            store,
            clock,
            doorbell,
            state: Mutex::new(State {
                position: LogPosition::default(),
                live: Vec::new(),
                closed: false,
            }),
            closing: watch::Sender::new(false),
            streams: Arc::new(AtomicUsize::new(0)),
            ended: Arc::new(AtomicUsize::new(0)),
            reads: Semaphore::new(config.read_concurrency.max(1)),
            config,
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; if it did, the state is
        // still a valid list of subscribers.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Streams open on this replica.
    pub fn stream_count(&self) -> usize {
        self.streams.load(Ordering::SeqCst)
    }

    /// Reads the log and fans it out until [`close`](Self::close).
    pub async fn run(self: Arc<Self>) {
        let mut closing = self.closing.subscribe();
        let mut poll = tokio::time::interval(self.config.poll_interval);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let heartbeat_every = self.config.heartbeat_interval;
        let mut heartbeat = tokio::time::interval_at(
            tokio::time::Instant::now() + heartbeat_every,
            heartbeat_every,
        );
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = closed(&mut closing) => return,
                () = self.doorbell.notified() => {
                    self.read_log(false).await;
                    tokio::time::sleep(MIN_READ_GAP).await;
                }
                _ = poll.tick() => self.read_log(true).await,
                _ = heartbeat.tick() => self.heartbeat(),
            }
        }
    }

    async fn read_log(self: &Arc<Self>, polled: bool) {
        if self.state().live.is_empty() {
            // Nobody to deliver to: keep up with the head cheaply, so the
            // first stream to join does not wait for a long read.
            if polled {
                match self.store.event_log_head().await {
                    Ok(head) => {
                        let mut state = self.state();
                        // A stream may have joined during the query; only the
                        // reads that deliver may move past what it was given.
                        if state.live.is_empty() {
                            state.position = state.position.max(head);
                        }
                    }
                    Err(err) => tracing::warn!(error = %err, "reading the event log head failed"),
                }
            }
            return;
        }
        loop {
            // Only what the store returned moves the hub: a stream's cursor
            // is the client's word, and a stream ahead of the hub simply
            // passes over what it already has (`deliver`).
            let from = self.state().position;
            let page = match self.store.read_event_log(from, None, BATCH).await {
                Ok(page) => page,
                Err(err) => {
                    tracing::warn!(error = %err, "reading the event log failed; retrying at the next poll");
                    return;
                }
            };
            let full = page.events.len() as i64 >= BATCH;
            let now = self.clock.now();
            let mut lagging = Vec::new();
            {
                let mut state = self.state();
                for mut event in page.events {
                    // Shared by every stream it is queued on, and weighed
                    // against each one's buffer: keep only what is sent.
                    event.ticket = for_watch(event.ticket);
                    let event = Arc::new(event);
                    for_each_subscriber(&mut state.live, &mut lagging, |sub| {
                        sub.deliver(&event, now)
                    });
                }
                state.position = state.position.max(page.reached);
            }
            self.fall_back(lagging);
            if !full {
                return;
            }
        }
    }

    fn heartbeat(self: &Arc<Self>) {
        if self.ended.swap(0, Ordering::AcqRel) > 0 {
            tokio::task::spawn_blocking(super::trim::release_free_memory);
        }
        let now = self.clock.now();
        let mut lagging = Vec::new();
        let mut state = self.state();
        let position = state.position;
        for_each_subscriber(&mut state.live, &mut lagging, |sub| {
            // Everything up to the hub's position was offered to it.
            let cursor = sub.cursor.max(position);
            let outcome = sub.offer(Update {
                cursor: Some(cursor),
                observed_at: now,
                body: UpdateBody::Heartbeat,
            });
            if matches!(outcome, Outcome::Keep) {
                sub.cursor = cursor;
            }
            outcome
        });
        drop(state);
        self.fall_back(lagging);
    }

    /// Streams whose buffer was full go back to reading the log themselves,
    /// so a burst larger than the buffer costs a healthy client nothing and
    /// a slow one holds up no one else.
    fn fall_back(self: &Arc<Self>, lagging: Vec<Subscriber>) {
        for sub in lagging {
            let progress = Progress {
                cursor: Some(sub.cursor),
                skip: sub.skip,
            };
            tokio::spawn(self.clone().start(
                sub.filter,
                progress,
                Feed {
                    tx: sub.tx,
                    queue: sub.queue,
                    last_word: sub.last_word,
                },
            ));
        }
    }

    /// Ends every stream with UNAVAILABLE and a cursor to resume from, and
    /// refuses new ones: the server is stopping.
    pub fn close(&self) {
        self.closing.send_replace(true);
        let mut state = self.state();
        state.closed = true;
        let position = state.position;
        for sub in state.live.drain(..) {
            let resume = sub.cursor.max(position);
            sub.end(Error::ShuttingDown {
                resume_cursor: Some(cursor::encode(resume)),
            });
        }
    }

    /// Opens a stream: a snapshot first unless `resume` is given, then the
    /// events after it. A cursor beyond the log's head is no cursor this
    /// service gave out, and is refused.
    pub async fn watch(
        self: &Arc<Self>,
        filter: WatchFilter,
        resume: Option<LogPosition>,
    ) -> Result<WatchStream, Error> {
        let slot = StreamSlot::take(&self.streams, &self.ended);
        if slot.count > self.config.max_streams {
            return Err(Error::WatchLimitReached {
                limit: self.config.max_streams,
            });
        }
        if *self.closing.borrow() {
            return Err(Error::ShuttingDown {
                resume_cursor: resume.map(cursor::encode),
            });
        }
        // The hub's position never passes the head, so only a cursor ahead
        // of it costs a query.
        if let Some(resume) = resume
            && resume > self.state().position
        {
            let head = {
                let _read = self.read_permit().await?;
                self.store.event_log_head().await?
            };
            if resume > head {
                return Err(Error::invalid(
                    "resume_cursor",
                    "is ahead of the event log; resume from a cursor this service sent",
                ));
            }
        }
        let (tx, rx) = mpsc::channel(self.config.buffer + 1);
        let last_word = tx
            .clone()
            .try_reserve_owned()
            .map_err(|_| Error::Internal("a new channel had no room".into()))?;
        let queue = Arc::new(Queue::new(rx, self.config.buffer_bytes));
        let progress = Progress {
            cursor: resume,
            skip: VecDeque::new(),
        };
        tokio::spawn(self.clone().start(
            filter,
            progress,
            Feed {
                tx,
                queue: queue.clone(),
                last_word,
            },
        ));
        Ok(WatchStream {
            queue,
            delivered: resume,
            ended: false,
            _slot: slot,
        })
    }

    async fn read_permit(&self) -> Result<SemaphorePermit<'_>, Error> {
        self.reads
            .acquire()
            .await
            .map_err(|_| Error::Internal("the watch read semaphore was closed".into()))
    }

    /// Brings a new stream up to the hub's position, then hands it over.
    async fn start(self: Arc<Self>, filter: WatchFilter, mut progress: Progress, feed: Feed) {
        let Feed {
            tx,
            queue,
            last_word,
        } = feed;
        let mut closing = self.closing.subscribe();
        loop {
            let caught_up = tokio::select! {
                result = self.catch_up(&filter, &tx, &queue, &mut progress) => Some(result),
                () = closed(&mut closing) => None,
            };
            let cursor = match caught_up {
                Some(Ok(cursor)) => cursor,
                Some(Err(Stop::ClientGone)) => return,
                Some(Err(Stop::TooSlow)) => {
                    queue.abandon(last_word);
                    self.ended.fetch_add(1, Ordering::AcqRel);
                    return;
                }
                Some(Err(Stop::Fail(error))) => {
                    last_word.send(Err(error));
                    return;
                }
                None => {
                    last_word.send(Err(Error::ShuttingDown {
                        resume_cursor: progress.cursor.map(cursor::encode),
                    }));
                    return;
                }
            };
            let mut state = self.state();
            if state.closed {
                drop(state);
                last_word.send(Err(Error::ShuttingDown {
                    resume_cursor: Some(cursor::encode(cursor)),
                }));
                return;
            }
            if state.position <= cursor {
                state.live.push(Subscriber {
                    filter,
                    tx,
                    queue,
                    last_word,
                    cursor,
                    skip: std::mem::take(&mut progress.skip),
                });
                return;
            }
            // The hub moved on while this stream caught up; catch up again.
        }
    }

    /// Sends the snapshot (once) and the log up to the hub's position as it
    /// was when called; returns the position reached.
    async fn catch_up(
        &self,
        filter: &WatchFilter,
        tx: &mpsc::Sender<Item>,
        queue: &Queue,
        progress: &mut Progress,
    ) -> Result<LogPosition, Stop> {
        let mut cursor = match progress.cursor {
            Some(cursor) => cursor,
            None => {
                let position = self.send_snapshot(filter, tx, queue, progress).await?;
                progress.cursor = Some(position);
                position
            }
        };
        let target = self.state().position;
        // A long catch-up still shows it is alive, at the heartbeat interval.
        let mut quiet_since = tokio::time::Instant::now();
        while cursor < target {
            // Read no more than the buffer can take now: a client that
            // stops reading leaves nothing but its buffer behind.
            let room = self.room(tx, queue).await?;
            let page = {
                let _read = self.read_permit_for(tx).await?;
                self.store
                    .read_event_log(cursor, Some(target), room.min(CATCH_UP_BATCH) as i64)
                    .await
                    .map_err(Stop::Fail)?
            };
            let now = self.clock.now();
            for mut event in page.events {
                let position = event.position;
                if !already_applied(&mut progress.skip, position) && matches(filter, &event, now) {
                    quiet_since = tokio::time::Instant::now();
                    event.ticket = for_watch(event.ticket);
                    self.send(
                        tx,
                        queue,
                        Update {
                            cursor: Some(position),
                            observed_at: now,
                            body: UpdateBody::Event(Arc::new(event)),
                        },
                    )
                    .await?;
                }
                cursor = position;
                progress.cursor = Some(cursor);
            }
            cursor = cursor.max(page.reached);
            progress.cursor = Some(cursor);
            if quiet_since.elapsed() >= self.config.heartbeat_interval {
                quiet_since = tokio::time::Instant::now();
                let beat = Update {
                    cursor: Some(cursor),
                    observed_at: self.clock.now(),
                    body: UpdateBody::Heartbeat,
                };
                self.send(tx, queue, beat).await?;
            }
        }
        Ok(cursor)
    }

    async fn send_snapshot(
        &self,
        filter: &WatchFilter,
        tx: &mpsc::Sender<Item>,
        queue: &Queue,
        progress: &mut Progress,
    ) -> Result<LogPosition, Stop> {
        let limit = self.config.snapshot_limit;
        let now = self.clock.now();
        let snapshot = {
            let _read = self.read_permit_for(tx).await?;
            self.store
                .watch_snapshot(filter, now, limit as i64 + 1)
                .await
                .map_err(Stop::Fail)?
        };
        if snapshot.tickets.len() > limit {
            return Err(Stop::Fail(Error::SnapshotTooLarge { limit }));
        }
        if snapshot.already_applied.len() > MAX_ALREADY_APPLIED {
            // Only a transaction left open for long makes this many: the
            // log cannot be read past it, so the stream could not go live.
            return Err(Stop::Fail(Error::Unavailable(format!(
                "{} events wait behind a long-running transaction",
                snapshot.already_applied.len()
            ))));
        }
        let ticket_count = snapshot.tickets.len();
        // Held until the client has taken them all, so keep only what the
        // stream sends.
        let tickets: Vec<Ticket> = snapshot.tickets.into_iter().map(for_watch).collect();
        for ticket in tickets {
            let update = Update {
                cursor: None,
                observed_at: now,
                body: UpdateBody::Ticket(Box::new(ticket)),
            };
            self.send(tx, queue, update).await?;
        }
        self.send(
            tx,
            queue,
            Update {
                cursor: Some(snapshot.position),
                observed_at: now,
                body: UpdateBody::SnapshotEnd { ticket_count },
            },
        )
        .await?;
        progress.skip = snapshot.already_applied.into();
        Ok(snapshot.position)
    }

    /// A read permit, given up for a client that goes away while it waits.
    async fn read_permit_for(&self, tx: &mpsc::Sender<Item>) -> Result<SemaphorePermit<'_>, Stop> {
        tokio::select! {
            permit = self.read_permit() => permit.map_err(Stop::Fail),
            () = tx.closed() => Err(Stop::ClientGone),
        }
    }

    /// Waits until the stream's buffer has room, in slots and in bytes, and
    /// returns the free slots: a stream catching up paces itself to its
    /// client and holds no one else up, for at most the slow-consumer
    /// timeout.
    async fn room(&self, tx: &mpsc::Sender<Item>, queue: &Queue) -> Result<usize, Stop> {
        let deadline = tokio::time::Instant::now() + self.config.slow_consumer_timeout;
        loop {
            let taken = queue.taken.notified();
            tokio::pin!(taken);
            // Registered before the check, so a take in between still wakes it.
            taken.as_mut().enable();
            if tx.is_closed() {
                return Err(Stop::ClientGone);
            }
            let free = tx.capacity();
            if free > 0 && queue.has_room() {
                return Ok(free);
            }
            tokio::select! {
                () = taken => {}
                () = tx.closed() => return Err(Stop::ClientGone),
                () = tokio::time::sleep_until(deadline) => return Err(Stop::TooSlow),
            }
        }
    }

    async fn send(
        &self,
        tx: &mpsc::Sender<Item>,
        queue: &Queue,
        update: Update,
    ) -> Result<(), Stop> {
        self.room(tx, queue).await?;
        // Only this task feeds the stream while it catches up, so the room
        // just seen is still there.
        match queue.push(tx, update) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => Err(Stop::TooSlow),
            Err(TrySendError::Closed(_)) => Err(Stop::ClientGone),
        }
    }
}

/// Completes once the hub is closing. The guard `wait_for` returns is not
/// `Send`; it is dropped here, before anything else awaits.
async fn closed(closing: &mut watch::Receiver<bool>) {
    let _ = closing.wait_for(|closing| *closing).await;
}

/// How far a stream catching up has got; kept outside the catch-up future
/// so a shutdown that cancels it can still name the cursor to resume from.
struct Progress {
    /// `None` until the snapshot has been sent.
    cursor: Option<LogPosition>,
    skip: VecDeque<LogPosition>,
}

/// Whether the event at `position` is one the snapshot already showed.
/// Events arrive in log order, so entries before it are done with.
fn already_applied(skip: &mut VecDeque<LogPosition>, position: LogPosition) -> bool {
    while skip.front().is_some_and(|first| *first < position) {
        skip.pop_front();
    }
    if skip.front() == Some(&position) {
        skip.pop_front();
        return true;
    }
    false
}

enum Stop {
    ClientGone,
    TooSlow,
    Fail(Error),
}

/// One stream's place under the limit, given back when the stream is dropped.
struct StreamSlot {
    streams: Arc<AtomicUsize>,
    ended: Arc<AtomicUsize>,
    /// Streams open counting this one.
    count: usize,
}

impl StreamSlot {
    fn take(streams: &Arc<AtomicUsize>, ended: &Arc<AtomicUsize>) -> Self {
        let count = streams.fetch_add(1, Ordering::SeqCst) + 1;
        Self {
            streams: streams.clone(),
            ended: ended.clone(),
            count,
        }
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        self.streams.fetch_sub(1, Ordering::SeqCst);
        self.ended.fetch_add(1, Ordering::AcqRel);
    }
}

/// What feeds one stream: its sender, the shared queue accounting and the
/// slot kept for its last word.
struct Feed {
    tx: mpsc::Sender<Item>,
    queue: Arc<Queue>,
    last_word: OwnedPermit<Item>,
}

/// One stream's buffer as both ends see it. The receiver sits here rather
/// than in [`WatchStream`] so that a stream ended as too slow can be emptied
/// at once: its client is not reading, so nothing would ever poll it.
struct Queue {
    rx: Mutex<mpsc::Receiver<Item>>,
    /// Weight of the updates queued.
    bytes: AtomicUsize,
    limit: usize,
    /// Rung each time the client takes an update.
    taken: Notify,
    /// Set when the stream is ended as too slow.
    abandoned: AtomicBool,
}

impl Queue {
    fn new(rx: mpsc::Receiver<Item>, limit: usize) -> Self {
        Self {
            rx: Mutex::new(rx),
            bytes: AtomicUsize::new(0),
            limit: limit.max(1),
            taken: Notify::new(),
            abandoned: AtomicBool::new(false),
        }
    }

    fn rx(&self) -> MutexGuard<'_, mpsc::Receiver<Item>> {
        self.rx
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn has_room(&self) -> bool {
        self.bytes.load(Ordering::Acquire) < self.limit
    }

    /// Queues `update`, counting its weight first so the receiver can never
    /// take off more than was put on.
    fn push(&self, tx: &mpsc::Sender<Item>, update: Update) -> Result<(), TrySendError<Item>> {
        let weight = weight(&update);
        self.bytes.fetch_add(weight, Ordering::AcqRel);
        tx.try_send(Ok(update)).inspect_err(|_| {
            self.bytes.fetch_sub(weight, Ordering::AcqRel);
        })
    }

    fn took(&self, item: &Item) {
        if let Ok(update) = item {
            self.bytes.fetch_sub(weight(update), Ordering::AcqRel);
        }
        self.taken.notify_one();
    }

    /// Ends the stream as too slow: drops what its client never took and
    /// wakes the stream, which answers with the cursor of the last update it
    /// handed on, so resuming loses nothing and repeats nothing.
    fn abandon(&self, last_word: OwnedPermit<Item>) {
        self.abandoned.store(true, Ordering::Release);
        {
            let mut rx = self.rx();
            rx.close();
            while let Ok(item) = rx.try_recv() {
                self.took(&item);
            }
        }
        // Wakes the stream if its client is polling; what it carries is not
        // sent, the stream builds the status itself.
        last_word.send(Err(Error::WatchConsumerTooSlow {
            resume_cursor: String::new(),
        }));
    }
}

/// What an update holds on to, in bytes, as counted against a stream's
/// buffer. An event shared with other streams counts in full for each.
fn weight(update: &Update) -> usize {
    let body = match &update.body {
        UpdateBody::Ticket(ticket) => ticket_bytes(ticket),
        UpdateBody::Event(logged) => {
            std::mem::size_of::<LoggedEvent>()
                + ticket_bytes(&logged.ticket)
                + logged.event.actor.len()
                + logged.event.note.as_ref().map_or(0, String::len)
        }
        UpdateBody::SnapshotEnd { .. } | UpdateBody::Heartbeat => 0,
    };
    std::mem::size_of::<Item>() + body
}

fn ticket_bytes(ticket: &Ticket) -> usize {
    let origin = match &ticket.origin {
        Origin::WebForm {
            contact_email,
            contact_name,
        } => contact_email.len() + contact_name.as_ref().map_or(0, String::len),
        Origin::Chat {
            session_id,
            transcript_uri,
            first_message,
        } => {
            session_id.len()
                + transcript_uri.as_ref().map_or(0, String::len)
                + first_message.as_ref().map_or(0, String::len)
        }
        Origin::Phone {
            call_id,
            caller_number,
            dialed_number,
            ..
        } => call_id.len() + caller_number.len() + dialed_number.len(),
    };
    std::mem::size_of::<Ticket>()
        + ticket.account_id.len()
        + ticket.subject.len()
        + ticket.description.len()
        + ticket.policy_version.len()
        + ticket.request_id.as_ref().map_or(0, String::len)
        + origin
}

/// A ticket as a stream holds it: without the texts no update sends.
fn for_watch(mut ticket: Ticket) -> Ticket {
    ticket.description = String::new();
    if let Origin::Chat { first_message, .. } = &mut ticket.origin {
        *first_message = None;
    }
    ticket
}

/// The updates of one watch, ending with an error status if the server
/// ends it. Dropping it (the client went away) frees its slot.
pub struct WatchStream {
    queue: Arc<Queue>,
    /// The cursor of the last update handed on (or the one resumed from).
    delivered: Option<LogPosition>,
    ended: bool,
    _slot: StreamSlot,
}

impl WatchStream {
    fn too_slow(&mut self) -> Poll<Option<Item>> {
        self.ended = true;
        Poll::Ready(Some(Err(Error::WatchConsumerTooSlow {
            resume_cursor: self.delivered.map(cursor::encode).unwrap_or_default(),
        })))
    }
}

impl Stream for WatchStream {
    type Item = Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Item>> {
        if self.ended {
            return Poll::Ready(None);
        }
        if self.queue.abandoned.load(Ordering::Acquire) {
            return self.too_slow();
        }
        let polled = self.queue.rx().poll_recv(cx);
        if let Poll::Ready(item) = &polled {
            if let Some(item) = item {
                self.queue.took(item);
            }
            // Abandoned meanwhile: what was taken is dropped with the rest.
            if self.queue.abandoned.load(Ordering::Acquire) {
                return self.too_slow();
            }
            if let Some(Ok(Update {
                cursor: Some(cursor),
                ..
            })) = item
            {
                self.delivered = Some(*cursor);
            }
        }
        polled
    }
}

impl Drop for WatchStream {
    fn drop(&mut self) {
        // Frees what the client never took now, not when the hub next
        // offers this stream something, and wakes a producer waiting for
        // room, which then sees the client gone.
        let mut rx = self.queue.rx();
        rx.close();
        while let Ok(item) = rx.try_recv() {
            self.queue.took(&item);
        }
    }
}
