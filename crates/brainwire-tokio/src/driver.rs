//! The task behind a brain-side agent connection, for either protocol: drain what the
//! sans-IO session has to send, hand its events to the application through a bounded
//! channel, carry out the application's requests, and read the socket only while the
//! application keeps up.

use std::sync::Arc;
use std::time::{Duration, Instant};

use brainwire_close::{CloseFrame, StandardCode};
use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Error as WsError;

use crate::brain::{ConnectionClosed, ConnectionReport};
use crate::log::{debug, warn_event, ConnectionSpan};
use crate::stats::Stats;
use crate::tap::{FrameDirection, FrameTap};
use crate::ws::{close_message, send_within, text, Incoming, MessageSocket};

/// A brain-side sans-IO session as the driver sees it: v2's and v1's `BrainSession`.
pub(crate) trait DrivenSession: Send + 'static {
    /// What the session reports to the application.
    type Event: Send + 'static;
    /// What the application asks of the session (besides closing).
    type Request: Send + 'static;

    fn poll_transmit(&mut self) -> Option<Bytes>;
    fn poll_event(&mut self) -> Option<Self::Event>;
    /// The close frame the session decided on, if any (logged by the implementation).
    fn poll_close(&mut self) -> Option<CloseFrame>;
    fn poll_timeout(&self) -> Option<Instant>;
    fn handle_message(&mut self, now: Instant, bytes: &[u8]);
    fn handle_timeout(&mut self, now: Instant);
    fn handle_request(&mut self, request: Self::Request);
    /// Called with each event before it goes to the application (to record ids).
    fn observe(&self, event: &Self::Event, span: &ConnectionSpan, report: &mut ConnectionReport);
}

/// A request of the application: one of the session's, or a close.
enum Request<R> {
    Session(R),
    Close(CloseFrame),
}

/// The task behind one connection.
struct ConnectionDriver<S: DrivenSession> {
    span: ConnectionSpan,
    stats: Arc<Stats>,
    session: S,
    events: mpsc::Sender<S::Event>,
    requests: mpsc::Receiver<Request<S::Request>>,
    write_timeout: Duration,
    tap: Option<FrameTap>,
    report: ConnectionReport,
}

impl<S: DrivenSession> ConnectionDriver<S> {
    /// Drives the connection to its end, `first` (a frame read before the session
    /// existed, to tell the protocol) fed first.
    async fn run<W: MessageSocket>(mut self, socket: W, first: Option<Bytes>) -> ConnectionReport {
        let stats = Arc::clone(&self.stats);
        if let Some(first) = first {
            self.received(&first);
        }
        let report = self.drive(socket).await;
        stats.closed(report.close_code);
        report
    }

    fn received(&mut self, bytes: &Bytes) {
        self.report.frames_in += 1;
        self.report.bytes_in += bytes.len() as u64;
        self.stats.received(bytes.len());
        if let Some(tap) = &self.tap {
            tap.see(FrameDirection::Received, bytes);
        }
        self.session.handle_message(Instant::now(), bytes);
    }

    async fn drive<W: MessageSocket>(mut self, mut socket: W) -> ConnectionReport {
        loop {
            while let Some(frame) = self.session.poll_transmit() {
                self.report.frames_out += 1;
                self.report.bytes_out += frame.len() as u64;
                self.stats.sent(frame.len());
                if let Some(tap) = &self.tap {
                    tap.see(FrameDirection::Sent, &frame);
                }
                if send_within(&mut socket, text(frame), self.write_timeout)
                    .await
                    .is_err()
                {
                    warn_event!("an agent stopped reading; dropping its connection");
                    return self.report;
                }
            }
            while let Some(event) = self.session.poll_event() {
                self.session.observe(&event, &self.span, &mut self.report);
                // The application reads at its pace; a closed receiver means it lost
                // interest, and the connection goes on without it.
                let _ = self.events.send(event).await;
            }
            if let Some(frame) = self.session.poll_close() {
                return self.close(&mut socket, frame).await;
            }
            let wake = self
                .session
                .poll_timeout()
                .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
            tokio::select! {
                message = socket.next() => match message {
                    Some(Ok(message)) => match Incoming::of(message) {
                        Incoming::Frame(bytes) => self.received(&bytes),
                        Incoming::Closed(code) => {
                            self.report.close_code = code;
                            return self.report;
                        }
                        Incoming::Ignore => {}
                    },
                    Some(Err(WsError::Capacity(_))) => {
                        let too_big = CloseFrame::new(StandardCode::MessageTooBig, "message too big");
                        return self.close(&mut socket, too_big).await;
                    }
                    Some(Err(_)) | None => return self.report,
                },
                () = tokio::time::sleep_until(wake.into()) => self.session.handle_timeout(Instant::now()),
                request = self.requests.recv() => match request {
                    Some(Request::Session(request)) => self.session.handle_request(request),
                    Some(Request::Close(frame)) => return self.close(&mut socket, frame).await,
                    // The application dropped its handle: nobody will read or answer.
                    None => {
                        let gone = CloseFrame::new(StandardCode::GoingAway, "brain going away");
                        return self.close(&mut socket, gone).await;
                    }
                },
            }
        }
    }

