//! The connecting party's side: send `auth.request`, wait for the answer.

use std::time::Instant;

use crate::link::{Core, Phase};
use crate::{AuthRequest, Event, Message, SessionConfig, SessionError};

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
/// client.handle_message(now, &success);
/// assert_eq!(client.poll_event(), Some(Event::Authenticated { connection_id: "conn-1".into(), org_public_alias: None }));
/// assert!(client.poll_close().is_none());
/// ```
pub struct Client {
    core: Core,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("phase", &self.core.phase)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client that authenticates with `request`, starting at `now`.
    pub fn new(now: Instant, request: AuthRequest, config: SessionConfig) -> Self {
        let mut core = Core::new(now, config);
        core.send(&Message::AuthRequest(request));
        Self { core }
    }

    /// Handles one received message; a fatal error is returned for `handle_message` to
    /// record.
    fn receive(&mut self, now: Instant, bytes: &[u8]) -> Result<(), SessionError> {
        match self.core.phase {
            Phase::Closed => Ok(()),
            Phase::Handshaking { .. } => {
                let message = match crate::decode_with(bytes, &self.core.config.limits) {
                    Ok(message) => message,
                    Err(e) => return Err(SessionError::Decode(e)),
                };
                match message {
                    Message::AuthSuccess(success) => {
                        self.core.open(now);
                        self.core.events.push_back(Event::Authenticated {
                            connection_id: success.connection_id,
                            org_public_alias: success.org_public_alias,
                        });
                        Ok(())
                    }
                    Message::AuthFailure(failure) => Err(SessionError::AuthFailed {
                        reason: failure.reason,
                    }),
                    other => Err(SessionError::Unexpected {
                        message_type: other.message_type().into(),
                    }),
                }
            }
            Phase::Authenticated => self.core.handle_authenticated(now, bytes),
        }
    }

    crate::link::shared_link_methods!();
}
