//! The load client: drives a running ticketd through the generated client,
//! closed loop (each client sends its next call when the last is answered) or
//! open loop (calls leave on a schedule whether or not earlier ones have been
//! answered, so a slow server cannot slow the arrivals down and hide its own
//! queueing from the figures).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ticketd::client::{Bearer, policy_client, ticket_client};
use ticketd::proto::pb;
use tokio::sync::{Semaphore, mpsc};
use tonic::transport::Channel;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// CreateTicket: a chat ticket with its own request id.
    Create,
    /// ClassifyPriority: answered from the in-memory policy, no database.
    Classify,
    /// GetTicket by number: one indexed read.
    Get,
}

impl Call {
    pub const ALL: [Call; 3] = [Call::Create, Call::Classify, Call::Get];

    pub fn name(self) -> &'static str {
        match self {
            Call::Create => "CreateTicket",
            Call::Classify => "ClassifyPriority",
            Call::Get => "GetTicket",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Which calls to send, by weight: `create=9,classify=1`.
#[derive(Debug, Clone, Copy)]
pub struct Mix {
    weights: [u32; 3],
}

impl Mix {
    pub fn only(call: Call) -> Self {
        let mut weights = [0; 3];
        weights[call.index()] = 1;
        Self { weights }
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let mut weights = [0; 3];
        for part in text.split(',') {
            let (name, weight) = part.split_once('=').unwrap_or((part, "1"));
            let call = match name.trim() {
                "create" => Call::Create,
                "classify" => Call::Classify,
                "get" => Call::Get,
                other => return Err(format!("unknown call {other:?} (create, classify, get)")),
            };
            weights[call.index()] = weight
                .trim()
                .parse()
                .map_err(|_| format!("weight of {name} is not a whole number"))?;
        }
        if weights.iter().all(|&w| w == 0) {
            return Err("the mix has no call with a weight above 0".into());
        }
        Ok(Self { weights })
    }

    pub fn includes(&self, call: Call) -> bool {
        self.weights[call.index()] > 0
    }

    /// The call for the `n`th request. Hashing `n` spreads the kinds through
    /// the run instead of sending them in blocks.
    fn pick(&self, n: u64) -> Call {
        let total: u32 = self.weights.iter().sum();
        let mut r = ((n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) % u64::from(total)) as u32;
        for call in Call::ALL {
            let weight = self.weights[call.index()];
            if r < weight {
                return call;
            }
            r -= weight;
        }
        unreachable!("r < total")
    }
}

/// What the calls go to: HTTP/2 connections to one server, and the account
/// (and for GetTicket, the ticket) they name.
pub struct Target {
    pub channels: Vec<Channel>,
    bearer: Bearer,
    pub account: String,
    pub ticket: String,
    /// Request ids are this plus a sequence number: unique, without a random
    /// number (a system call) per call.
    request_prefix: String,
    sequence: AtomicU64,
    first_error: AtomicBool,
}

impl Target {
    /// Opens `connections` HTTP/2 connections to `url`, and makes sure the
    /// account exists (Business plan: every channel, the common case) and has
    /// a ticket for GetTicket.
    pub async fn connect(
        url: &str,
        token: &str,
        connections: usize,
        account: &str,
    ) -> anyhow::Result<Self> {
        let bearer = Bearer::new(token)?;
        let mut channels = Vec::with_capacity(connections);
        for _ in 0..connections.max(1) {
            // Each connect() is its own TCP connection.
            channels.push(Channel::from_shared(url.to_owned())?.connect().await?);
        }
        let mut tickets = ticket_client(channels[0].clone(), bearer.clone());
        let created = tickets
            .create_account(pb::CreateAccountRequest {
                account_id: account.to_owned(),
                account: Some(pb::Account {
                    display_name: "Load client".into(),
                    plan: pb::Plan::Business.into(),
                    ..Default::default()
                }),
            })
            .await;
        match created {
            Ok(_) => {}
            Err(status) if status.code() == tonic::Code::AlreadyExists => {}
            Err(status) => anyhow::bail!("cannot create account {account}: {status:?}"),
        }
        let ticket = tickets
            .create_ticket(chat_ticket(
                account,
                &format!("bench-{}", uuid::Uuid::new_v4()),
            ))
            .await?
            .into_inner()
            .ticket
            .ok_or_else(|| anyhow::anyhow!("CreateTicket answered without a ticket"))?;
        Ok(Self {
            channels,
            bearer,
            account: account.to_owned(),
            ticket: ticket.name,
            request_prefix: format!("bench-{}", uuid::Uuid::new_v4().simple()),
            sequence: AtomicU64::new(0),
            first_error: AtomicBool::new(false),
        })
    }

    async fn send(&self, call: Call, n: u64) -> bool {
        let channel = self.channels[n as usize % self.channels.len()].clone();
        let result = match call {
            Call::Create => ticket_client(channel, self.bearer.clone())
                .create_ticket(chat_ticket(
                    &self.account,
                    &format!(
                        "{}-{}",
                        self.request_prefix,
                        self.sequence.fetch_add(1, Ordering::Relaxed)
                    ),
                ))
                .await
                .map(drop),
            Call::Classify => policy_client(channel, self.bearer.clone())
                .classify_priority(pb::ClassifyPriorityRequest {
                    impact: Some(impact()),
                })
                .await
                .map(drop),
            Call::Get => ticket_client(channel, self.bearer.clone())
                .get_ticket(pb::GetTicketRequest {
                    name: self.ticket.clone(),
                })
                .await
                .map(drop),
        };
        match result {
            Ok(()) => true,
            Err(status) => {
                // One is enough to tell what is wrong; the count says how often.
                if !self.first_error.swap(true, Ordering::Relaxed) {
                    eprintln!("first error ({}): {status:?}", call.name());
                }
                false
            }
        }
    }
}

pub fn chat_ticket(account: &str, request_id: &str) -> pb::CreateTicketRequest {
    pb::CreateTicketRequest {
        account: format!("accounts/{account}"),
        origin: Some(pb::create_ticket_request::Origin::Chat(pb::ChatSession {
            chat_session_id: "bench-chat".into(),
            transcript_uri: String::new(),
            first_message: "The webinar stream keeps freezing".into(),
        })),
        subject: "Webinar stream freezes".into(),
        description: String::new(),
        impact: Some(impact()),
        request_id: request_id.to_owned(),
    }
}

fn impact() -> pb::Impact {
    pb::Impact {
        kind: pb::RequestKind::Problem.into(),
        scope: pb::ImpactScope::Degraded.into(),
        workaround: pb::Workaround::Partial.into(),
    }
}

/// Latencies (µs) and failures, per call kind.
#[derive(Debug, Default)]
pub struct Samples {
    latencies_us: [Vec<u32>; 3],
    errors: [u64; 3],
    /// Open loop only: calls not sent because `max_in_flight` were already
    /// waiting. Any at all means the rate was beyond what the server takes.
    pub skipped: u64,
}

impl Samples {
    fn record(&mut self, call: Call, latency: Duration, ok: bool) {
        if ok {
            let us = u32::try_from(latency.as_micros()).unwrap_or(u32::MAX);
            self.latencies_us[call.index()].push(us);
        } else {
            self.errors[call.index()] += 1;
        }
    }

    fn merge(&mut self, other: Samples) {
        for call in Call::ALL {
            self.latencies_us[call.index()].extend(&other.latencies_us[call.index()]);
            self.errors[call.index()] += other.errors[call.index()];
        }
        self.skipped += other.skipped;
    }
}

/// One measured run.
#[derive(Debug)]
pub struct Report {
    samples: Samples,
    pub elapsed: Duration,
}

impl Report {
    fn new(mut samples: Samples, elapsed: Duration) -> Self {
        for latencies in &mut samples.latencies_us {
            latencies.sort_unstable();
        }
        Self { samples, elapsed }
    }

    pub fn ok(&self, call: Call) -> u64 {
        self.samples.latencies_us[call.index()].len() as u64
    }

    pub fn errors(&self, call: Call) -> u64 {
        self.samples.errors[call.index()]
    }

    pub fn skipped(&self) -> u64 {
        self.samples.skipped
    }

    /// Answered calls per second.
    pub fn rps(&self, call: Call) -> f64 {
        self.ok(call) as f64 / self.elapsed.as_secs_f64()
    }

    pub fn percentile_ms(&self, call: Call, p: f64) -> f64 {
        percentile_ms(&self.samples.latencies_us[call.index()], p)
    }
}

/// `p` in 0..=1 of sorted microseconds, in milliseconds (nearest rank).
pub fn percentile_ms(sorted_us: &[u32], p: f64) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    let rank = ((sorted_us.len() as f64 * p).ceil() as usize).clamp(1, sorted_us.len());
    f64::from(sorted_us[rank - 1]) / 1000.0
}

/// When a closed-loop run ends.
#[derive(Debug, Clone, Copy)]
pub enum Stop {
    After(Duration),
    /// After this many calls in all, however long they take: fixed work, for
    /// counting instructions per call under a profiler.
    Calls(u64),
}

/// `concurrency` clients, each sending its next call as soon as the last is
/// answered, spread round-robin over the target's connections.
pub async fn closed_loop(target: &Arc<Target>, mix: Mix, concurrency: usize, stop: Stop) -> Report {
    let started = Instant::now();
    let issued = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let target = Arc::clone(target);
            let issued = Arc::clone(&issued);
            tokio::spawn(async move {
                let mut samples = Samples::default();
                loop {
                    let n = issued.fetch_add(1, Ordering::Relaxed);
                    let more = match stop {
                        Stop::After(duration) => started.elapsed() < duration,
                        Stop::Calls(calls) => n < calls,
                    };
                    if !more {
                        return samples;
                    }
                    let call = mix.pick(n);
                    let sent = Instant::now();
                    let ok = target.send(call, n).await;
                    samples.record(call, sent.elapsed(), ok);
                }
            })
        })
        .collect();
    let mut samples = Samples::default();
    for worker in workers {
        samples.merge(worker.await.expect("load worker panicked"));
    }
    Report::new(samples, started.elapsed())
}