    /// Sends `frame` (within the write timeout) and ends the connection.
    async fn close<W: MessageSocket>(
        mut self,
        socket: &mut W,
        frame: CloseFrame,
    ) -> ConnectionReport {
        debug!(code = frame.code(), "agent connection closing");
        self.report.close_code = Some(frame.code());
        let _ = send_within(socket, close_message(&frame), self.write_timeout).await;
        self.report
    }
}

/// The application's side of a spawned [`ConnectionDriver`]: its events, its requests,
/// its end. `AgentConnection` (v2) and `V1AgentConnection` wrap one each.
pub(crate) struct ConnectionHandle<S: DrivenSession> {
    events: mpsc::Receiver<S::Event>,
    requests: mpsc::Sender<Request<S::Request>>,
    driver: tokio::task::JoinHandle<ConnectionReport>,
}

impl<S: DrivenSession> std::fmt::Debug for ConnectionHandle<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionHandle")
            .field("ended", &self.driver.is_finished())
            .finish_non_exhaustive()
    }
}

impl<S: DrivenSession> ConnectionHandle<S> {
    /// Spawns the driver of `session` over `socket` (`first` fed first) with the limits
    /// of `options`, inside `span`.
    pub(crate) fn spawn<W: MessageSocket>(
        session: S,
        socket: W,
        first: Option<Bytes>,
        span: ConnectionSpan,
        options: &crate::brain::BrainOptions,
    ) -> Self {
        let (events_tx, events) = mpsc::channel(options.event_queue.max(1));
        let (requests, requests_rx) = mpsc::channel(64);
        options.stats.opened();
        let driver = ConnectionDriver {
            span: span.clone(),
            stats: Arc::clone(&options.stats),
            session,
            events: events_tx,
            requests: requests_rx,
            write_timeout: options.write_timeout,
            tap: options.frame_tap.clone(),
            report: ConnectionReport::default(),
        };
        let driver = tokio::spawn(span.instrument(driver.run(socket, first)));
        Self {
            events,
            requests,
            driver,
        }
    }

    /// The next event; `None` once the connection has ended.
    pub(crate) async fn next_event(&mut self) -> Option<S::Event> {
        self.events.recv().await
    }

    /// Hands `request` to the session.
    pub(crate) async fn request(&self, request: S::Request) -> Result<(), ConnectionClosed> {
        self.requests
            .send(Request::Session(request))
            .await
            .map_err(|_| ConnectionClosed)
    }

    /// Hands the request `make` builds around a reply channel to the session, and waits
    /// for the reply.
    pub(crate) async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> S::Request,
    ) -> Result<T, ConnectionClosed> {
        let (reply, answer) = oneshot::channel();
        self.request(make(reply)).await?;
        answer.await.map_err(|_| ConnectionClosed)
    }

    /// Closes the connection with `frame` and reports it.
    pub(crate) async fn close(self, frame: CloseFrame) -> ConnectionReport {
        let _ = self.requests.send(Request::Close(frame)).await;
        self.finished().await
    }

    /// Waits for the connection to end and reports it.
    pub(crate) async fn finished(self) -> ConnectionReport {
        drop(self.events);
        self.driver.await.unwrap_or_default()
    }
}
