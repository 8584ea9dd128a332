//! The connecting party's side: send `auth.request`, wait for the answer.

use std::time::Instant;

use crate::link::Core;
use crate::{AuthRequest, Event, Message, SessionConfig, SessionError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    AwaitingAnswer { deadline: Instant },
    Authenticated,
    Closed,
}

/// The client of document 002 (an orchestrator towards the platform, or an agent towards
/// an orchestrator), without I/O.
///
/// [`new`](Self::new) queues the `auth.request`. Feed every received message to
/// [`handle_message`](Self::handle_message) and call [`handle_timeout`](Self::handle_timeout)
/// at [`poll_timeout`](Self::poll_timeout); after each, drain
/// [`poll_transmit`](Self::poll_transmit), [`poll_event`](Self::poll_event) and
/// [`poll_close`](Self::poll_close).
///
/// ```
/// use std::time::Instant;
/// use brainwire_auth::{encode, AuthRequest, AuthSuccess, Client, Event, Message, SessionConfig, Token};
///
/// let now = Instant::now();
/// let request = AuthRequest::new(Token::new("api-key").unwrap(), 1);
/// let mut client = Client::new(now, request, SessionConfig::default());
/// let first = client.poll_transmit().unwrap();
/// assert!(first.starts_with(br#"{"type":"auth.request","#));
///
/// let success = encode(&Message::AuthSuccess(AuthSuccess::new("conn-1")));
/// client.handle_message(now, &success)?;
/// assert_eq!(client.poll_event(), Some(Event::Authenticated { connection_id: "conn-1".into(), org_public_alias: None }));
/// # Ok::<(), brainwire_auth::SessionError>(())
/// ```
pub struct Client {
    core: Core,
    state: State,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client that authenticates with `request`, starting at `now`.
    pub fn new(now: Instant, request: AuthRequest, config: SessionConfig) -> Self {
        let deadline = now + config.handshake_timeout;
        let mut core = Core::new(config);
        core.send(&Message::AuthRequest(request));
        Self {
            core,
            state: State::AwaitingAnswer { deadline },
        }
    }

    /// Whether `auth.success` arrived and the connection is still open.
    pub fn is_authenticated(&self) -> bool {
        self.state == State::Authenticated
    }

    /// Feeds a message received at `now`.
    ///
    /// # Errors
    ///
    /// A [`SessionError`] that ends the connection (including [`SessionError::AuthFailed`]).
    pub fn handle_message(&mut self, now: Instant, bytes: &[u8]) -> Result<(), SessionError> {
        match self.state {
            State::Closed => Err(SessionError::Unexpected {
                message_type: "any message after close".into(),
            }),
            State::AwaitingAnswer { .. } => {
                let message = match crate::decode_with(bytes, &self.core.config.limits) {
                    Ok(message) => message,
                    Err(e) => return Err(self.fail(SessionError::Decode(e))),
                };
                match message {
                    Message::AuthSuccess(success) => {
                        self.state = State::Authenticated;
                        self.core.open(now);
                        self.core.events.push_back(Event::Authenticated {
                            connection_id: success.connection_id,
                            org_public_alias: success.org_public_alias,
                        });
                        Ok(())
                    }
                    Message::AuthFailure(failure) => Err(self.fail(SessionError::AuthFailed {
                        reason: failure.reason,
                    })),
                    other => Err(self.fail(SessionError::Unexpected {
                        message_type: other.message_type().into(),
                    })),
                }
            }
            State::Authenticated => match self.core.handle_established(now, bytes) {
                Ok(None) => Ok(()),
                Ok(Some(auth)) => Err(self.fail(SessionError::Unexpected {
                    message_type: auth.message_type().into(),
                })),
                Err(e) => {
                    self.state = State::Closed;
                    Err(e)
                }
            },
        }
    }

    /// Runs timers due at `now`: the handshake deadline, heartbeats, liveness, ack waits.
    pub fn handle_timeout(&mut self, now: Instant) {
        match self.state {
            State::AwaitingAnswer { deadline } if now >= deadline => {
                let _ = self.fail(SessionError::HandshakeTimeout);
            }
            State::Authenticated => {
                self.core.on_timeout(now);
                if self.core.close.is_some() {
                    self.state = State::Closed;
                }
            }
            _ => {}
        }
    }

    crate::link::shared_link_methods!();

    /// When [`handle_timeout`](Self::handle_timeout) should next run.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            State::AwaitingAnswer { deadline } => Some(deadline),
            State::Authenticated => self.core.next_timeout(),
            State::Closed => None,
        }
    }

    fn fail(&mut self, error: SessionError) -> SessionError {
        self.state = State::Closed;
        self.core.fail(error)
    }
}