/// Calls leave at `rate` per second on average, with exponential gaps
/// (Poisson arrivals, as independent customers produce and as `pgbench -R`
/// schedules). Each call's latency is measured from the moment it was due to
/// leave, so time spent waiting for the client's own timer or for a
/// connection counts against the server, as a customer would see it.
pub async fn open_loop(
    target: &Arc<Target>,
    mix: Mix,
    rate: f64,
    max_in_flight: usize,
    duration: Duration,
) -> Report {
    let started = Instant::now();
    let in_flight = Arc::new(Semaphore::new(max_in_flight));
    let (tx, mut rx) = mpsc::unbounded_channel::<(Call, Duration, bool)>();
    let mut samples = Samples::default();
    let mut random = XorShift(0x2545_F491_4F6C_DD1D);
    let mut due = Duration::ZERO;
    let mut n = 0u64;
    loop {
        due += Duration::from_secs_f64(random.exponential() / rate);
        if due >= duration {
            break;
        }
        let at = started + due;
        tokio::time::sleep_until(at.into()).await;
        // Collect as we go so the results do not pile up in the channel.
        while let Ok((call, latency, ok)) = rx.try_recv() {
            samples.record(call, latency, ok);
        }
        let Ok(permit) = Arc::clone(&in_flight).try_acquire_owned() else {
            samples.skipped += 1;
            continue;
        };
        let call = mix.pick(n);
        let target = Arc::clone(target);
        let tx = tx.clone();
        let send_n = n;
        tokio::spawn(async move {
            let ok = target.send(call, send_n).await;
            let _ = tx.send((call, at.elapsed(), ok));
            drop(permit);
        });
        n += 1;
    }
    drop(tx);
    // The stragglers still count; the rate is over the schedule's length.
    while let Some((call, latency, ok)) = rx.recv().await {
        samples.record(call, latency, ok);
    }
    Report::new(samples, duration)
}

/// xorshift64*: enough randomness for arrival gaps, without a dependency.
struct XorShift(u64);

impl XorShift {
    fn next_unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let bits = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
        // In (0, 1]: never 0, so the logarithm below is finite.
        (bits as f64 + 1.0) / (1u64 << 53) as f64
    }

    /// Exponentially distributed with mean 1.
    fn exponential(&mut self) -> f64 {
        -self.next_unit().ln()
    }
}
